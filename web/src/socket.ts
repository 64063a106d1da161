// The Socket.IO client: how it connects and how long an ack may take. `SocketProvider` is the one
// owner of the socket: it opens it when a user signs in and closes it when they sign out or their
// session expires. Everything else gets it from `useSocket()` and never opens or closes it.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from './types';

export type ParleySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Every event a listener can be registered for: the server's and the client's own. */
export interface SocketEvents extends ServerToClientEvents {
  connect: () => void;
  disconnect: (reason: Socket.DisconnectReason) => void;
  /** The handshake failed; when the server refused it, `error.data.code` says why. */
  connect_error: (error: Error) => void;
}

/** How long an emit waits for its ack before the UI calls it failed. */
export const ACK_TIMEOUT_MS = 10_000;

/** A new socket on the page's own origin, so the session cookie authenticates the handshake. */
export function openSocket(): ParleySocket {
  return io({ path: '/socket.io/', withCredentials: true });
}

export function closeSocket(socket: ParleySocket): void {
  socket.removeAllListeners();
  socket.disconnect();
}
