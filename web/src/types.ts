// Shapes of the HTTP API and Socket.IO events (docs/reference.md, "HTTP API" and "Socket.IO").

export interface User {
  username: string;
}

/** One of the caller's live sessions (GET /api/auth/sessions); `id` is public, not the secret. */
export interface SessionInfo {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string;
  /** The session of this very browser. */
  current: boolean;
}

export interface Room {
  id: string;
  name: string;
}

/** A stored message. `id` is a ULID, so ids sort by time. */
export interface Message {
  id: string;
  room: string;
  username: string;
  text: string;
  createdAt: string;
  clientId: string | null;
}

export interface MessagePage {
  messages: Message[];
  next: string | null;
}

/**
 * What went wrong, for the program to act on; `error` beside it is for people. Decisions are made
 * on the code, never on the message text (docs/reference.md, "Errors").
 */
export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid'
  | 'not_joined'
  | 'rate_limited'
  | 'too_large'
  | 'unsupported'
  | 'unavailable'
  | 'internal';

/** Every HTTP error body. `retryAfter` (seconds) comes with `rate_limited` and `unavailable`. */
export interface ErrorBody {
  error: string;
  code: ErrorCode;
  retryAfter?: number;
  /** On 401: where to sign in again. */
  redirect?: string;
}

/** A failed ack: the same fields as an HTTP error body. */
export interface AckFailure {
  ok: false;
  error: string;
  code: ErrorCode;
  retryAfter?: number;
}

export type Ack<T extends object = object> = ({ ok: true } & T) | AckFailure;

export type JoinAck = Ack<{ messages: Message[] }>;
export type MessageAck = Ack<{ message: Message }>;

export interface TypingEvent {
  room: string;
  username: string;
}

export interface PresenceEvent {
  room: string;
  users: string[];
}

export interface ServerToClientEvents {
  message: (message: Message) => void;
  typing: (event: TypingEvent) => void;
  presence: (event: PresenceEvent) => void;
  session_expired: (event: Record<string, never>) => void;
}

/** The `data` of the `connect_error` of a refused handshake (`err.data.code`). */
export interface HandshakeRefusal {
  code: Extract<ErrorCode, 'unauthorized' | 'forbidden' | 'unavailable'>;
}

export interface ClientToServerEvents {
  join: (payload: { room: string }, ack: (reply: JoinAck) => void) => void;
  // The server acks `leave`, but nothing waits for it: the next room is joined regardless.
  leave: (payload: { room: string }) => void;
  message: (
    payload: { room: string; text: string; clientId: string },
    ack: (reply: MessageAck) => void,
  ) => void;
  typing: (payload: { room: string }) => void;
}
