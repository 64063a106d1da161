import { useCallback, useEffect, useRef, useState } from 'react';
import { useAuth } from '../auth/AuthProvider';
import { useSocket } from '../realtime/SocketProvider';
import type { Message, TypingEvent } from '../types';

/** At most one `typing` event per this interval while the user types. */
export const TYPING_THROTTLE_MS = 2_000;
/** A typist disappears after this long without a `typing` event. */
export const TYPING_VISIBLE_MS = 3_000;

export interface Typing {
  /** Others typing in the room, in the order they started. */
  typists: string[];
  /** Call on each keystroke; emits `typing` at most every TYPING_THROTTLE_MS. */
  notifyTyping(): void;
}

export function useTyping(room: string): Typing {
  const socket = useSocket();
  const { username } = useAuth();
  const [typing, setTyping] = useState<{ room: string; typists: string[] }>({ room, typists: [] });
  const lastSent = useRef(0);

  useEffect(() => {
    if (!socket) return;
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    const remove = (name: string) => {
      clearTimeout(timers.get(name));
      timers.delete(name);
      setTyping((current) =>
        current.typists.includes(name) ? { room, typists: current.typists.filter((typist) => typist !== name) } : current,
      );
    };
    const onTyping = (event: TypingEvent) => {
      if (event.room !== room || event.username === username) return;
      clearTimeout(timers.get(event.username));
      timers.set(event.username, setTimeout(() => remove(event.username), TYPING_VISIBLE_MS));
      setTyping((current) => {
        const typists = current.room === room ? current.typists : [];
        return typists.includes(event.username) ? current : { room, typists: [...typists, event.username] };
      });
    };
    // Someone whose message arrived has stopped typing it.
    const onMessage = (message: Message) => {
      if (message.room === room && timers.has(message.username)) remove(message.username);
    };
    socket.on('typing', onTyping);
    socket.on('message', onMessage);
    return () => {
      socket.off('typing', onTyping);
      socket.off('message', onMessage);
      for (const timer of timers.values()) clearTimeout(timer);
      setTyping({ room, typists: [] });
    };
  }, [socket, room, username]);

  const notifyTyping = useCallback(() => {
    const now = Date.now();
    if (!socket?.connected || now - lastSent.current < TYPING_THROTTLE_MS) return;
    lastSent.current = now;
    socket.emit('typing', { room });
  }, [socket, room]);

  return { typists: typing.room === room ? typing.typists : [], notifyTyping };
}
