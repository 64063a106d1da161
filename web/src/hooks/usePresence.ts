import { useMemo, useState } from 'react';
import { useAuth } from '../auth/AuthProvider';
import { useSocket } from '../realtime/SocketProvider';
import type { PresenceEvent } from '../types';
import { useSocketEvent } from './useSocketEvent';

/** Who is in `room`, from the server's `presence` events, sorted by name. */
export function usePresence(room: string, joined: boolean): string[] {
  const socket = useSocket();
  const { username } = useAuth();
  const [presence, setPresence] = useState<PresenceEvent>({ room, users: [] });

  useSocketEvent(socket, 'presence', (event) => {
    if (event.room === room) setPresence({ room: event.room, users: event.users });
  });

  return useMemo(() => {
    const users = new Set(presence.room === room ? presence.users : []);
    // Having joined, this user is in the room even before the first presence event says so.
    if (joined && username && ![...users].some((name) => name.toLowerCase() === username.toLowerCase())) {
      users.add(username);
    }
    return [...users].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }));
  }, [presence, room, joined, username]);
}
