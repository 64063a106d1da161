// A stand-in for the Socket.IO client in unit tests: it records what the app emits and lets a
// test play the server (reply to acks, push events, drop and restore the connection).
import { act } from '@testing-library/react';
import type { ParleySocket } from '../socket';

type Handler = (...args: unknown[]) => void;
type Ack = (...args: unknown[]) => void;

export interface Emitted {
  event: string;
  payload: unknown;
  ack?: Ack;
  /** Emitted through `socket.timeout(ms)`: the ack takes an error first. */
  withTimeout: boolean;
  answered: boolean;
}

export class FakeSocket {
  connected: boolean;
  /** False once the server refused the handshake: socket.io-client then stops reconnecting. */
  active = true;
  readonly emitted: Emitted[] = [];
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor({ connected = true } = {}) {
    this.connected = connected;
  }

  get socket(): ParleySocket {
    return this as unknown as ParleySocket;
  }

  on(event: string, handler: Handler): this {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(handler);
    return this;
  }

  off(event: string, handler: Handler): this {
    this.handlers.get(event)?.delete(handler);
    return this;
  }

  listenerCount(event: string): number {
    return this.handlers.get(event)?.size ?? 0;
  }

  emit(event: string, payload: unknown, ack?: Ack): this {
    this.emitted.push({ event, payload, ack, withTimeout: false, answered: false });
    return this;
  }

  timeout(_ms: number) {
    return {
      emit: (event: string, payload: unknown, ack?: Ack) => {
        this.emitted.push({ event, payload, ack, withTimeout: true, answered: false });
        return this;
      },
    };
  }

  // ---- the test's side ----

  sent(event: string): Emitted[] {
    return this.emitted.filter((entry) => entry.event === event);
  }

  unanswered(event: string): Emitted[] {
    return this.sent(event).filter((entry) => entry.ack && !entry.answered);
  }

  /** Answers the oldest unanswered `event` emit with `reply`. */
  reply(event: string, reply: unknown): Emitted {
    const entry = this.unanswered(event)[0];
    if (!entry) throw new Error(`no unanswered "${event}" emit to reply to`);
    this.answer(entry, null, reply);
    return entry;
  }

  /** Fails the oldest unanswered `event` emit as socket.timeout would. */
  timeOut(event: string): Emitted {
    const entry = this.unanswered(event)[0];
    if (!entry) throw new Error(`no unanswered "${event}" emit to time out`);
    this.answer(entry, new Error('operation has timed out'));
    return entry;
  }

  /** The server refuses the handshake, as socket.io-client reports it: no retry of its own. */
  refuse(error: Error): void {
    this.active = false;
    this.connected = false;
    this.fire('connect_error', error);
  }

  /** The server pushes an event to this client. */
  serverEmit(event: string, payload: unknown): void {
    this.fire(event, payload);
  }

  /** The connection drops: pending timeout acks fail at once, as in socket.io-client 4.8. */
  drop(): void {
    act(() => {
      this.connected = false;
      for (const entry of this.emitted) {
        if (entry.ack && !entry.answered && entry.withTimeout) {
          entry.answered = true;
          entry.ack(new Error('socket has been disconnected'));
        }
      }
    });
    this.fire('disconnect', 'transport close');
  }

  connect(): void {
    act(() => {
      this.connected = true;
      this.active = true;
    });
    this.fire('connect');
  }

  private answer(entry: Emitted, error: Error | null, reply?: unknown): void {
    entry.answered = true;
    act(() => {
      if (entry.withTimeout) entry.ack!(error, reply);
      else entry.ack!(reply);
    });
  }

  private fire(event: string, ...args: unknown[]): void {
    act(() => {
      for (const handler of [...(this.handlers.get(event) ?? [])]) handler(...args);
    });
  }
}
