import { act, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { ParleySocket } from '../socket';
import { ZERO_ULID } from '../api';
import { mockFetch, type Route } from '../test/fakeFetch';
import { FakeSocket } from '../test/fakeSocket';
import { message, ulid } from '../test/renderApp';
import { renderRoomHook } from '../test/roomHarness';
import { ulidAt, ulidTime } from '../lib/ulid';
import { catchUpFrom, useRoomJoin, VISIBILITY_BOUND_MS } from './useRoomJoin';

async function setup(routes: Record<string, Route> = {}) {
  const fetch = mockFetch({
    'GET /api/auth/me': { status: 200, body: { username: 'alice' } },
    'GET /api/rooms/general/changes': { status: 200, body: { messages: [], next: null, sync: ZERO_ULID } },
    ...routes,
  });
  const fake = new FakeSocket();
  const onJoined = vi.fn<(socket: ParleySocket) => void>();
  const onLeft = vi.fn<() => void>();
  const rendered = await renderRoomHook((args) => useRoomJoin(args), {
    room: 'general',
    socket: fake.socket,
    onJoined,
    onLeft,
  });
  const state = () => rendered.result.current.state;
  return { fake, fetch, onJoined, onLeft, state, ...rendered };
}

describe('useRoomJoin', () => {
  it('joins at once on a connected socket and hands the joined socket to the outbox', async () => {
    const { fake, onJoined, state } = await setup();
    expect(fake.unanswered('join').map((entry) => entry.payload)).toEqual([{ room: 'general' }]);
    fake.reply('join', { ok: true, messages: [message(1), message(2)] });
    expect(state()).toMatchObject({ joined: true, joinError: null, hasOlder: false });
    expect(state().messages.map((entry) => entry.id)).toEqual([ulid(1), ulid(2)]);
    expect(onJoined).toHaveBeenCalledExactlyOnceWith(fake.socket);
  });

  it('adds live messages of its own room only', async () => {
    const { fake, state } = await setup();
    fake.reply('join', { ok: true, messages: [] });
    fake.serverEmit('message', message(3));
    fake.serverEmit('message', message(4, { room: 'random-talk' }));
    expect(state().messages.map((entry) => entry.id)).toEqual([ulid(3)]);
  });

  it('after a drop, rejoins on connect and catches up from the newest message seen minus the bound', async () => {
    const { fake, onJoined, onLeft, state, fetch } = await setup({
      'GET /api/rooms/general/messages': { status: 200, body: { messages: [message(3)], next: null } },
    });
    fake.reply('join', { ok: true, messages: [message(1), message(2)] });
    fake.drop();
    expect(onLeft).toHaveBeenCalledOnce();
    expect(state().joined).toBe(false);

    fake.connect();
    fake.reply('join', { ok: true, messages: [message(2)] });
    await waitFor(() => expect(state().messages.map((entry) => entry.id)).toEqual([1, 2, 3].map(ulid)));
    expect(fetch.callsTo('GET', '/api/rooms/general/messages').map((call) => call.url.searchParams.get('after'))).toEqual([catchUpFrom(ulid(2))]);
    expect(onJoined).toHaveBeenCalledTimes(2);
  });

  it('catches up from 10 s before the newest id seen, so a message stored late is not skipped', () => {
    const newest = '01KB0000000000000000000000';
    const from = catchUpFrom(newest);
    expect(VISIBILITY_BOUND_MS).toBe(10_000);
    expect(ulidTime(from)).toBe(ulidTime(newest) - 10_000);
    expect(from).toBe(ulidAt(ulidTime(newest) - 10_000));
    expect(from.endsWith('0'.repeat(16))).toBe(true);
    expect(catchUpFrom(null)).toBe('00000000000000000000000000');
    expect(catchUpFrom('00000000010000000000000000')).toBe('00000000000000000000000000');
  });

  it('a message stored late, older than the newest seen, arrives once by the catch-up', async () => {
    // Seen before the drop: 1 and 3. Stored after it: 2 (older id than 3), then 4.
    const routes = { 'GET /api/rooms/general/messages': { status: 200, body: { messages: [message(2), message(3), message(4)], next: null } } };
    const { fake, state, fetch } = await setup(routes);
    fake.reply('join', { ok: true, messages: [message(1)] });
    fake.serverEmit('message', message(3));
    fake.drop();
    fake.connect();
    fake.reply('join', { ok: true, messages: [message(3), message(4)] });
    await waitFor(() => expect(state().messages.map((entry) => entry.id)).toEqual([1, 2, 3, 4].map(ulid)));
    const after = fetch.callsTo('GET', '/api/rooms/general/messages').map((call) => call.url.searchParams.get('after'));
    expect(after).toEqual([catchUpFrom(ulid(3))]);
    expect(after[0]! < ulid(2)).toBe(true);
  });

  it('a catch-up refused as unauthorized ends the session without a sync error, even without a code', async () => {
    const { fake, result, state } = await setup({
      'GET /api/rooms/general/messages': { status: 401, body: { error: 'Unauthorized', redirect: '/login' } },
    });
    fake.reply('join', { ok: true, messages: [message(1)] });
    fake.drop();
    fake.connect();
    fake.reply('join', { ok: true, messages: [] });
    await waitFor(() => expect(result.current.auth.state.status).toBe('anonymous'));
    expect(state().syncError).toBeNull();
  });

  it('shows why a join was refused; code unauthorized ends the session instead', async () => {
    const { fake, result, state } = await setup();
    fake.reply('join', { ok: false, error: "No room 'general'", code: 'not_found' });
    expect(state()).toMatchObject({ joined: false, joinError: "No room 'general'" });
    expect(result.current.auth.state.status).toBe('authenticated');

    fake.drop();
    fake.connect();
    fake.reply('join', { ok: false, error: 'session expired', code: 'unauthorized' });
    expect(result.current.auth.state).toEqual({ status: 'anonymous', notice: 'Your session expired' });
  });

  it('retries a join that got no answer', async () => {
    const { fake } = await setup();
    vi.useFakeTimers();
    try {
      fake.timeOut('join');
      expect(fake.sent('join')).toHaveLength(1);
      act(() => {
        vi.advanceTimersByTime(2_000);
      });
      expect(fake.sent('join')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves the room when unmounted, and stops listening', async () => {
    const { fake, unmount } = await setup();
    fake.reply('join', { ok: true, messages: [] });
    unmount();
    await waitFor(() => expect(fake.sent('leave').map((entry) => entry.payload)).toEqual([{ room: 'general' }]));
    expect(['connect', 'disconnect', 'message'].map((event) => fake.listenerCount(event))).toEqual([0, 0, 0]);
  });

  it('converges after a reconnect: edits, deletions and reactions made meanwhile, from the sync point kept', async () => {
    const sync1 = '01J00000000000000000000100';
    const sync2 = '01J00000000000000000000200';
    const changes: Route = (url) => {
      const since = url.searchParams.get('since');
      if (since === catchUpFrom(ulid(3))) return { status: 200, body: { messages: [], next: null, sync: sync1 } };
      if (since === sync1) {
        return {
          status: 200,
          body: { messages: [message(1, { text: 'fixed', editedAt: '2024-01-01T12:05:00Z' })], next: sync2, sync: sync2 },
        };
      }
      const reactions = [{ emoji: '👍', users: ['bob', 'carol'] }];
      return {
        status: 200,
        body: { messages: [message(2, { text: '', deleted: true }), message(3, { reactions }), message(9)], next: null, sync: '01J00000000000000000000300' },
      };
    };
    const { fake, state, fetch } = await setup({
      'GET /api/rooms/general/changes': changes,
      'GET /api/rooms/general/messages': { status: 200, body: { messages: [], next: null } },
    });
    fake.reply('join', { ok: true, messages: [message(1), message(2), message(3)] });
    await waitFor(() => expect(fetch.callsTo('GET', '/api/rooms/general/changes')).toHaveLength(1));
    fake.drop();
    fake.connect();
    fake.reply('join', { ok: true, messages: [] });
    await waitFor(() => expect(state().messages[2]!.reactions).toHaveLength(1));
    const [first, second, third] = state().messages;
    expect(first).toMatchObject({ text: 'fixed', editedAt: '2024-01-01T12:05:00Z' });
    expect(second).toMatchObject({ text: '', deleted: true });
    expect(third!.reactions).toEqual([{ emoji: '👍', users: ['bob', 'carol'] }]);
    // A change to a message not shown does not add it: history shown stays without gaps.
    expect(state().messages.map((entry) => entry.id)).toEqual([1, 2, 3].map(ulid));
    const since = fetch.callsTo('GET', '/api/rooms/general/changes').map((call) => call.url.searchParams.get('since'));
    expect(since).toEqual([catchUpFrom(ulid(3)), sync1, sync2]);
  });

  it('applies live message_updated of its own room, and a catch-up answer does not undo a newer live one', async () => {
    let answer!: (page: { status: number; body: unknown }) => void;
    const { fake, state } = await setup({
      'GET /api/rooms/general/changes': () => new Promise((resolve) => (answer = resolve)),
    });
    fake.reply('join', { ok: true, messages: [message(1), message(2)] });
    await waitFor(() => expect(answer).toBeDefined());
    fake.serverEmit('message_updated', message(1, { text: 'live edit', editedAt: '2024-01-01T12:09:00Z' }));
    fake.serverEmit('message_updated', message(2, { room: 'random-talk', text: 'elsewhere' }));
    expect(state().messages.map((entry) => entry.text)).toEqual(['live edit', 'message 2']);
    act(() => answer({ status: 200, body: { messages: [message(1, { text: 'older edit' })], next: null, sync: ZERO_ULID } }));
    await waitFor(() => expect(state().syncError).toBeNull());
    await act(async () => {});
    expect(state().messages[0]!.text).toBe('live edit');
  });
});
