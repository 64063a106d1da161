import { act } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch } from '../test/fakeFetch';
import { FakeSocket } from '../test/fakeSocket';
import { message } from '../test/renderApp';
import { renderRoomHook } from '../test/roomHarness';
import { useOutbox } from './useOutbox';

async function setup() {
  mockFetch({ 'GET /api/auth/me': { status: 200, body: { username: 'alice' } } });
  const fake = new FakeSocket();
  const { result } = await renderRoomHook((args) => useOutbox(args), { room: 'general', socket: fake.socket });
  const outbox = () => result.current.value;
  const messages = () => result.current.state.messages;
  const joined = () => act(() => outbox().joined(fake.socket));
  return { fake, result, outbox, messages, joined };
}

const clientIdOf = (fake: FakeSocket, index = 0) => (fake.sent('message')[index]!.payload as { clientId: string }).clientId;

afterEach(() => {
  vi.useRealTimers();
});

describe('useOutbox', () => {
  it('holds a message until the room is joined, then sends it once', async () => {
    const { fake, outbox, messages, joined } = await setup();
    act(() => outbox().send('hello'));
    expect(messages()).toMatchObject([{ text: 'hello', status: 'pending', username: 'alice' }]);
    expect(fake.sent('message')).toHaveLength(0);

    joined();
    expect(fake.sent('message')).toHaveLength(1);
    expect(fake.sent('message')[0]!.payload).toEqual({ room: 'general', text: 'hello', clientId: messages()[0]!.clientId });
    joined(); // a second join has nothing left to send
    expect(fake.sent('message')).toHaveLength(1);

    const clientId = clientIdOf(fake);
    fake.reply('message', { ok: true, message: message(1, { username: 'alice', text: 'hello', clientId }) });
    expect(messages()).toMatchObject([{ id: message(1).id, status: 'sent', clientId }]);
  });

  it('a refused send fails with the server’s text; Retry sends the same clientId', async () => {
    const { fake, outbox, messages, joined } = await setup();
    joined();
    act(() => outbox().send('hello'));
    const clientId = clientIdOf(fake);
    fake.reply('message', { ok: false, error: 'Too many messages', code: 'rate_limited', retryAfter: 3 });
    expect(messages()).toMatchObject([{ status: 'failed', error: 'Too many messages' }]);

    act(() => outbox().retry(clientId));
    expect(messages()[0]!.status).toBe('pending');
    expect(clientIdOf(fake, 1)).toBe(clientId);
  });

  it('a send cut off by a drop waits for the next join and goes again with its clientId', async () => {
    const { fake, outbox, messages, joined } = await setup();
    joined();
    act(() => outbox().send('through the tunnel'));
    const clientId = clientIdOf(fake);
    act(() => outbox().left());
    fake.drop();
    expect(messages()[0]!.status).toBe('pending');
    act(() => outbox().send('while offline'));
    expect(fake.sent('message')).toHaveLength(1);

    fake.connect();
    joined();
    expect(fake.sent('message').map((entry) => entry.payload)).toEqual([
      { room: 'general', text: 'through the tunnel', clientId },
      { room: 'general', text: 'through the tunnel', clientId },
      { room: 'general', text: 'while offline', clientId: messages()[1]!.clientId },
    ]);
  });

  it('a held message fails when no join comes within the ack timeout', async () => {
    const { outbox, messages } = await setup();
    vi.useFakeTimers();
    act(() => outbox().send('anyone?'));
    act(() => {
      vi.advanceTimersByTime(10_001);
    });
    expect(messages()).toMatchObject([{ status: 'failed', error: 'Not connected' }]);
  });

  it('a send refused with code unauthorized ends the session', async () => {
    const { fake, result, outbox, joined } = await setup();
    joined();
    act(() => outbox().send('hello'));
    fake.reply('message', { ok: false, error: 'session expired', code: 'unauthorized' });
    expect(result.current.auth.state).toEqual({ status: 'anonymous', notice: 'Your session expired' });
  });

  it('decides on the code, not the text', async () => {
    const { fake, result, outbox, joined } = await setup();
    joined();
    act(() => outbox().send('hello'));
    fake.reply('message', { ok: false, error: 'session expired', code: 'invalid' });
    expect(result.current.auth.state.status).toBe('authenticated');
  });
});
