// The message list of one room as a pure reducer. Rules (docs/reference.md, "Socket.IO"):
// - stored messages are ordered by `id` (ULIDs sort by time) and appear once per id;
// - a message being sent exists only locally, keyed by its `clientId`, until the server's ack
//   or broadcast carries the stored copy with the same `clientId` from the same user;
// - local messages (pending or failed) stay below the stored ones, in the order they were written;
// - an update (`message_updated`, or a page of the changes index) replaces the message it names,
//   when it is shown: it never adds one, so the history shown stays without gaps.
import type { Message, Reaction, ReplyQuote } from '../types';

export type MessageStatus = 'pending' | 'sent' | 'failed';

export interface ChatMessage {
  /** Stable React key: the local key of an own message survives its confirmation. */
  key: string;
  /** The stored id; null until the server has stored the message. */
  id: string | null;
  room: string;
  username: string;
  text: string;
  createdAt: string;
  clientId: string | null;
  status: MessageStatus;
  /** Why the last send attempt failed. */
  error?: string;
  editedAt: string | null;
  deleted: boolean;
  replyTo: ReplyQuote | null;
  reactions: Reaction[];
  mentions: string[];
}

export interface RoomMessagesState {
  room: string;
  messages: ChatMessage[];
  /** True once the join ack arrived (reset while disconnected). */
  joined: boolean;
  joinError: string | null;
  /** Why missed messages could not be loaded after a reconnect (cleared once they are). */
  syncError: string | null;
  /** Whether older history may exist beyond the oldest stored message. */
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: string | null;
}

export type RoomMessagesAction =
  | { type: 'reset'; room: string }
  | { type: 'joined'; room: string; messages: Message[]; hasOlder: boolean }
  | { type: 'joinFailed'; room: string; error: string }
  | { type: 'disconnected'; room: string }
  | { type: 'syncFailed'; room: string; error: string }
  | { type: 'synced'; room: string }
  | { type: 'received'; room: string; messages: Message[] }
  | { type: 'updated'; room: string; messages: Message[] }
  | { type: 'olderRequested'; room: string }
  | { type: 'olderLoaded'; room: string; messages: Message[]; hasOlder: boolean }
  | { type: 'olderFailed'; room: string; error: string }
  | ({ type: 'sendStarted'; room: string } & PendingMessage)
  | { type: 'acked'; room: string; clientId: string; message: Message }
  | { type: 'failed'; room: string; clientId: string; error: string }
  | { type: 'retried'; room: string; clientId: string };

export function initialRoomState(room: string): RoomMessagesState {
  return { room, messages: [], joined: false, joinError: null, syncError: null, hasOlder: false, loadingOlder: false, olderError: null };
}

const localKey = (clientId: string) => `local:${clientId}`;
const ownerKey = (username: string, clientId: string) => `${username.toLowerCase()}\u0000${clientId}`;

function compareMessages(a: ChatMessage, b: ChatMessage): number {
  if (a.id !== null && b.id !== null) return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  if (a.id !== null) return -1;
  if (b.id !== null) return 1;
  return 0; // both local: Array.prototype.sort is stable, so writing order is kept
}

function stored(message: Message, key: string): ChatMessage {
  return {
    key,
    id: message.id,
    room: message.room,
    username: message.username,
    text: message.text,
    createdAt: message.createdAt,
    clientId: message.clientId,
    status: 'sent',
    editedAt: message.editedAt ?? null,
    deleted: message.deleted ?? false,
    replyTo: message.replyTo ?? null,
    reactions: message.reactions ?? [],
    mentions: message.mentions ?? [],
  };
}

/**
 * `current` with each message of `updates` that it shows replaced by that newer state (an edit,
 * a deletion, reactions). Messages it does not show are left out: they come with their page.
 */
export function applyUpdates(current: ChatMessage[], updates: readonly Message[]): ChatMessage[] {
  const byId = new Map(updates.map((message) => [message.id, message]));
  let changed = false;
  const next = current.map((message) => {
    const update = message.id === null ? undefined : byId.get(message.id);
    if (update === undefined) return message;
    changed = true;
    return stored({ ...update, clientId: update.clientId ?? message.clientId }, message.key);
  });
  return changed ? next : current;
}

/**
 * `current` plus `incoming` stored messages: sorted by id, one entry per id, and each local
 * message whose clientId (and author) matches a stored one replaced by it, keeping its key.
 */
export function mergeMessages(current: ChatMessage[], incoming: readonly Message[]): ChatMessage[] {
  if (incoming.length === 0) return current;
  const next = current.slice();
  const byId = new Map<string, number>();
  const localByOwner = new Map<string, number>();
  next.forEach((message, index) => {
    if (message.id !== null) byId.set(message.id, index);
    else if (message.clientId !== null) localByOwner.set(ownerKey(message.username, message.clientId), index);
  });
  for (const message of incoming) {
    const known = byId.get(message.id);
    if (known !== undefined) {
      next[known] = stored(message, next[known]!.key);
      continue;
    }
    const owner = message.clientId === null ? undefined : ownerKey(message.username, message.clientId);
    const local = owner === undefined ? undefined : localByOwner.get(owner);
    if (owner !== undefined && local !== undefined) {
      next[local] = stored(message, next[local]!.key);
      localByOwner.delete(owner);
      byId.set(message.id, local);
      continue;
    }
    byId.set(message.id, next.length);
    next.push(stored(message, message.id));
  }
  return next.sort(compareMessages);
}

export interface PendingMessage {
  clientId: string;
  username: string;
  text: string;
  createdAt: string;
  /** The message it answers, quoted as the server will quote it. */
  replyTo?: ReplyQuote | null;
}

/** A message the user just wrote, shown as pending until the server confirms it. */
export function addPending(current: ChatMessage[], pending: PendingMessage & { room: string }): ChatMessage[] {
  if (current.some((message) => message.clientId === pending.clientId)) return current;
  const { room, clientId, username, text, createdAt, replyTo } = pending;
  return [
    ...current,
    {
      key: localKey(clientId),
      id: null,
      room,
      clientId,
      username,
      text,
      createdAt,
      replyTo: replyTo ?? null,
      status: 'pending',
      editedAt: null,
      deleted: false,
      reactions: [],
      mentions: [],
    },
  ];
}

/** The ack of a send: the stored message takes the place of the local one. */
export function confirmSent(current: ChatMessage[], clientId: string, message: Message): ChatMessage[] {
  // The ack echoes the clientId that was sent; the local one is used so they always match.
  return mergeMessages(current, [{ ...message, clientId }]);
}

function setLocalStatus(
  current: ChatMessage[],
  clientId: string,
  status: Exclude<MessageStatus, 'sent'>,
  error?: string,
): ChatMessage[] {
  // Only a message still unconfirmed changes: a late timeout must not undo a broadcast that
  // already confirmed the message.
  const index = current.findIndex((entry) => entry.id === null && entry.clientId === clientId);
  if (index === -1) return current;
  const next = current.slice();
  next[index] = { ...next[index]!, status, error };
  return next;
}

export const markFailed = (current: ChatMessage[], clientId: string, error: string) =>
  setLocalStatus(current, clientId, 'failed', error);

export const markPending = (current: ChatMessage[], clientId: string) =>
  setLocalStatus(current, clientId, 'pending');

export function newestStoredId(messages: readonly ChatMessage[]): string | null {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const id = messages[index]!.id;
    if (id !== null) return id;
  }
  return null;
}

export function oldestStoredId(messages: readonly ChatMessage[]): string | null {
  return messages.find((message) => message.id !== null)?.id ?? null;
}

export function roomMessagesReducer(state: RoomMessagesState, action: RoomMessagesAction): RoomMessagesState {
  if (action.type === 'reset') return state.room === action.room ? state : initialRoomState(action.room);
  if (action.room !== state.room) return state; // a late answer for a room already left
  switch (action.type) {
    case 'joined': {
      const firstJoin = !state.joined && state.messages.every((message) => message.id === null);
      return {
        ...state,
        joined: true,
        joinError: null,
        messages: mergeMessages(state.messages, action.messages),
        // Only the first page says whether older history exists; a rejoin keeps what is known.
        hasOlder: firstJoin ? action.hasOlder : state.hasOlder,
      };
    }
    case 'joinFailed':
      return { ...state, joined: false, joinError: action.error };
    case 'disconnected':
      return { ...state, joined: false };
    case 'syncFailed':
      return { ...state, syncError: action.error };
    case 'synced':
      return state.syncError === null ? state : { ...state, syncError: null };
    case 'received':
      return { ...state, messages: mergeMessages(state.messages, action.messages) };
    case 'updated':
      return { ...state, messages: applyUpdates(state.messages, action.messages) };
    case 'olderRequested':
      return { ...state, loadingOlder: true, olderError: null };
    case 'olderLoaded':
      return {
        ...state,
        loadingOlder: false,
        hasOlder: action.hasOlder,
        messages: mergeMessages(state.messages, action.messages),
      };
    case 'olderFailed':
      return { ...state, loadingOlder: false, olderError: action.error };
    case 'sendStarted':
      return { ...state, messages: addPending(state.messages, action) };
    case 'acked':
      return { ...state, messages: confirmSent(state.messages, action.clientId, action.message) };
    case 'failed':
      return { ...state, messages: markFailed(state.messages, action.clientId, action.error) };
    case 'retried':
      return { ...state, messages: markPending(state.messages, action.clientId) };
  }
}
