import { useEffect, useState } from 'react';
import { useSocket } from '../realtime/SocketProvider';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting';

/** `reconnecting` once a socket that was connected has dropped, until it is back. */
export function useConnectionStatus(): ConnectionStatus {
  const socket = useSocket();
  const [status, setStatus] = useState<ConnectionStatus>(() => (socket?.connected ? 'connected' : 'connecting'));

  useEffect(() => {
    if (!socket) return;
    let wasConnected = socket.connected;
    setStatus(socket.connected ? 'connected' : 'connecting');
    const onConnect = () => {
      wasConnected = true;
      setStatus('connected');
    };
    const onDisconnect = () => setStatus(wasConnected ? 'reconnecting' : 'connecting');
    socket.on('connect', onConnect);
    socket.on('disconnect', onDisconnect);
    return () => {
      socket.off('connect', onConnect);
      socket.off('disconnect', onDisconnect);
    };
  }, [socket]);

  return status;
}
