import { useCallback, useEffect, useRef, useState } from 'react';
import { useAuth } from '../auth/AuthProvider';
import { useSocket } from '../realtime/SocketProvider';
import { useSocketEvent } from './useSocketEvent';

/** At most one `typing` event per this interval while the user types. */
export const TYPING_THROTTLE_MS = 2_000;
/** A typist disappears after this long without a `typing` event. */
export const TYPING_VISIBLE_MS = 3_000;

export interface Typing {
  /** Others typing in the room, in the order they started. */
  typists: string[];
  /** Call on each keystroke; emits `typing` at most every TYPING_THROTTLE_MS. */
  notifyTyping: () => void;
}

export function useTyping(room: string): Typing {
  const socket = useSocket();
  const { username } = useAuth();
  const [typing, setTyping] = useState<{ room: string; typists: string[] }>({ room, typists: [] });
  const lastSent = useRef(0);
  // When each typist of the current room disappears.
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
      setTyping({ room, typists: [] });
    };
  }, [socket, room, username]);

  const remove = (name: string) => {
    clearTimeout(timers.current.get(name));
    timers.current.delete(name);
    setTyping((current) =>
      current.typists.includes(name) ? { room, typists: current.typists.filter((typist) => typist !== name) } : current,
    );
  };

  useSocketEvent(socket, 'typing', (event) => {
    if (event.room !== room || event.username === username) return;
    clearTimeout(timers.current.get(event.username));
    timers.current.set(event.username, setTimeout(() => remove(event.username), TYPING_VISIBLE_MS));
    setTyping((current) => {
      const typists = current.room === room ? current.typists : [];
      return typists.includes(event.username) ? current : { room, typists: [...typists, event.username] };
    });
  });
  // Someone whose message arrived has stopped typing it.
  useSocketEvent(socket, 'message', (message) => {
    if (message.room === room && timers.current.has(message.username)) remove(message.username);
  });

  const notifyTyping = useCallback(() => {
    const now = Date.now();
    if (!socket?.connected || now - lastSent.current < TYPING_THROTTLE_MS) return;
    lastSent.current = now;
    socket.emit('typing', { room });
  }, [socket, room]);

  return { typists: typing.room === room ? typing.typists : [], notifyTyping };
}
