// The socket stays in every room of the sidebar (joined with `limit: 0`: no history), so it hears
// each room's `message` events and the sidebar counts unread live. The open room is joined with its
// history by useRoomJoin as well; a tracked room is not left when it is closed.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import type { Conversation } from '../lib/conversations';
import { ACK_TIMEOUT_MS, type ParleySocket } from '../socket';
import type { AckFailure } from '../types';
import { useSocketEvent } from './useSocketEvent';

/** A socket may be in at most 100 rooms (docs/reference.md): one is kept for an open public room. */
export const MAX_TRACKED_ROOMS = 99;
// The server allows a socket 30 joins at once, then 5 a second (docs/reference.md): stay below
// both, the open room included.
const JOIN_BURST = 25;
const JOINS_PER_SECOND = 4;
const RETRY_MS = 2_000;

/** Which rooms to stay in: `general`, then the most recently active, at most MAX_TRACKED_ROOMS. */
export function roomsToTrack(list: readonly Conversation[]): string[] {
  return list
    .filter((room) => room.tracked)
    .sort((a, b) => {
      if (a.id === 'general' || b.id === 'general') return a.id === 'general' ? -1 : 1;
      return (b.lastMessageId ?? '').localeCompare(a.lastMessageId ?? '');
    })
    .slice(0, MAX_TRACKED_ROOMS)
    .map((room) => room.id)
    .sort();
}

class RoomTracker {
  private wanted = new Set<string>();
  /** Joined on this connection, or the join is on its way. */
  private readonly joined = new Set<string>();
  private queue: string[] = [];
  private tokens = JOIN_BURST;
  private updated = Date.now();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly socket: ParleySocket) {}

  has(room: string): boolean {
    return this.wanted.has(room);
  }

  want(rooms: readonly string[], listed: ReadonlySet<string>): void {
    const next = new Set(rooms);
    for (const room of this.joined) {
      if (next.has(room)) continue;
      this.joined.delete(room);
      // Still a member but over the cap: make room on the socket. A room that left the list was
      // left by the server already (room_removed).
      if (listed.has(room) && this.socket.connected) this.socket.emit('leave', { room });
    }
    this.wanted = next;
    this.queue = this.queue.filter((room) => next.has(room));
    for (const room of next) if (!this.joined.has(room) && !this.queue.includes(room)) this.queue.push(room);
    this.pump();
  }

  connected(): void {
    this.joined.clear();
    this.queue = [...this.wanted];
    this.pump();
  }

  disconnected(): void {
    this.joined.clear();
    this.queue = [];
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.disconnected();
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(JOIN_BURST, this.tokens + ((now - this.updated) / 1000) * JOINS_PER_SECOND);
    this.updated = now;
  }

  private pump(): void {
    if (this.stopped || !this.socket.connected || this.timer !== undefined) return;
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.join(this.queue.shift()!);
    }
    if (this.queue.length > 0) this.later(((1 - this.tokens) / JOINS_PER_SECOND) * 1000);
  }

  private later(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
  }

  private join(room: string): void {
    this.joined.add(room);
    this.socket.timeout(ACK_TIMEOUT_MS).emit('join', { room, limit: 0 }, (err: Error | null, reply) => {
      if (this.stopped || !this.wanted.has(room)) return;
      if (!err && reply.ok) return;
      this.joined.delete(room);
      const refusal = err ? null : (reply as AckFailure);
      // Refused for good (gone, banned, the session over): the room's own events say what next.
      if (refusal && refusal.code !== 'rate_limited' && refusal.code !== 'unavailable') return;
      if (!this.socket.connected) return; // the next connect joins everything again
      this.queue.push(room);
      const wait = refusal?.retryAfter ? refusal.retryAfter * 1000 : RETRY_MS;
      this.later(wait);
    });
  }
}

export function useRoomTracking(socket: ParleySocket | null, list: readonly Conversation[]) {
  const tracker = useRef<RoomTracker | null>(null);
  const wanted = useMemo(() => roomsToTrack(list), [list]);
  const key = wanted.join('\n');
  const listedNow = useMemo(() => new Set(list.map((room) => room.id)), [list]);
  const listed = useRef<ReadonlySet<string>>(listedNow);
  useLayoutEffect(() => {
    listed.current = listedNow;
  });

  useEffect(() => {
    if (!socket) return;
    const current = new RoomTracker(socket);
    tracker.current = current;
    return () => {
      current.stop();
      if (tracker.current === current) tracker.current = null;
    };
  }, [socket]);

  useEffect(() => {
    tracker.current?.want(key === '' ? [] : key.split('\n'), listed.current);
  }, [socket, key]);

  useSocketEvent(socket, 'connect', () => tracker.current?.connected());
  useSocketEvent(socket, 'disconnect', () => tracker.current?.disconnected());

  const isTracked = useCallback((room: string) => tracker.current?.has(room) ?? false, []);
  return { isTracked };
}
