import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useAuth } from '../auth/AuthProvider';
import { closeSocket, openSocket, type ParleySocket } from '../socket';

/**
 * The signed-in user's socket, or null while signed out. Components reach it through
 * `useSocket()`; unit tests hand in a fake through the `socket` prop instead of a network.
 */
export const SocketContext = createContext<ParleySocket | null>(null);

export function useSocket(): ParleySocket | null {
  return useContext(SocketContext);
}

export function SocketProvider({ children, socket: injected }: { children: ReactNode; socket?: ParleySocket }) {
  const { username, expire } = useAuth();
  const [socket, setSocket] = useState<ParleySocket | null>(null);

  useEffect(() => {
    if (!username) return;
    const current = injected ?? openSocket();
    // The handshake is refused with `unauthorized` once the session is gone (expired while the
    // socket was reconnecting, or Redis was flushed): the same rule as an HTTP 401.
    const onConnectError = (error: Error) => {
      if (error.message === 'unauthorized') expire();
    };
    current.on('session_expired', expire);
    current.on('connect_error', onConnectError);
    setSocket(current);
    return () => {
      current.off('session_expired', expire);
      current.off('connect_error', onConnectError);
      setSocket(null);
      if (!injected) closeSocket();
    };
  }, [username, injected, expire]);

  return <SocketContext.Provider value={username ? socket : null}>{children}</SocketContext.Provider>;
}
