// Changing messages of one room over the socket: edit, delete, react (docs/reference.md,
// "Socket.IO"). An ack's message is applied at once; the room gets the same state as
// `message_updated`, merged by id, so both arriving is harmless.
import { useCallback, type Dispatch } from 'react';
import { useAuth } from '../auth/AuthProvider';
import type { RoomMessagesAction } from '../lib/messages';
import { useSocket } from '../realtime/SocketProvider';
import { ACK_TIMEOUT_MS } from '../socket';
import type { ErrorCode, Message, MessageAck } from '../types';

/** A refused or unanswered change: `code` to decide on, the message to show. */
export class ActionError extends Error {
  readonly code: ErrorCode;

  constructor(message: string, code: ErrorCode) {
    super(message);
    this.name = 'ActionError';
    this.code = code;
  }
}

export interface MessageActions {
  edit: (id: string, text: string) => Promise<Message>;
  remove: (id: string) => Promise<Message>;
  react: (id: string, emoji: string, on: boolean) => Promise<Message>;
}

export function useMessageActions(room: string, dispatch: Dispatch<RoomMessagesAction>): MessageActions {
  const socket = useSocket();
  const { expire } = useAuth();

  /** The ack of one change as a promise; a success is applied to the room at once. */
  const settle = useCallback(
    (emit: (ack: (err: Error | null, reply: MessageAck) => void) => void) =>
      new Promise<Message>((resolve, reject) => {
        if (!socket?.connected) {
          reject(new ActionError('Not connected: try again once the connection is back.', 'unavailable'));
          return;
        }
        emit((err, reply) => {
          if (err) {
            reject(new ActionError('The server did not answer. Try again.', 'unavailable'));
          } else if (reply.ok) {
            dispatch({ type: 'updated', room, messages: [reply.message] });
            resolve(reply.message);
          } else {
            if (reply.code === 'unauthorized') expire();
            reject(new ActionError(reply.error, reply.code));
          }
        });
      }),
    [socket, room, dispatch, expire],
  );

  const edit = useCallback(
    (id: string, text: string) => settle((ack) => socket?.timeout(ACK_TIMEOUT_MS).emit('edit', { room, id, text }, ack)),
    [settle, socket, room],
  );
  const remove = useCallback(
    (id: string) => settle((ack) => socket?.timeout(ACK_TIMEOUT_MS).emit('delete', { room, id }, ack)),
    [settle, socket, room],
  );
  const react = useCallback(
    (id: string, emoji: string, on: boolean) =>
      settle((ack) => socket?.timeout(ACK_TIMEOUT_MS).emit('react', { room, id, emoji, on }, ack)),
    [settle, socket, room],
  );
  return { edit, remove, react };
}
