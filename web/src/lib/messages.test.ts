// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { Message } from '../types';
import {
  addPending,
  applyUpdates,
  confirmSent,
  initialRoomState,
  markFailed,
  markPending,
  mergeMessages,
  newestStoredId,
  oldestStoredId,
  roomMessagesReducer,
  type ChatMessage,
} from './messages';

const at = (n: number) => new Date(Date.UTC(2024, 0, 1, 12, 0, n)).toISOString();
const id = (n: number) => `01J${String(n).padStart(23, '0')}`;

function stored(n: number, fields: Partial<Message> = {}): Message {
  return { id: id(n), room: 'general', username: 'bob', text: `m${n}`, createdAt: at(n), clientId: `c${n}`, ...fields };
}

function pending(clientId: string, text = 'hello', username = 'alice') {
  return { room: 'general', clientId, username, text, createdAt: at(0) };
}

const ids = (messages: ChatMessage[]) => messages.map((message) => message.id);
const texts = (messages: ChatMessage[]) => messages.map((message) => message.text);

describe('mergeMessages', () => {
  it('orders by id whatever order messages arrive in', () => {
    const merged = mergeMessages([], [stored(3), stored(1), stored(2)]);
    expect(ids(merged)).toEqual([id(1), id(2), id(3)]);
    expect(ids(mergeMessages(merged, [stored(0)]))).toEqual([id(0), id(1), id(2), id(3)]);
  });

  it('keeps one entry per id, updated by the latest copy', () => {
    const first = mergeMessages([], [stored(1), stored(2)]);
    const again = mergeMessages(first, [stored(2, { text: 'edited' }), stored(1), stored(3), stored(3)]);
    expect(ids(again)).toEqual([id(1), id(2), id(3)]);
    expect(again[1]!.text).toBe('edited');
  });

  it('returns the same array when nothing arrives', () => {
    const list = mergeMessages([], [stored(1)]);
    expect(mergeMessages(list, [])).toBe(list);
  });

  it('replaces a pending message by the stored one with its clientId, keeping the key', () => {
    const withPending = addPending(mergeMessages([], [stored(1)]), pending('abc'));
    const key = withPending[1]!.key;
    const merged = mergeMessages(withPending, [stored(5, { username: 'alice', clientId: 'abc', text: 'hello' })]);
    expect(merged).toHaveLength(2);
    expect(merged[1]).toMatchObject({ id: id(5), status: 'sent', key, clientId: 'abc' });
  });

  it('does not take another user’s message with the same clientId for ours', () => {
    const withPending = addPending([], pending('abc'));
    const merged = mergeMessages(withPending, [stored(5, { username: 'mallory', clientId: 'abc' })]);
    expect(merged).toHaveLength(2);
    expect(merged.map((message) => message.status)).toEqual(['sent', 'pending']);
  });

  it('keeps local messages below stored ones, in the order they were written', () => {
    let list = addPending([], pending('a', 'first'));
    list = addPending(list, pending('b', 'second'));
    list = mergeMessages(list, [stored(9), stored(8)]);
    expect(texts(list)).toEqual(['m8', 'm9', 'first', 'second']);
  });

  it('treats messages with a null clientId (written by outside producers) as plain messages', () => {
    const list = addPending([], pending('a'));
    const merged = mergeMessages(list, [stored(1, { clientId: null })]);
    expect(merged.map((message) => message.status)).toEqual(['sent', 'pending']);
  });
});

describe('sending: pending → sent → failed', () => {
  it('a new message is pending and has no id', () => {
    const [message] = addPending([], pending('abc'));
    expect(message).toMatchObject({ status: 'pending', id: null, clientId: 'abc', key: 'local:abc' });
  });

  it('adding the same clientId twice keeps one', () => {
    const once = addPending([], pending('abc'));
    expect(addPending(once, pending('abc'))).toBe(once);
  });

  it('the ack turns it sent', () => {
    const list = addPending([], pending('abc'));
    const sent = confirmSent(list, 'abc', stored(7, { username: 'alice', clientId: 'abc', text: 'hello' }));
    expect(sent).toEqual([expect.objectContaining({ id: id(7), status: 'sent', key: 'local:abc' })]);
  });

  it('the ack and the broadcast together give one message, in either order', () => {
    const message = stored(7, { username: 'alice', clientId: 'abc', text: 'hello' });
    const list = addPending([], pending('abc'));
    const ackFirst = mergeMessages(confirmSent(list, 'abc', message), [message]);
    const broadcastFirst = confirmSent(mergeMessages(list, [message]), 'abc', message);
    for (const result of [ackFirst, broadcastFirst]) {
      expect(result).toHaveLength(1);
      expect(result[0]).toMatchObject({ id: id(7), status: 'sent' });
    }
  });

  it('a failed ack marks it failed with the reason', () => {
    const failed = markFailed(addPending([], pending('abc')), 'abc', 'rate limited');
    expect(failed[0]).toMatchObject({ status: 'failed', error: 'rate limited', id: null });
  });

  it('a retry makes a failed message pending again, and its ack makes it sent', () => {
    let list = markFailed(addPending([], pending('abc')), 'abc', 'timeout');
    list = markPending(list, 'abc');
    expect(list[0]).toMatchObject({ status: 'pending', clientId: 'abc' });
    list = confirmSent(list, 'abc', stored(3, { username: 'alice', clientId: 'abc' }));
    expect(list[0]).toMatchObject({ status: 'sent', id: id(3) });
  });

  it('a timeout after the broadcast already confirmed the message changes nothing', () => {
    let list = addPending([], pending('abc'));
    list = mergeMessages(list, [stored(3, { username: 'alice', clientId: 'abc' })]);
    expect(markFailed(list, 'abc', 'timeout')).toBe(list);
    expect(list[0]!.status).toBe('sent');
  });

  it('a failed message that turns up stored after all (catch-up) becomes sent', () => {
    const list = markFailed(addPending([], pending('abc')), 'abc', 'socket has been disconnected');
    const merged = mergeMessages(list, [stored(4, { username: 'alice', clientId: 'abc' })]);
    expect(merged).toEqual([expect.objectContaining({ status: 'sent', id: id(4) })]);
    expect(merged[0]!.error).toBeUndefined();
  });
});

describe('ids at the edges', () => {
  it('finds the newest and oldest stored ids, ignoring local messages', () => {
    const list = addPending(mergeMessages([], [stored(2), stored(5)]), pending('x'));
    expect(newestStoredId(list)).toBe(id(5));
    expect(oldestStoredId(list)).toBe(id(2));
    expect(newestStoredId(addPending([], pending('y')))).toBeNull();
  });
});

describe('roomMessagesReducer', () => {
  const join = (messages: Message[], hasOlder = messages.length >= 50) =>
    ({ type: 'joined', room: 'general', messages, hasOlder }) as const;

  it('ignores answers meant for another room', () => {
    const state = initialRoomState('general');
    expect(roomMessagesReducer(state, { type: 'received', room: 'random', messages: [stored(1)] })).toBe(state);
  });

  it('the first join says whether older history exists, a page cut short for its size included', () => {
    const full = Array.from({ length: 50 }, (_, n) => stored(n + 1));
    expect(roomMessagesReducer(initialRoomState('general'), join(full)).hasOlder).toBe(true);
    expect(roomMessagesReducer(initialRoomState('general'), join([stored(1)])).hasOlder).toBe(false);
    expect(roomMessagesReducer(initialRoomState('general'), join([stored(1)], true)).hasOlder).toBe(true);
  });

  it('a rejoin merges the latest page without duplicates and keeps what is known of older history', () => {
    let state = roomMessagesReducer(initialRoomState('general'), join(Array.from({ length: 50 }, (_, n) => stored(n + 1))));
    state = roomMessagesReducer(state, { type: 'olderLoaded', room: 'general', messages: [], hasOlder: false });
    state = roomMessagesReducer(state, { type: 'disconnected', room: 'general' });
    expect(state.joined).toBe(false);
    state = roomMessagesReducer(state, join(Array.from({ length: 50 }, (_, n) => stored(n + 11))));
    expect(state.joined).toBe(true);
    expect(state.hasOlder).toBe(false);
    expect(state.messages).toHaveLength(60);
    expect(new Set(ids(state.messages)).size).toBe(60);
  });

  it('reset to another room starts empty', () => {
    const state = roomMessagesReducer(initialRoomState('general'), join([stored(1)]));
    expect(roomMessagesReducer(state, { type: 'reset', room: 'random' })).toEqual(initialRoomState('random'));
    expect(roomMessagesReducer(state, { type: 'reset', room: 'general' })).toBe(state);
  });
});

describe('applyUpdates', () => {
  it('replaces the messages it names with their new state, keeping keys, and adds none', () => {
    const list = mergeMessages([], [stored(1), stored(2)]);
    const updated = applyUpdates(list, [
      stored(1, { text: 'fixed', editedAt: at(9) }),
      stored(2, { text: '', deleted: true, reactions: [] }),
      stored(7, { text: 'not shown' }),
    ]);
    expect(ids(updated)).toEqual([id(1), id(2)]);
    expect(updated[0]).toMatchObject({ key: list[0]!.key, text: 'fixed', editedAt: at(9), deleted: false });
    expect(updated[1]).toMatchObject({ text: '', deleted: true });
  });

  it('returns the same array when it shows none of them, and through the reducer', () => {
    const list = mergeMessages([], [stored(1)]);
    expect(applyUpdates(list, [stored(5)])).toBe(list);
    const state = { ...initialRoomState('general'), messages: list };
    const reactions = [{ emoji: '👍', users: ['bob', 'carol'] }];
    const next = roomMessagesReducer(state, { type: 'updated', room: 'general', messages: [stored(1, { reactions })] });
    expect(next.messages[0]!.reactions).toEqual(reactions);
    expect(roomMessagesReducer(state, { type: 'updated', room: 'other', messages: [stored(1, { reactions })] })).toBe(state);
  });

  it('a pending reply carries its quote until the stored copy replaces it', () => {
    const quote = { id: id(1), username: 'bob', text: 'm1' };
    const [pendingReply] = addPending([], { ...pending('r'), replyTo: quote });
    expect(pendingReply).toMatchObject({ replyTo: quote, deleted: false, reactions: [], mentions: [] });
  });
});
