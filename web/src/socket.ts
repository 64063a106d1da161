// The one module that owns the Socket.IO client. The socket is opened after login (on the page's
// own origin, so the session cookie authenticates the handshake) and closed on logout or expiry.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from './types';

export type ParleySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** How long an emit waits for its ack before the UI calls it failed. */
export const ACK_TIMEOUT_MS = 10_000;

let socket: ParleySocket | null = null;

export function openSocket(): ParleySocket {
  socket ??= io({ path: '/socket.io/', withCredentials: true });
  return socket;
}

export function getSocket(): ParleySocket | null {
  return socket;
}

export function closeSocket(): void {
  if (!socket) return;
  socket.removeAllListeners();
  socket.disconnect();
  socket = null;
}
