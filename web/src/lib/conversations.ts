// The sidebar's conversations as a pure reducer: the rooms the user is a member of, their unread
// and mention counts kept live from socket events (docs/reference.md, "Conversations").
// - `unread` counts others' messages newer than `lastRead`, capped at 100 as the server does;
// - a read marker never moves back;
// - a room the user was removed from leaves the list and is remembered in `removed`, so the open
//   view can say so.
import type { Message, Role, Room, RoomKind } from '../types';

/** The server caps `unread` at this ("100 or more"). */
export const UNREAD_CAP = 100;
/** Mention ids remembered per room, to count each mention once. */
const MENTION_MEMORY = 100;

export interface Conversation {
  id: string;
  name: string;
  kind: RoomKind;
  topic: string;
  role: Role | null;
  unread: number;
  mentions: number;
  lastRead: string | null;
  lastMessageId: string | null;
  members: number | null;
  /**
   * The server speaks conversations (the room object carries `kind`): its room can be joined with
   * `limit: 0` to count unread live. A server from before would answer such a join with a full page.
   */
  tracked: boolean;
  /** Ids of the mentions counted in `mentions`. */
  mentionIds: string[];
}

export interface ConversationsState {
  loaded: boolean;
  list: Conversation[];
  /** Rooms the user was removed from (or left) while this page was open. */
  removed: string[];
}

export type ConversationsAction =
  | { type: 'loaded'; rooms: Room[] }
  | { type: 'added'; room: Room }
  | { type: 'removed'; room: string }
  | { type: 'updated'; room: Room }
  | { type: 'refreshed'; room: Room }
  | { type: 'message'; message: Message; me: string }
  | { type: 'mention'; message: Message }
  | { type: 'read'; room: string; id: string }
  | { type: 'role'; room: string; role: Role | null };

export const initialConversations: ConversationsState = { loaded: false, list: [], removed: [] };

export function toConversation(room: Room, previous?: Conversation): Conversation {
  return {
    id: room.id,
    name: room.name,
    kind: room.kind ?? previous?.kind ?? 'public',
    topic: room.topic ?? previous?.topic ?? '',
    role: room.role !== undefined ? room.role : (previous?.role ?? null),
    unread: room.unread ?? previous?.unread ?? 0,
    mentions: room.mentions ?? previous?.mentions ?? 0,
    lastRead: room.lastRead !== undefined ? room.lastRead : (previous?.lastRead ?? null),
    lastMessageId: room.lastMessageId !== undefined ? room.lastMessageId : (previous?.lastMessageId ?? null),
    members: room.members ?? previous?.members ?? null,
    tracked: room.kind !== undefined || (previous?.tracked ?? false),
    mentionIds: previous?.mentionIds ?? [],
  };
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const newer = (id: string, than: string | null) => than === null || id > than;

function byName(a: Conversation, b: Conversation): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
}

/** Rooms (public and private, `general` first, then by name) and DMs (by name). */
export function sidebarLists(list: readonly Conversation[]): { rooms: Conversation[]; dms: Conversation[] } {
  const rooms = list.filter((room) => room.kind !== 'dm').sort((a, b) => {
    if (a.id === 'general' || b.id === 'general') return a.id === 'general' ? -1 : 1;
    return byName(a, b);
  });
  const dms = list.filter((room) => room.kind === 'dm').sort(byName);
  return { rooms, dms };
}

/** The total for the document title (each room's count is already capped). */
export function totalUnread(list: readonly Conversation[]): number {
  return list.reduce((sum, room) => sum + room.unread, 0);
}

function replace(state: ConversationsState, id: string, change: (room: Conversation) => Conversation) {
  const index = state.list.findIndex((room) => room.id === id);
  if (index === -1) return state;
  const current = state.list[index]!;
  const next = change(current);
  if (next === current) return state;
  const list = state.list.slice();
  list[index] = next;
  return { ...state, list };
}

export function conversationsReducer(state: ConversationsState, action: ConversationsAction): ConversationsState {
  switch (action.type) {
    case 'loaded': {
      const previous = new Map(state.list.map((room) => [room.id, room]));
      const list = action.rooms.map((room) => toConversation(room, previous.get(room.id)));
      const members = new Set(list.map((room) => room.id));
      return { loaded: true, list, removed: state.removed.filter((id) => !members.has(id)) };
    }
    case 'added': {
      const known = state.list.find((room) => room.id === action.room.id);
      const room = toConversation(action.room, known);
      const list = known ? state.list.map((entry) => (entry.id === room.id ? room : entry)) : [...state.list, room];
      return { ...state, list, removed: state.removed.filter((id) => id !== room.id) };
    }
    case 'removed':
      return {
        ...state,
        list: state.list.filter((room) => room.id !== action.room),
        removed: state.removed.includes(action.room) ? state.removed : [...state.removed, action.room],
      };
    case 'updated':
      // The shared fields only: the caller's own (role, counts, marker) stay as they are.
      return replace(state, action.room.id, (room) => ({
        ...room,
        name: action.room.name,
        topic: action.room.topic ?? room.topic,
        kind: action.room.kind ?? room.kind,
        members: action.room.members ?? room.members,
      }));
    case 'refreshed':
      return replace(state, action.room.id, (room) => toConversation(action.room, room));
    case 'message': {
      const { message, me } = action;
      return replace(state, message.room, (room) => {
        const fresh = newer(message.id, room.lastMessageId);
        const counts = !sameName(message.username, me) && newer(message.id, room.lastRead) && fresh;
        if (!fresh) return room;
        return {
          ...room,
          lastMessageId: message.id,
          unread: counts ? Math.min(room.unread + 1, UNREAD_CAP) : room.unread,
        };
      });
    }
    case 'mention': {
      const { message } = action;
      return replace(state, message.room, (room) => {
        if (room.mentionIds.includes(message.id) || !newer(message.id, room.lastRead)) return room;
        return {
          ...room,
          mentions: Math.min(room.mentions + 1, UNREAD_CAP),
          mentionIds: [...room.mentionIds, message.id].slice(-MENTION_MEMORY),
        };
      });
    }
    case 'read':
      return replace(state, action.room, (room) => {
        if (!newer(action.id, room.lastRead)) return room;
        const all = room.lastMessageId === null || action.id >= room.lastMessageId;
        // Read up to an older message: the counts are only known to the server (see needsRecount).
        return {
          ...room,
          lastRead: action.id,
          unread: all ? 0 : room.unread,
          mentions: all ? 0 : room.mentions,
          mentionIds: all ? [] : room.mentionIds.filter((id) => id > action.id),
        };
      });
    case 'role':
      return replace(state, action.room, (room) => (room.role === action.role ? room : { ...room, role: action.role }));
  }
}

/** After a `read` up to `id`: whether what is left unread can only be counted by the server. */
export function needsRecount(room: Conversation | undefined, id: string): boolean {
  return room !== undefined && room.unread > 0 && room.lastMessageId !== null && id < room.lastMessageId;
}
