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

export type RoomKind = 'public' | 'private' | 'dm';
export type Role = 'owner' | 'admin' | 'member';

/**
 * A room as the server returns it (docs/reference.md, "Conversations"). Only `id` and `name` are
 * certain: a server from before conversations sends nothing else (see `toConversation`).
 */
export interface Room {
  id: string;
  name: string;
  kind?: RoomKind;
  topic?: string;
  /** The caller's role; null for a public room they have not joined. */
  role?: Role | null;
  /** Others' messages newer than `lastRead`, capped at 100 ("100 or more"). */
  unread?: number;
  mentions?: number;
  lastRead?: string | null;
  lastMessageId?: string | null;
  /** In the directory and GET /api/rooms/{room}. */
  members?: number;
}

/** A page of the directory of public rooms. */
export interface RoomDirectoryPage {
  rooms: Room[];
  next: string | null;
}

export interface Member {
  username: string;
  role: Role;
  online: boolean;
}

export interface Ban {
  username: string;
  bannedAt: string;
}

/** A stored message. `id` is a ULID, so ids sort by time. */
export interface Message {
  id: string;
  room: string;
  username: string;
  text: string;
  createdAt: string;
  clientId: string | null;
  // Rich messages (docs/reference.md, "Socket.IO"); optional so that a page from an older server
  // still reads as plain messages.
  /** When the text was last edited, or null. */
  editedAt?: string | null;
  /** A tombstone: the text, quote and reactions are erased. */
  deleted?: boolean;
  replyTo?: ReplyQuote | null;
  reactions?: Reaction[];
  /** Usernames mentioned as `@name` that are members of the room. */
  mentions?: string[];
}

/** The quoted parent of a reply: its text cut to 200 characters, `""` once it was deleted. */
export interface ReplyQuote {
  id: string;
  username: string;
  text: string;
}

/** One emoji on a message and who reacted with it, in order of the emoji's first use. */
export interface Reaction {
  emoji: string;
  users: string[];
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

// `hasOlder`: older messages are stored than the ack carries (absent from servers before it).
export type JoinAck = Ack<{ messages: Message[]; hasOlder?: boolean }>;
export type OkAck = Ack;
export type MessageAck = Ack<{ message: Message }>;

export interface TypingEvent {
  room: string;
  username: string;
}

export interface PresenceEvent {
  room: string;
  users: string[];
}

export interface RoomRef {
  room: string;
}

export interface MemberEvent {
  room: string;
  username: string;
  /** null: they left or were removed. */
  role: Role | null;
}

export interface ReadEvent {
  room: string;
  id: string;
}

export interface MentionEvent {
  room: string;
  message: Message;
}

/** GET /api/rooms/{room}/changes: messages changed after `since`, and the next sync point. */
export interface ChangesPage {
  messages: Message[];
  next: string | null;
  sync: string;
}

export interface ServerToClientEvents {
  message: (message: Message) => void;
  /** A message was edited, deleted or reacted to: its current state. */
  message_updated: (message: Message) => void;
  typing: (event: TypingEvent) => void;
  presence: (event: PresenceEvent) => void;
  session_expired: (event: Record<string, never>) => void;
  /** This user became a member (created, joined, added, a DM started with them). */
  room_added: (room: Room) => void;
  /** This user left, was removed or banned: nothing more of the room reaches this socket. */
  room_removed: (event: RoomRef) => void;
  /** The room's name or topic changed (the shared fields only). */
  room_updated: (room: Room) => void;
  member: (event: MemberEvent) => void;
  /** This user's read marker moved on another of their devices. */
  read: (event: ReadEvent) => void;
  mention: (event: MentionEvent) => void;
}

/** The `data` of the `connect_error` of a refused handshake (`err.data.code`). */
export interface HandshakeRefusal {
  code: Extract<ErrorCode, 'unauthorized' | 'forbidden' | 'unavailable'>;
}

export interface ClientToServerEvents {
  /** `limit: 0`: only to hear the room's events (an empty history in the ack). */
  join: (payload: { room: string; limit?: number }, ack: (reply: JoinAck) => void) => void;
  // The server acks `leave`, but nothing waits for it: the next room is joined regardless.
  leave: (payload: { room: string }) => void;
  read: (payload: ReadEvent, ack: (reply: OkAck) => void) => void;
  message: (
    payload: { room: string; text: string; clientId: string; replyTo?: string },
    ack: (reply: MessageAck) => void,
  ) => void;
  edit: (payload: { room: string; id: string; text: string }, ack: (reply: MessageAck) => void) => void;
  delete: (payload: { room: string; id: string }, ack: (reply: MessageAck) => void) => void;
  react: (
    payload: { room: string; id: string; emoji: string; on: boolean },
    ack: (reply: MessageAck) => void,
  ) => void;
  typing: (payload: { room: string }) => void;
}
