// Sending to one room without ever losing a message: each one shows at once as pending, goes out
// while the room is joined, waits for the next join otherwise, and fails (for a Retry with the
// same clientId) when refused or unanswered.
import { useCallback, useEffect, useRef, type Dispatch, type RefObject } from 'react';
import { useAuth } from '../auth/AuthProvider';
import { newClientId } from '../lib/clientId';
import type { RoomMessagesAction, RoomMessagesState } from '../lib/messages';
import { ACK_TIMEOUT_MS, type ParleySocket } from '../socket';
import type { ReplyQuote } from '../types';

export interface OutboxOptions {
  room: string;
  socket: ParleySocket | null;
  dispatch: Dispatch<RoomMessagesAction>;
  /** The room's state as last rendered: where pending messages and their text are. */
  latest: RefObject<RoomMessagesState>;
}

export interface Outbox {
  /** `replyTo`: the message it answers, quoted at once as the server will quote it. */
  send: (text: string, replyTo?: ReplyQuote | null) => void;
  /** Sends a failed message again, with its clientId. */
  retry: (clientId: string) => void;
  /** The room is joined on `socket`: send what waited, and send at once from now on. */
  joined: (socket: ParleySocket) => void;
  /** The room is no longer joined: hold messages until the next `joined`. */
  left: () => void;
}

export function useOutbox({ room, socket, dispatch, latest }: OutboxOptions): Outbox {
  const { username, expire } = useAuth();
  const joinedOn = useRef<ParleySocket | null>(null);
  const inFlight = useRef(new Set<string>());
  const queueTimers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  // Another room or socket: what was held or on its way belongs to the one before.
  useEffect(() => {
    const timers = queueTimers.current;
    const sending = inFlight.current;
    return () => {
      joinedOn.current = null;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      sending.clear();
    };
  }, [socket, room]);

  /** Holds a message until the next join; it fails if that does not come within the ack timeout. */
  const queue = useCallback(
    (clientId: string) => {
      if (queueTimers.current.has(clientId)) return;
      const timer = setTimeout(() => {
        queueTimers.current.delete(clientId);
        dispatch({ type: 'failed', room, clientId, error: 'Not connected' });
      }, ACK_TIMEOUT_MS);
      queueTimers.current.set(clientId, timer);
    },
    [room, dispatch],
  );

  const emitMessage = useCallback(
    (target: ParleySocket, clientId: string, text: string, replyTo: string | null) => {
      inFlight.current.add(clientId);
      const payload = replyTo === null ? { room, text, clientId } : { room, text, clientId, replyTo };
      target.timeout(ACK_TIMEOUT_MS).emit('message', payload, (err: Error | null, reply) => {
        if (!inFlight.current.delete(clientId)) return; // the room was left meanwhile
        if (err && !target.connected) {
          // Cut off mid-send: resent (same clientId, so never stored twice) after the rejoin.
          queue(clientId);
        } else if (err) {
          dispatch({ type: 'failed', room, clientId, error: 'No reply from the server' });
        } else if (reply.ok) {
          dispatch({ type: 'acked', room, clientId, message: reply.message });
        } else {
          dispatch({ type: 'failed', room, clientId, error: reply.error });
          if (reply.code === 'unauthorized') expire();
        }
      });
    },
    [room, dispatch, queue, expire],
  );

  const deliver = useCallback(
    (clientId: string, text: string, replyTo: string | null) => {
      const target = joinedOn.current;
      if (target?.connected) emitMessage(target, clientId, text, replyTo);
      else queue(clientId);
    },
    [emitMessage, queue],
  );

  const joined = useCallback(
    (target: ParleySocket) => {
      joinedOn.current = target;
      for (const message of latest.current.messages) {
        if (message.status !== 'pending' || message.clientId === null) continue;
        const timer = queueTimers.current.get(message.clientId);
        if (timer === undefined) continue; // already emitted, its ack is on its way
        clearTimeout(timer);
        queueTimers.current.delete(message.clientId);
        emitMessage(target, message.clientId, message.text, message.replyTo?.id ?? null);
      }
    },
    [latest, emitMessage],
  );

  const left = useCallback(() => {
    joinedOn.current = null;
  }, []);

  const send = useCallback(
    (text: string, replyTo: ReplyQuote | null = null) => {
      if (!username) return;
      const clientId = newClientId();
      dispatch({ type: 'sendStarted', room, clientId, username, text, createdAt: new Date().toISOString(), replyTo });
      deliver(clientId, text, replyTo?.id ?? null);
    },
    [room, username, dispatch, deliver],
  );

  const retry = useCallback(
    (clientId: string) => {
      const message = latest.current.messages.find((entry) => entry.clientId === clientId && entry.id === null);
      if (!message || message.status !== 'failed') return;
      // The same clientId: if the first attempt was stored after all, the server returns that
      // message instead of storing it twice.
      dispatch({ type: 'retried', room, clientId });
      deliver(clientId, message.text, message.replyTo?.id ?? null);
    },
    [room, latest, dispatch, deliver],
  );

  return { send, retry, joined, left };
}
