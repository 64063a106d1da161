import { useEffect, useState } from 'react';
import { useSocket } from '../realtime/SocketProvider';
import type { ParleySocket } from '../socket';
import { useSocketEvent } from './useSocketEvent';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting';

const statusOf = (socket: ParleySocket | null): ConnectionStatus => (socket?.connected ? 'connected' : 'connecting');

/** `reconnecting` once a socket that was connected has dropped, until it is back. */
export function useConnectionStatus(): ConnectionStatus {
  const socket = useSocket();
  const [tracked, setTracked] = useState(() => ({ socket, status: statusOf(socket) }));
  if (tracked.socket !== socket) setTracked({ socket, status: statusOf(socket) });

  useSocketEvent(socket, 'connect', () => setTracked((current) => ({ ...current, status: 'connected' })));
  // `connecting` means the socket never was connected: it is not reconnecting.
  useSocketEvent(socket, 'disconnect', () =>
    setTracked((current) => ({ ...current, status: current.status === 'connecting' ? 'connecting' : 'reconnecting' })),
  );

  // The socket may have connected between the render that read its state and the effect that
  // put the listeners on (a busy page): read it again once they are on, or that `connect` is
  // missed and a later drop is never shown as reconnecting.
  useEffect(() => {
    if (socket?.connected) {
      // Syncing with an outside object's state once subscribed is what this rule allows for.
      // eslint-disable-next-line react-hooks/set-state-in-effect
      setTracked((current) =>
        current.socket === socket && current.status === 'connecting' ? { ...current, status: 'connected' } : current,
      );
    }
  }, [socket]);

  return tracked.socket === socket ? tracked.status : statusOf(socket);
}
