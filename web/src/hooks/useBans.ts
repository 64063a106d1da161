import { useCallback } from 'react';
import { api } from '../api';
import type { Ban } from '../types';
import { useRoomList } from './useRoomList';

const byName = (a: Ban, b: Ban) => a.username.localeCompare(b.username, undefined, { sensitivity: 'base' });
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export interface Bans {
  bans: Ban[] | null;
  error: string | null;
  /** A ban this page just made (the list is not pushed live). */
  banned: (username: string) => void;
  unban: (username: string) => Promise<void>;
}

const loadBans = (room: string) => api.bans(room).then((bans) => [...bans].sort(byName));

/** Who is banned from `room`, for its owners and admins (`enabled`); none asked otherwise. */
export function useBans(room: string, enabled: boolean): Bans {
  const { items: bans, error, update } = useRoomList(room, enabled, loadBans);

  const change = useCallback(
    (username: string, ban: Ban | null) =>
      update((previous) => {
        const others = previous.filter((entry) => !same(entry.username, username));
        return ban ? [...others, ban].sort(byName) : others;
      }),
    [update],
  );
  const banned = useCallback(
    (username: string) => change(username, { username, bannedAt: new Date().toISOString() }),
    [change],
  );
  const unban = useCallback(
    async (username: string) => {
      await api.unban(room, username);
      change(username, null);
    },
    [room, change],
  );

  return { bans, error, banned, unban };
}
