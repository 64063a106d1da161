import { useEffect, useLayoutEffect, useRef } from 'react';
import type { ParleySocket, SocketEvents } from '../socket';

type Listener<E extends keyof SocketEvents> = (...args: Parameters<SocketEvents[E]>) => void;

/**
 * Calls `handler` on each `event` of `socket` while the component is mounted (nothing while
 * `socket` is null). The listener is registered once per socket and event and calls the handler
 * of the latest render, so the handler need not be memoised.
 */
export function useSocketEvent<E extends keyof SocketEvents>(
  socket: ParleySocket | null,
  event: E,
  handler: Listener<E>,
): void {
  const latest = useRef(handler);
  // A layout effect runs before the effects of the same render, so replies to what those
  // effects emit already reach this render's handler.
  useLayoutEffect(() => {
    latest.current = handler;
  });

  useEffect(() => {
    if (!socket) return;
    const listener: Listener<E> = (...args) => latest.current(...args);
    // The socket's own typing cannot relate a generic event name to its listener.
    const emitter = socket as unknown as Emitter<E>;
    emitter.on(event, listener);
    return () => {
      emitter.off(event, listener);
    };
  }, [socket, event]);
}

interface Emitter<E extends keyof SocketEvents> {
  on(event: E, listener: Listener<E>): unknown;
  off(event: E, listener: Listener<E>): unknown;
}
