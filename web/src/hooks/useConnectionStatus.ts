import { useState } from 'react';
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

  return tracked.socket === socket ? tracked.status : statusOf(socket);
}
