import { useMemo, useState } from 'react';
import { useAuth } from '../auth/AuthProvider';
import { useSocket } from '../realtime/SocketProvider';
import type { PresenceEvent } from '../types';
import { useSocketEvent } from './useSocketEvent';

export interface RoomPresence {
  /** Who is in the room, sorted by name. */
  users: string[];
  /** A presence event for the room has arrived: `users` is the server's word, not a guess. */
  known: boolean;
}

/** Who is in `room`, from the server's `presence` events. */
export function useRoomPresence(room: string, joined: boolean): RoomPresence {
  const socket = useSocket();
  const { username } = useAuth();
  const [presence, setPresence] = useState<PresenceEvent | null>(null);

  useSocketEvent(socket, 'presence', (event) => {
    if (event.room === room) setPresence({ room: event.room, users: event.users });
  });

  return useMemo(() => {
    const known = presence !== null && presence.room === room;
    const users = new Set(known ? presence.users : []);
    // Having joined, this user is in the room even before the first presence event says so.
    if (joined && username && ![...users].some((name) => name.toLowerCase() === username.toLowerCase())) {
      users.add(username);
    }
    return { users: [...users].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' })), known };
  }, [presence, room, joined, username]);
}

/** Who is in `room`, sorted by name. */
export function usePresence(room: string, joined: boolean): string[] {
  return useRoomPresence(room, joined).users;
}
