import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import { errorText } from '../errors';
import type { Ban } from '../types';

const byName = (a: Ban, b: Ban) => a.username.localeCompare(b.username, undefined, { sensitivity: 'base' });
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export interface Bans {
  bans: Ban[] | null;
  error: string | null;
  /** A ban this page just made (the list is not pushed live). */
  banned: (username: string) => void;
  unban: (username: string) => Promise<void>;
}

/** Who is banned from `room`, for its owners and admins (`enabled`); none asked otherwise. */
export function useBans(room: string, enabled: boolean): Bans {
  const [state, setState] = useState<{ room: string; bans: Ban[] | null; error: string | null }>({
    room,
    bans: null,
    error: null,
  });
  const current = state.room === room ? state : { room, bans: null, error: null };

  useEffect(() => {
    if (!enabled) return;
    let active = true;
    api.bans(room).then(
      (bans) => active && setState({ room, bans: [...bans].sort(byName), error: null }),
      (failure: unknown) => active && setState({ room, bans: null, error: errorText(failure) }),
    );
    return () => {
      active = false;
    };
  }, [room, enabled]);

  const change = useCallback(
    (username: string, ban: Ban | null) =>
      setState((previous) => {
        if (previous.room !== room || previous.bans === null) return previous;
        const others = previous.bans.filter((entry) => !same(entry.username, username));
        return { ...previous, bans: ban ? [...others, ban].sort(byName) : others };
      }),
    [room],
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

  return { bans: current.bans, error: current.error, banned, unban };
}
