// Everything about one room's messages: join (and rejoin after a reconnect, catching up on what
// was missed), live messages, older history, and sending with optimistic, never-lost messages.
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { ApiError, ZERO_ULID, api } from '../api';
import { useAuth } from '../auth/AuthProvider';
import { newClientId } from '../lib/clientId';
import {
  initialRoomState,
  newestStoredId,
  oldestStoredId,
  roomMessagesReducer,
  type RoomMessagesState,
} from '../lib/messages';
import { useSocket } from '../realtime/SocketProvider';
import { ACK_TIMEOUT_MS, type ParleySocket } from '../socket';
import type { Message } from '../types';

/** The join ack carries the latest 50 messages (CONTRACT.md, "Socket.IO"). */
export const JOIN_PAGE_SIZE = 50;
const HISTORY_PAGE_SIZE = 50;
const CATCH_UP_PAGE_SIZE = 100;
const JOIN_RETRY_MS = 2_000;
const CATCH_UP_RETRY_MS = 3_000;

export interface RoomMessages extends Omit<RoomMessagesState, 'room'> {
  send(text: string): void;
  retry(clientId: string): void;
  loadOlder(): void;
}

// Leaving is deferred by a task so that an immediate re-join of the same room (React's
// StrictMode re-runs effects in development) cancels it instead of racing it on the server.
const pendingLeaves = new Set<{ socket: ParleySocket; room: string; timer: ReturnType<typeof setTimeout> }>();

function leaveSoon(socket: ParleySocket, room: string): void {
  const entry = {
    socket,
    room,
    timer: setTimeout(() => {
      pendingLeaves.delete(entry);
      if (socket.connected) socket.emit('leave', { room });
    }, 0),
  };
  pendingLeaves.add(entry);
}

function cancelLeave(socket: ParleySocket, room: string): void {
  for (const entry of pendingLeaves) {
    if (entry.socket === socket && entry.room === room) {
      clearTimeout(entry.timer);
      pendingLeaves.delete(entry);
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function useRoomMessages(room: string): RoomMessages {
  const socket = useSocket();
  const { username } = useAuth();
  const [state, dispatch] = useReducer(roomMessagesReducer, room, initialRoomState);
  // State for the current room only: until the reset below is processed, nothing of the
  // previous room shows.
  const current = state.room === room ? state : initialRoomState(room);

  // Callbacks run outside render read the latest values through refs.
  const latest = useRef(current);
  latest.current = current;
  const joinedRef = useRef(false);
  const inFlight = useRef(new Set<string>());
  const queueTimers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

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
    [room],
  );

  const emitMessage = useCallback(
    (target: ParleySocket, clientId: string, text: string) => {
      inFlight.current.add(clientId);
      target.timeout(ACK_TIMEOUT_MS).emit('message', { room, text, clientId }, (err: Error | null, reply) => {
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
        }
      });
    },
    [room, queue],
  );

  const deliver = useCallback(
    (clientId: string, text: string) => {
      if (socket && socket.connected && joinedRef.current) emitMessage(socket, clientId, text);
      else queue(clientId);
    },
    [socket, emitMessage, queue],
  );

  useEffect(() => {
    dispatch({ type: 'reset', room });
    if (!socket) return;
    cancelLeave(socket, room);
    const target = socket;
    let active = true;
    let everJoined = false;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    const timers = queueTimers.current;
    const sending = inFlight.current;

    const flushQueue = () => {
      for (const message of latest.current.messages) {
        if (message.status !== 'pending' || message.clientId === null) continue;
        const timer = timers.get(message.clientId);
        if (timer === undefined) continue; // already emitted, its ack is on its way
        clearTimeout(timer);
        timers.delete(message.clientId);
        emitMessage(target, message.clientId, message.text);
      }
    };

    // After a reconnect, the newest id seen before it: messages after it may have been missed.
    // It stays set until the catch-up has paged through to the end (`next` null), so a failed
    // or interrupted catch-up resumes where it stopped instead of leaving a gap.
    let gapFrom: string | null = null;
    let generation = 0;
    let catchUpTimer: ReturnType<typeof setTimeout> | undefined;

    const catchUp = async () => {
      const mine = ++generation;
      const current = () => active && mine === generation;
      try {
        while (gapFrom !== null && current()) {
          const page = await api.messagesAfter(room, gapFrom, CATCH_UP_PAGE_SIZE);
          if (!current()) return;
          dispatch({ type: 'received', room, messages: page.messages });
          gapFrom = page.next;
        }
        if (current()) dispatch({ type: 'synced', room });
      } catch (error) {
        if (!current() || (error instanceof ApiError && error.status === 401)) return;
        dispatch({ type: 'syncFailed', room, error: `Could not load missed messages (${errorText(error)}). Retrying…` });
        catchUpTimer = setTimeout(() => target.connected && current() && void catchUp(), CATCH_UP_RETRY_MS);
      }
    };

    const join = () => {
      clearTimeout(retryTimer);
      clearTimeout(catchUpTimer);
      if (everJoined) gapFrom ??= newestStoredId(latest.current.messages) ?? ZERO_ULID;
      target.timeout(ACK_TIMEOUT_MS).emit('join', { room }, (err: Error | null, reply) => {
        if (!active) return;
        if (err || !reply.ok) {
          const error = err ? 'The server did not answer. Retrying…' : reply.ok ? '' : reply.error;
          dispatch({ type: 'joinFailed', room, error });
          if (err) retryTimer = setTimeout(() => target.connected && active && join(), JOIN_RETRY_MS);
          return;
        }
        everJoined = true;
        joinedRef.current = true;
        dispatch({ type: 'joined', room, messages: reply.messages, pageSize: JOIN_PAGE_SIZE });
        flushQueue();
        if (gapFrom !== null) void catchUp();
      });
    };

    const onDisconnect = () => {
      joinedRef.current = false;
      dispatch({ type: 'disconnected', room });
    };
    const onMessage = (message: Message) => {
      if (message.room === room) dispatch({ type: 'received', room, messages: [message] });
    };

    target.on('connect', join);
    target.on('disconnect', onDisconnect);
    target.on('message', onMessage);
    if (target.connected) join();

    return () => {
      active = false;
      joinedRef.current = false;
      clearTimeout(retryTimer);
      clearTimeout(catchUpTimer);
      target.off('connect', join);
      target.off('disconnect', onDisconnect);
      target.off('message', onMessage);
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      sending.clear();
      leaveSoon(target, room);
    };
  }, [socket, room, emitMessage]);

  const send = useCallback(
    (text: string) => {
      if (!username) return;
      const clientId = newClientId();
      dispatch({ type: 'sendStarted', room, clientId, username, text, createdAt: new Date().toISOString() });
      deliver(clientId, text);
    },
    [room, username, deliver],
  );

  const retry = useCallback(
    (clientId: string) => {
      const message = latest.current.messages.find((entry) => entry.clientId === clientId && entry.id === null);
      if (!message || message.status !== 'failed') return;
      // The same clientId: if the first attempt was stored after all, the server returns that
      // message instead of storing it twice.
      dispatch({ type: 'retried', room, clientId });
      deliver(clientId, message.text);
    },
    [room, deliver],
  );

  const loadOlder = useCallback(() => {
    const { hasOlder, loadingOlder, messages } = latest.current;
    const oldest = oldestStoredId(messages);
    if (!hasOlder || loadingOlder || oldest === null) return;
    // Marked at once, so scroll events arriving before the re-render do not ask again.
    latest.current = { ...latest.current, loadingOlder: true };
    dispatch({ type: 'olderRequested', room });
    api.messagesBefore(room, oldest, HISTORY_PAGE_SIZE).then(
      (page) => dispatch({ type: 'olderLoaded', room, messages: page.messages, hasOlder: page.next !== null }),
      (error: unknown) => dispatch({ type: 'olderFailed', room, error: errorText(error) }),
    );
  }, [room]);

  return {
    messages: current.messages,
    joined: current.joined,
    joinError: current.joinError,
    syncError: current.syncError,
    hasOlder: current.hasOlder,
    loadingOlder: current.loadingOlder,
    olderError: current.olderError,
    send,
    retry,
    loadOlder,
  };
}
