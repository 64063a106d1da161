import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NO_CHANGES, mockFetch, type Route } from '../../test/fakeFetch';
import { FakeSocket } from '../../test/fakeSocket';
import { message, renderApp, ulid } from '../../test/renderApp';
import { catchUpFrom } from '../../hooks/useRoomJoin';
import type { Message } from '../../types';

const ROOMS = [
  { id: 'general', name: 'general' },
  { id: 'random-talk', name: 'Random Talk' },
];

function setup(path = '/', routes: Record<string, Route> = {}) {
  const fetch = mockFetch({
    'GET /api/auth/me': { status: 200, body: { username: 'alice' } },
    'GET /api/rooms': { status: 200, body: ROOMS },
    'POST /api/auth/logout': { status: 204 },
    ...NO_CHANGES,
    ...routes,
  });
  const socket = new FakeSocket();
  renderApp(path, socket.socket);
  return { fetch, socket, user: userEvent.setup() };
}

/** Renders the chat and answers the join with `messages`. */
async function joined(messages: Message[] = [], path = '/', routes: Record<string, Route> = {}) {
  const context = setup(path, routes);
  await waitFor(() => expect(context.socket.unanswered('join')).toHaveLength(1));
  context.socket.reply('join', { ok: true, messages });
  return context;
}

const items = () => within(screen.getByRole('log')).queryAllByTestId('message');
const composer = () => screen.getByRole('textbox', { name: 'Message' });

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatRoom: joining and showing messages', () => {
  it('joins general on / and shows the ack’s messages in the log, in id order', async () => {
    const { socket } = await joined([message(1, { text: 'first' }), message(2, { text: 'second', username: 'carol' })]);
    expect(socket.sent('join')[0]!.payload).toEqual({ room: 'general' });
    const [first, second] = items();
    expect(first).toHaveAttribute('data-id', ulid(1));
    expect(first).toHaveAttribute('data-status', 'sent');
    expect(first).toHaveTextContent('bob');
    expect(first).toHaveTextContent('first');
    expect(second).toHaveTextContent('carol');
    expect(screen.getByRole('log')).toHaveAttribute('aria-live', 'polite');
    const time = first!.querySelector('time')!;
    expect(time).toHaveAttribute('dateTime', message(1).createdAt);
    expect(time.textContent).toMatch(/^\d{2}:\d{2}$/);
    expect(time.getAttribute('title')).toBeTruthy();
  });

  it('has the contract’s controls: Message box, Send, Log out, room links, Online', async () => {
    await joined();
    expect(composer().tagName).toBe('TEXTAREA');
    expect(screen.getByRole('button', { name: 'Send' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Log out' })).toBeInTheDocument();
    expect(await screen.findByRole('link', { name: 'Random Talk' })).toHaveAttribute('href', '/rooms/random-talk');
    expect(screen.getByRole('link', { name: 'general' })).toHaveAttribute('aria-current', 'page');
    expect(screen.getByRole('heading', { name: 'Online' })).toBeInTheDocument();
    expect(screen.getByRole('list', { name: 'Online' })).toBeInTheDocument();
  });

  it('renders message text as text, never as HTML', async () => {
    await joined([message(1, { text: '<img src=x onerror="alert(1)"><b>bold</b>' })]);
    const [item] = items();
    expect(item).toHaveTextContent('<img src=x onerror="alert(1)"><b>bold</b>');
    expect(item!.querySelector('img, b')).toBeNull();
  });

  it('adds live messages of this room only, without duplicates', async () => {
    const { socket } = await joined([message(1)]);
    socket.serverEmit('message', message(3));
    socket.serverEmit('message', message(2));
    socket.serverEmit('message', message(3));
    socket.serverEmit('message', message(4, { room: 'random-talk' }));
    expect(items().map((item) => item.dataset.id)).toEqual([ulid(1), ulid(2), ulid(3)]);
  });

  it('shows the join error of a room that does not exist', async () => {
    const { socket } = setup('/rooms/nope');
    await waitFor(() => expect(socket.unanswered('join')).toHaveLength(1));
    socket.reply('join', { ok: false, error: 'room not found' });
    expect(screen.getByRole('alert')).toHaveTextContent('room not found');
    expect(screen.getByRole('log')).toHaveTextContent('This room cannot be shown.');
    expect(screen.getByRole('log')).not.toHaveTextContent('Loading messages');
    expect(composer()).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
  });
});

describe('ChatRoom: sending', () => {
  it('Enter sends: pending with a clientId, then sent on the ack', async () => {
    const { socket, user } = await joined([message(1)]);
    await user.type(composer(), '  hello there  {Enter}');
    expect(composer()).toHaveValue('');
    const emitted = socket.sent('message')[0]!;
    const { clientId, ...rest } = emitted.payload as { clientId: string };
    expect(rest).toEqual({ room: 'general', text: 'hello there' });
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);

    const mine = items()[1]!;
    expect(mine).toHaveAttribute('data-status', 'pending');
    expect(within(mine).getByTestId('message-status')).toHaveTextContent('pending');
    expect(mine).toHaveAttribute('data-client-id', clientId);
    expect(mine).not.toHaveAttribute('data-id');

    socket.reply('message', { ok: true, message: message(2, { username: 'alice', text: 'hello there', clientId }) });
    expect(items()[1]).toHaveAttribute('data-status', 'sent');
    expect(items()[1]).toHaveAttribute('data-id', ulid(2));
    expect(within(items()[1]!).getByTestId('message-status')).toHaveTextContent('sent');
  });

  it('reconciles the broadcast of an own message with the pending one (no duplicate)', async () => {
    const { socket, user } = await joined();
    await user.type(composer(), 'hi{Enter}');
    const { clientId } = socket.sent('message')[0]!.payload as { clientId: string };
    const stored = message(5, { username: 'alice', text: 'hi', clientId });
    socket.serverEmit('message', stored);
    expect(items()).toHaveLength(1);
    expect(items()[0]).toHaveAttribute('data-status', 'sent');
    socket.reply('message', { ok: true, message: stored });
    expect(items()).toHaveLength(1);
  });

  it('Shift+Enter starts a new line instead of sending; the Send button sends', async () => {
    const { socket, user } = await joined();
    await user.type(composer(), 'line one{Shift>}{Enter}{/Shift}line two');
    expect(composer()).toHaveValue('line one\nline two');
    expect(socket.sent('message')).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Send' }));
    expect((socket.sent('message')[0]!.payload as { text: string }).text).toBe('line one\nline two');
  });

  it('does not send blank messages', async () => {
    const { socket, user } = await joined();
    await user.type(composer(), '   {Enter}');
    expect(socket.sent('message')).toHaveLength(0);
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
  });

  it('a refused send is failed with a Retry that re-sends the same clientId', async () => {
    const { socket, user } = await joined();
    await user.type(composer(), 'hello{Enter}');
    const first = socket.sent('message')[0]!.payload as { clientId: string };
    socket.reply('message', { ok: false, error: 'rate limit exceeded' });

    const failed = items()[0]!;
    expect(failed).toHaveAttribute('data-status', 'failed');
    expect(within(failed).getByTestId('message-status')).toHaveTextContent('failed');
    expect(failed).toHaveTextContent('rate limit exceeded');

    await user.click(within(failed).getByRole('button', { name: 'Retry' }));
    const second = socket.sent('message')[1]!.payload as { clientId: string; text: string };
    expect(second).toEqual({ room: 'general', text: 'hello', clientId: first.clientId });
    expect(items()[0]).toHaveAttribute('data-status', 'pending');

    socket.reply('message', { ok: true, message: message(9, { username: 'alice', text: 'hello', clientId: first.clientId }) });
    expect(items()).toHaveLength(1);
    expect(items()[0]).toHaveAttribute('data-status', 'sent');
    expect(within(items()[0]!).queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
  });

  it('an ack timeout marks the message failed', async () => {
    const { socket, user } = await joined();
    await user.type(composer(), 'anyone?{Enter}');
    socket.timeOut('message');
    expect(items()[0]).toHaveAttribute('data-status', 'failed');
    expect(within(items()[0]!).getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });

  it('a timeout arriving after the broadcast confirmed the message keeps it sent', async () => {
    const { socket, user } = await joined();
    await user.type(composer(), 'late{Enter}');
    const { clientId } = socket.sent('message')[0]!.payload as { clientId: string };
    socket.serverEmit('message', message(3, { username: 'alice', text: 'late', clientId }));
    socket.timeOut('message');
    expect(items()).toHaveLength(1);
    expect(items()[0]).toHaveAttribute('data-status', 'sent');
  });

  it('keeps own pending messages below others’ and marks them as own', async () => {
    const { socket, user } = await joined([message(1)]);
    await user.type(composer(), 'mine{Enter}');
    socket.serverEmit('message', message(2, { text: 'theirs' }));
    expect(items().map((item) => item.querySelector('.message-text')!.textContent)).toEqual(['message 1', 'theirs', 'mine']);
    expect(items()[2]).toHaveAttribute('data-own', 'true');
    expect(items()[0]).not.toHaveAttribute('data-own');
  });
});

describe('ChatRoom: connection, reconnect and catch-up', () => {
  it('shows "Reconnecting…" while disconnected, then rejoins and catches up without gaps or duplicates', async () => {
    const pages: Record<string, { messages: Message[]; next: string | null }> = {
      // From the newest id seen minus the visibility bound: message 2 comes again, shown once.
      [catchUpFrom(ulid(2))]: { messages: [message(2), message(3), message(4)], next: ulid(4) },
      [ulid(4)]: { messages: [message(5)], next: null },
    };
    const { socket, fetch } = await joined([message(1), message(2)], '/', {
      'GET /api/rooms/general/messages': (url) => ({ status: 200, body: pages[url.searchParams.get('after')!] }),
    });
    const banner = screen.getByTestId('connection-banner');
    expect(banner).toHaveAttribute('role', 'status');
    expect(banner).toHaveTextContent('');

    socket.drop();
    expect(banner).toHaveTextContent('Reconnecting…');

    socket.connect();
    expect(banner).toHaveTextContent('');
    expect(socket.sent('join')).toHaveLength(2);
    socket.reply('join', { ok: true, messages: [message(4), message(5)] });

    await waitFor(() => expect(items()).toHaveLength(5));
    const afters = fetch.callsTo('GET', '/api/rooms/general/messages').map((call) => ({
      after: call.url.searchParams.get('after'),
      limit: call.url.searchParams.get('limit'),
    }));
    expect(afters).toEqual([
      { after: catchUpFrom(ulid(2)), limit: '100' },
      { after: ulid(4), limit: '100' },
    ]);
    expect(items().map((item) => item.dataset.id)).toEqual([1, 2, 3, 4, 5].map(ulid));
  });

  it('a catch-up that fails part way retries from where it stopped', async () => {
    let failNext = true;
    const { socket, fetch } = await joined([message(1), message(2)], '/', {
      'GET /api/rooms/general/messages': (url) => {
        const after = url.searchParams.get('after');
        if (after === catchUpFrom(ulid(2))) return { status: 200, body: { messages: [message(3)], next: ulid(3) } };
        if (failNext) {
          failNext = false;
          return { status: 503, body: { error: 'Service unavailable' } };
        }
        return { status: 200, body: { messages: [message(4), message(5)], next: null } };
      },
    });
    socket.drop();
    socket.connect();
    vi.useFakeTimers({ shouldAdvanceTime: true });
    socket.reply('join', { ok: true, messages: [message(5)] });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load missed messages (Service unavailable)');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3_000);
    });
    await waitFor(() => expect(items()).toHaveLength(5));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    const afters = fetch.callsTo('GET', '/api/rooms/general/messages').map((call) => call.url.searchParams.get('after'));
    expect(afters).toEqual([catchUpFrom(ulid(2)), ulid(3), ulid(3)]);
    expect(items().map((item) => item.dataset.id)).toEqual([1, 2, 3, 4, 5].map(ulid));
  });

  it('a send cut off by a disconnect is re-sent with the same clientId after the rejoin', async () => {
    const { socket, user } = await joined([], '/', {
      'GET /api/rooms/general/messages': { status: 200, body: { messages: [], next: null } },
    });
    await user.type(composer(), 'through the tunnel{Enter}');
    const { clientId } = socket.sent('message')[0]!.payload as { clientId: string };
    socket.drop();
    expect(items()[0]).toHaveAttribute('data-status', 'pending');

    socket.connect();
    expect(socket.sent('message')).toHaveLength(1); // not before the room is joined again
    socket.reply('join', { ok: true, messages: [] });
    expect(socket.sent('message')).toHaveLength(2);
    expect((socket.sent('message')[1]!.payload as { clientId: string }).clientId).toBe(clientId);
    socket.reply('message', { ok: true, message: message(1, { username: 'alice', text: 'through the tunnel', clientId }) });
    expect(items()[0]).toHaveAttribute('data-status', 'sent');
  });

  it('a message written while disconnected fails after the ack timeout if the connection stays down', async () => {
    const { socket, user } = await joined();
    socket.drop();
    vi.useFakeTimers({ shouldAdvanceTime: true });
    await user.type(composer(), 'offline{Enter}');
    expect(socket.sent('message')).toHaveLength(0);
    expect(items()[0]).toHaveAttribute('data-status', 'pending');
    act(() => {
      vi.advanceTimersByTime(10_001);
    });
    expect(items()[0]).toHaveAttribute('data-status', 'failed');
  });
});

describe('ChatRoom: rooms', () => {
  it('switching rooms leaves the previous one and joins the next', async () => {
    const { socket, user } = await joined([message(1)]);
    await user.click(await screen.findByRole('link', { name: 'Random Talk' }));
    await waitFor(() => expect(socket.sent('leave')).toHaveLength(1));
    expect(socket.sent('leave')[0]!.payload).toEqual({ room: 'general' });
    expect(socket.unanswered('join')[0]!.payload).toEqual({ room: 'random-talk' });
    expect(items()).toHaveLength(0);
    socket.reply('join', { ok: true, messages: [message(7, { room: 'random-talk' })] });
    expect(items()).toHaveLength(1);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Random Talk');
  });

  it('creates a room and goes to it', async () => {
    const rooms = [...ROOMS];
    const { fetch, socket, user } = await joined([], '/', {
      'GET /api/rooms': () => ({ status: 200, body: rooms }),
      'POST /api/rooms': (_url, body) => {
        const room = { id: 'book-club', name: (body as { name: string }).name };
        rooms.push(room);
        return { status: 201, body: room };
      },
    });
    // The contract's second wave: **New room** is a button opening a dialog with **Name**.
    await user.click(screen.getByRole('button', { name: 'New room' }));
    await user.type(screen.getByLabelText('Name'), 'Book Club');
    await user.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/rooms/book-club'));
    expect(fetch.callsTo('POST', '/api/rooms')[0]!.body).toEqual({ name: 'Book Club' });
    await waitFor(() => expect(socket.unanswered('join')[0]?.payload).toEqual({ room: 'book-club' }));
    expect(screen.getByRole('link', { name: 'Book Club' })).toHaveAttribute('aria-current', 'page');
  });

  it('shows why a room could not be created', async () => {
    const { user } = await joined([], '/', {
      'POST /api/rooms': { status: 409, body: { error: 'Room already exists' } },
    });
    await user.click(screen.getByRole('button', { name: 'New room' }));
    await user.type(screen.getByLabelText('Name'), 'general');
    await user.click(screen.getByRole('button', { name: 'Create' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Room already exists');
  });

  it('loads older history before the oldest message', { timeout: 30_000 }, async () => {
    const page = Array.from({ length: 50 }, (_, n) => message(n + 100));
    const { fetch, user } = await joined(page, '/', {
      'GET /api/rooms/general/messages': { status: 200, body: { messages: [message(98), message(99)], next: null } },
    });
    await user.click(screen.getByRole('button', { name: 'Load older messages' }));
    await waitFor(() => expect(items()).toHaveLength(52));
    const call = fetch.callsTo('GET', '/api/rooms/general/messages')[0]!;
    expect(call.url.searchParams.get('before')).toBe(ulid(100));
    expect(items()[0]).toHaveAttribute('data-id', ulid(98));
    expect(screen.queryByRole('button', { name: 'Load older messages' })).not.toBeInTheDocument();
  });

  it('logs out: POST /api/auth/logout, then the login page', async () => {
    const { fetch, user } = await joined();
    await user.click(screen.getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(fetch.callsTo('POST', '/api/auth/logout')).toHaveLength(1);
    expect(screen.queryByText('Your session expired')).not.toBeInTheDocument();
  });
});

describe('ChatRoom: presence and typing', () => {
  it('lists who is online from presence events', async () => {
    const { socket } = await joined();
    socket.serverEmit('presence', { room: 'general', users: ['carol', 'alice', 'bob'] });
    socket.serverEmit('presence', { room: 'random-talk', users: ['zed'] });
    const online = screen.getByRole('list', { name: 'Online' });
    expect(within(online).getAllByRole('listitem').map((item) => item.textContent)).toEqual(['alice', 'bob', 'carol']);
  });

  it('shows who is typing and hides them 3 s after their last typing event', async () => {
    const { socket } = await joined();
    const indicator = screen.getByTestId('typing-indicator');
    vi.useFakeTimers();
    socket.serverEmit('typing', { room: 'general', username: 'bob' });
    expect(indicator).toHaveTextContent('bob is typing…');
    act(() => {
      vi.advanceTimersByTime(2_000);
    });
    socket.serverEmit('typing', { room: 'general', username: 'bob' });
    socket.serverEmit('typing', { room: 'general', username: 'carol' });
    expect(indicator).toHaveTextContent('bob and carol are typing…');
    act(() => {
      vi.advanceTimersByTime(2_500);
    });
    expect(indicator).toHaveTextContent('bob and carol are typing…');
    act(() => {
      vi.advanceTimersByTime(600);
    });
    expect(indicator).toHaveTextContent('');
  });

  it('emits typing at most every 2 s while the user types', async () => {
    const { socket, user } = await joined();
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValue(1_000_000);
    await user.type(composer(), 'abc');
    expect(socket.sent('typing')).toEqual([expect.objectContaining({ payload: { room: 'general' } })]);
    now.mockReturnValue(1_002_100);
    await user.type(composer(), 'd');
    expect(socket.sent('typing')).toHaveLength(2);
  });
});
