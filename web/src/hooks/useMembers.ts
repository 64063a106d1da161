import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import { errorText } from '../errors';
import { useSocket } from '../realtime/SocketProvider';
import type { Member, Role } from '../types';
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

/** The members of `room` while `shown`, kept live by `member` events. */
export function useMembers(room: string, shown: boolean): Members {
  const socket = useSocket();
  const [state, setState] = useState<{ room: string; members: Member[] | null; error: string | null }>({
    room,
    members: null,
    error: null,
  });
  const current = state.room === room ? state : { room, members: null, error: null };

  useEffect(() => {
    if (!shown) return;
    let active = true;
    api.members(room).then(
      (members) => active && setState({ room, members: sorted(members), error: null }),
      (failure: unknown) => active && setState({ room, members: null, error: errorText(failure) }),
    );
    return () => {
      active = false;
    };
  }, [room, shown]);

  const upsert = useCallback(
    (username: string, role: Role | null) =>
      setState((previous) => {
        if (previous.room !== room || previous.members === null) return previous;
        const others = previous.members.filter((member) => !same(member.username, username));
        if (role === null) return { ...previous, members: others };
        const known = previous.members.find((member) => same(member.username, username));
        return { ...previous, members: sorted([...others, { username, role, online: known?.online ?? false }]) };
      }),
    [room],
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

  return { members: current.members, error: current.error, add, remove, setRole };
}
