import { useCallback } from 'react';
import { api } from '../api';
import { useSocket } from '../realtime/SocketProvider';
import type { Member, Role } from '../types';
import { useRoomList } from './useRoomList';
import { useSocketEvent } from './useSocketEvent';

const ROLE_ORDER: Record<Role, number> = { owner: 0, admin: 1, member: 2 };

function sorted(members: Member[]): Member[] {
  return [...members].sort(
    (a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.username.localeCompare(b.username, undefined, { sensitivity: 'base' }),
  );
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export interface Members {
  members: Member[] | null;
  error: string | null;
  add: (username: string) => Promise<void>;
  remove: (username: string, ban: boolean) => Promise<void>;
  setRole: (username: string, role: Role) => Promise<void>;
}

const loadMembers = (room: string) => api.members(room).then(sorted);

/** The members of `room` while `shown`, kept live by `member` events. */
export function useMembers(room: string, shown: boolean): Members {
  const socket = useSocket();
  const { items: members, error, update } = useRoomList(room, shown, loadMembers);

  const upsert = useCallback(
    (username: string, role: Role | null) =>
      update((previous) => {
        const others = previous.filter((member) => !same(member.username, username));
        if (role === null) return others;
        const known = previous.find((member) => same(member.username, username));
        return sorted([...others, { username, role, online: known?.online ?? false }]);
      }),
    [update],
  );
  useSocketEvent(socket, 'member', (event) => {
    if (event.room === room) upsert(event.username, event.role);
  });

  const add = useCallback(
    async (username: string) => {
      const added = await api.addMember(room, username);
      upsert(added.username, added.role);
    },
    [room, upsert],
  );
  const remove = useCallback(
    async (username: string, ban: boolean) => {
      await api.removeMember(room, username, ban);
      upsert(username, null);
    },
    [room, upsert],
  );
  const setRole = useCallback(
    async (username: string, role: Role) => {
      const changed = await api.setRole(room, username, role);
      upsert(changed.username, changed.role);
    },
    [room, upsert],
  );

  return { members, error, add, remove, setRole };
}
