// Being in one room: the join, the rejoin after every reconnect (catching up on what was missed
// meanwhile: new messages, and the edits, deletions and reactions of the changes index), the
// room's live messages and updates, and leaving it.
import { useEffect, useRef, type Dispatch, type RefObject } from 'react';
import { ApiError, ZERO_ULID, api } from '../api';
import { useAuth } from '../auth/AuthProvider';
import { errorText } from '../errors';
import { newestStoredId, type RoomMessagesAction, type RoomMessagesState } from '../lib/messages';
import { ulidAt, ulidTime } from '../lib/ulid';
import { ACK_TIMEOUT_MS, type ParleySocket } from '../socket';
import type { Message } from '../types';
import { useSocketEvent } from './useSocketEvent';

/** The join ack carries the latest 50 messages (docs/reference.md, "Socket.IO"). */
export const JOIN_PAGE_SIZE = 50;
const CATCH_UP_PAGE_SIZE = 100;
/**
 * The server stores a message at most this long after its id's time (docs/reference.md,
 * "Catching up"): one with an older id than the newest seen may still have been on its way.
 */
export const VISIBILITY_BOUND_MS = 10_000;
const JOIN_RETRY_MS = 2_000;
const CATCH_UP_RETRY_MS = 3_000;

export interface RoomJoinOptions {
  room: string;
  socket: ParleySocket | null;
  dispatch: Dispatch<RoomMessagesAction>;
  /** The room's state as last rendered: a rejoin catches up after its newest stored message. */
  latest: RefObject<RoomMessagesState>;
  /** The room is joined on `socket` (again): messages may be sent to it now. */
  onJoined: (socket: ParleySocket) => void;
  /** The connection dropped: the room is no longer joined. */
  onLeft: () => void;
  /**
   * Whether the socket stays in the room once it is closed (the sidebar counts its unread, see
   * useRoomTracking): then no `leave` is sent. Read when the room is closed.
   */
  stays?: (room: string) => boolean;
}

interface RoomVisit {
  join: () => void;
  /** A live `message_updated` of this room. */
  updated: (message: Message) => void;
  disconnected: () => void;
  /** The visit is over; `leave`: the socket leaves the room too. */
  end: (leave: boolean) => void;
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

/**
 * Where a catch-up starts: the newest id seen minus the visibility bound, as a ULID with zero
 * randomness. What it returns again that was seen already is merged by id.
 */
export function catchUpFrom(newestSeen: string | null): string {
  return newestSeen === null ? ZERO_ULID : ulidAt(ulidTime(newestSeen) - VISIBILITY_BOUND_MS);
}

const never = () => false;

function newestOf(messages: readonly Message[]): string | null {
  return messages.reduce<string | null>((newest, message) => (newest === null || message.id > newest ? message.id : newest), null);
}

export function useRoomJoin({ room, socket, dispatch, latest, onJoined, onLeft, stays = never }: RoomJoinOptions): void {
  const { expire } = useAuth();
  const visit = useRef<RoomVisit | null>(null);

  useEffect(() => {
    if (!socket) return;
    cancelLeave(socket, room);
    const current = visitRoom({ socket, room, dispatch, latest, onJoined, onLeft, expire });
    visit.current = current;
    if (socket.connected) current.join();
    return () => {
      visit.current = null;
      current.end(!stays(room));
    };
  }, [socket, room, dispatch, latest, onJoined, onLeft, expire, stays]);

  useSocketEvent(socket, 'connect', () => visit.current?.join());
  useSocketEvent(socket, 'disconnect', () => visit.current?.disconnected());
  useSocketEvent(socket, 'message', (message) => {
    if (message.room === room) dispatch({ type: 'received', room, messages: [message] });
  });
  useSocketEvent(socket, 'message_updated', (message) => {
    if (message.room === room) visit.current?.updated(message);
  });
}

/** One stay in `room` on `socket`, from the first join to `end()`. */
function visitRoom({
  socket,
  room,
  dispatch,
  latest,
  onJoined,
  onLeft,
  expire,
}: Omit<RoomJoinOptions, 'socket' | 'stays'> & { socket: ParleySocket; expire: () => void }): RoomVisit {
  let active = true;
  let everJoined = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  // After a reconnect, where to catch up from (`catchUpFrom`): messages after it may have been
  // missed. It stays set until the catch-up has paged through to the end (`next` null), so a failed or
  // interrupted catch-up resumes where it stopped instead of leaving a gap.
  let gapFrom: string | null = null;
  let generation = 0;
  let catchUpTimer: ReturnType<typeof setTimeout> | undefined;
  // The sync point of the changes index (docs/reference.md, "Catching up with changes"): set
  // from the first join's newest message, then the `sync` of each catch-up's last page. Ids
  // updated live while a catch-up is under way: its answer may be older than what they show.
  let changesSince: string | null = null;
  let liveDuring: Set<string> | null = null;

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
      if (current()) await catchUpChanges(current);
      if (current()) dispatch({ type: 'synced', room });
    } catch (error) {
      // An ended session already went through the one `unauthorized` rule in the API client.
      if (!current() || (error instanceof ApiError && error.code === 'unauthorized')) return;
      dispatch({ type: 'syncFailed', room, error: `Could not load missed messages (${errorText(error)}). Retrying…` });
      catchUpTimer = setTimeout(() => socket.connected && current() && void catchUp(), CATCH_UP_RETRY_MS);
    }
  };

  /** Pages through the changes after `changesSince` and keeps the last page's `sync`. */
  const catchUpChanges = async (current: () => boolean) => {
    if (changesSince === null) return;
    liveDuring ??= new Set();
    let since: string | null = changesSince;
    let sync = changesSince;
    while (since !== null && current()) {
      const page = await api.changes(room, since, CATCH_UP_PAGE_SIZE);
      if (!current()) return;
      const live = liveDuring;
      const messages = page.messages.filter((message) => !live.has(message.id));
      if (messages.length > 0) dispatch({ type: 'updated', room, messages });
      since = page.next;
      sync = page.sync;
    }
    if (current()) {
      changesSince = sync;
      liveDuring = null;
    }
  };

  const join = () => {
    clearTimeout(retryTimer);
    clearTimeout(catchUpTimer);
    if (everJoined) gapFrom ??= catchUpFrom(newestStoredId(latest.current.messages));
    socket.timeout(ACK_TIMEOUT_MS).emit('join', { room }, (err: Error | null, reply) => {
      if (!active) return;
      if (err) {
        dispatch({ type: 'joinFailed', room, error: 'The server did not answer. Retrying…' });
        retryTimer = setTimeout(() => socket.connected && active && join(), JOIN_RETRY_MS);
        return;
      }
      if (!reply.ok) {
        if (reply.code === 'unauthorized') expire();
        else dispatch({ type: 'joinFailed', room, error: reply.error });
        return;
      }
      if (!everJoined) changesSince = catchUpFrom(newestOf(reply.messages));
      everJoined = true;
      const hasOlder = reply.hasOlder ?? reply.messages.length >= JOIN_PAGE_SIZE;
      dispatch({ type: 'joined', room, messages: reply.messages, hasOlder });
      onJoined(socket);
      // The first join catches up with the changes too: its page is current, but a change may
      // still be on its way into the index (the sync point trails by the visibility bound).
      void catchUp();
    });
  };

  return {
    join,
    updated(message) {
      liveDuring?.add(message.id);
      dispatch({ type: 'updated', room, messages: [message] });
    },
    disconnected() {
      onLeft();
      dispatch({ type: 'disconnected', room });
    },
    end(leave) {
      active = false;
      clearTimeout(retryTimer);
      clearTimeout(catchUpTimer);
      if (leave) leaveSoon(socket, room);
    },
  };
}
