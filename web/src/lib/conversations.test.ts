import { describe, expect, it } from 'vitest';
import { message, ulid } from '../test/renderApp';
import type { Room } from '../types';
import {
  conversationsReducer,
  initialConversations,
  needsRecount,
  sidebarLists,
  totalUnread,
  type ConversationsState,
} from './conversations';

function room(id: string, fields: Partial<Room> = {}): Room {
  return {
    id,
    name: id,
    kind: 'public',
    topic: '',
    role: 'member',
    unread: 0,
    mentions: 0,
    lastRead: null,
    lastMessageId: null,
    ...fields,
  };
}

function loaded(...rooms: Room[]): ConversationsState {
  return conversationsReducer(initialConversations, { type: 'loaded', rooms });
}

const get = (state: ConversationsState, id: string) => state.list.find((entry) => entry.id === id)!;

describe('conversations: unread counting', () => {
  it('counts others’ new messages once each, not one’s own', () => {
    let state = loaded(room('general', { unread: 2, lastRead: ulid(1), lastMessageId: ulid(3) }));
    state = conversationsReducer(state, { type: 'message', message: message(4), me: 'alice' });
    state = conversationsReducer(state, { type: 'message', message: message(4), me: 'alice' });
    state = conversationsReducer(state, { type: 'message', message: message(5, { username: 'Alice' }), me: 'alice' });
    expect(get(state, 'general').unread).toBe(3);
    expect(get(state, 'general').lastMessageId).toBe(ulid(5));
    // Older than what was already seen (or read): not counted again.
    state = conversationsReducer(state, { type: 'message', message: message(2), me: 'alice' });
    expect(get(state, 'general').unread).toBe(3);
  });

  it('stops at the server’s cap of 100', () => {
    let state = loaded(room('general', { unread: 99, lastMessageId: ulid(99) }));
    for (const n of [100, 101, 102]) state = conversationsReducer(state, { type: 'message', message: message(n), me: 'alice' });
    expect(get(state, 'general').unread).toBe(100);
  });

  it('ignores messages of rooms not in the list', () => {
    const state = loaded(room('general'));
    expect(conversationsReducer(state, { type: 'message', message: message(1, { room: 'other' }), me: 'alice' })).toBe(state);
  });

  it('a read up to the newest message clears the counts; an older one needs the server to recount', () => {
    const state = loaded(room('general', { unread: 3, mentions: 1, lastRead: ulid(1), lastMessageId: ulid(4) }));
    const all = conversationsReducer(state, { type: 'read', room: 'general', id: ulid(4) });
    expect(get(all, 'general')).toMatchObject({ unread: 0, mentions: 0, lastRead: ulid(4) });
    expect(needsRecount(get(state, 'general'), ulid(2))).toBe(true);
    expect(needsRecount(get(state, 'general'), ulid(4))).toBe(false);
    // Never back.
    const back = conversationsReducer(all, { type: 'read', room: 'general', id: ulid(2) });
    expect(get(back, 'general').lastRead).toBe(ulid(4));
  });

  it('counts each mention once, and only after the read marker', () => {
    let state = loaded(room('general', { lastRead: ulid(5) }));
    state = conversationsReducer(state, { type: 'mention', message: message(6) });
    state = conversationsReducer(state, { type: 'mention', message: message(6) });
    state = conversationsReducer(state, { type: 'mention', message: message(4) });
    expect(get(state, 'general').mentions).toBe(1);
  });

  it('totals the unread of every conversation', () => {
    expect(totalUnread(loaded(room('a', { unread: 2 }), room('b', { unread: 100 })).list)).toBe(102);
  });
});

describe('conversations: membership', () => {
  it('room_added adds (or replaces) a room; room_removed takes it out and remembers it', () => {
    let state = loaded(room('general'));
    state = conversationsReducer(state, { type: 'added', room: room('secret', { kind: 'private', role: 'owner' }) });
    expect(get(state, 'secret').role).toBe('owner');
    state = conversationsReducer(state, { type: 'removed', room: 'secret' });
    expect(state.list.map((entry) => entry.id)).toEqual(['general']);
    expect(state.removed).toEqual(['secret']);
    state = conversationsReducer(state, { type: 'added', room: room('secret', { kind: 'private' }) });
    expect(state.removed).toEqual([]);
  });

  it('room_updated changes the shared fields and keeps the user’s own', () => {
    let state = loaded(room('general', { unread: 4, role: 'admin', lastRead: ulid(2) }));
    state = conversationsReducer(state, { type: 'updated', room: { id: 'general', name: 'General', kind: 'public', topic: 'All hands' } });
    expect(get(state, 'general')).toMatchObject({ name: 'General', topic: 'All hands', unread: 4, role: 'admin', lastRead: ulid(2) });
  });

  it('a room object without `kind` (a server from before conversations) is public and not tracked', () => {
    const state = loaded({ id: 'general', name: 'general' }, room('dm-1', { kind: 'dm', name: 'bob' }));
    expect(get(state, 'general')).toMatchObject({ kind: 'public', tracked: false, unread: 0 });
    expect(get(state, 'dm-1').tracked).toBe(true);
  });

  it('sorts the sidebar: general first, rooms and DMs apart, by name', () => {
    const state = loaded(room('zoo', { name: 'Zoo' }), room('dm-2', { kind: 'dm', name: 'zed' }), room('general'), room('apple', { name: 'apple', kind: 'private' }), room('dm-1', { kind: 'dm', name: 'Bob' }));
    const { rooms, dms } = sidebarLists(state.list);
    expect(rooms.map((entry) => entry.id)).toEqual(['general', 'apple', 'zoo']);
    expect(dms.map((entry) => entry.name)).toEqual(['Bob', 'zed']);
  });
});
