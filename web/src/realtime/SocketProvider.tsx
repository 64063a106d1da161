import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useAuth } from '../auth/AuthProvider';
import { handshakeCode, handshakeRetryAfter } from '../errors';
import { useSocketEvent } from '../hooks/useSocketEvent';
import { closeSocket, openSocket, type ParleySocket } from '../socket';

/**
 * The signed-in user's socket, or null while signed out. Components reach it through
 * `useSocket()`; unit tests hand in a fake through the `socket` prop instead of a network.
 */
export const SocketContext = createContext<ParleySocket | null>(null);

export function useSocket(): ParleySocket | null {
  return useContext(SocketContext);
}

/**
 * The socket the provider has open. An external store rather than state: a store's change
 * re-renders at once, so every listener is on before the new socket can deliver an event.
 */
class OpenSocket {
  private socket: ParleySocket | null = null;
  private readonly subscribers = new Set<() => void>();

  readonly subscribe = (subscriber: () => void): (() => void) => {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  };

  readonly get = (): ParleySocket | null => this.socket;

  set(socket: ParleySocket | null): void {
    this.socket = socket;
    for (const subscriber of this.subscribers) subscriber();
  }
}

/** The one owner of the socket: opened when a user signs in, closed when they sign out or expire. */
export function SocketProvider({ children, socket: injected }: { children: ReactNode; socket?: ParleySocket }) {
  const { username, expire } = useAuth();
  const [open] = useState(() => new OpenSocket());
  const socket = useSyncExternalStore(open.subscribe, open.get);

  useEffect(() => {
    if (!username) return;
    const current = injected ?? openSocket();
    open.set(current);
    return () => {
      open.set(null);
      if (!injected) closeSocket(current);
    };
  }, [username, injected, open]);

  // socket.io-client gives up on a handshake the server refused (`socket.active` turns false);
  // one refused for a passing reason (Redis restarting: `unavailable`) is tried again here.
  const refusals = useRef(0);
  const retryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reconnectLater = (refused: ParleySocket, delayMs: number) => {
    clearTimeout(retryTimer.current);
    retryTimer.current = setTimeout(() => refused.connect(), delayMs);
  };
  useEffect(() => () => clearTimeout(retryTimer.current), [socket]);

  useSocketEvent(socket, 'session_expired', expire);
  // The handshake is refused as `unauthorized` once the session is gone (expired while the
  // socket was reconnecting, or Redis was flushed): the same rule as an HTTP 401.
  useSocketEvent(socket, 'connect_error', (error) => {
    const code = handshakeCode(error);
    if (code === 'unauthorized') expire();
    // A foreign origin stays foreign: nothing to retry.
    else if (code !== 'forbidden' && socket && !socket.active) {
      reconnectLater(socket, reconnectDelayMs(error, refusals.current++));
    }
  });
  useSocketEvent(socket, 'connect', () => {
    refusals.current = 0;
  });

  return <SocketContext.Provider value={username ? socket : null}>{children}</SocketContext.Provider>;
}

const MAX_RECONNECT_DELAY_MS = 30_000;

/** The server's `retryAfter` (at least a second), doubled on each refusal in a row, capped. */
export function reconnectDelayMs(error: Error, refusalsInARow: number): number {
  const base = Math.max(handshakeRetryAfter(error) ?? 1, 1) * 1000;
  return Math.min(base * 2 ** refusalsInARow, MAX_RECONNECT_DELAY_MS);
}
