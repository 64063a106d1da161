// Shapes of the HTTP API and Socket.IO events (CONTRACT.md, "HTTP API" and "Socket.IO").

export interface User {
  username: string;
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

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: string };

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
