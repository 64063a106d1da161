import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeSocket, openSocket } from '../socket';
import { reconnectDelayMs } from './SocketProvider';
import { mockFetch } from '../test/fakeFetch';
import { FakeSocket } from '../test/fakeSocket';
import { renderApp } from '../test/renderApp';

vi.mock('../socket', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../socket')>()),
  openSocket: vi.fn(),
  closeSocket: vi.fn(),
}));

const chatRoutes = {
  'GET /api/auth/me': { status: 200, body: { username: 'alice' } },
  'GET /api/rooms': { status: 200, body: [] },
  'POST /api/auth/logout': { status: 204 },
};

let opened: FakeSocket[] = [];

beforeEach(() => {
  vi.clearAllMocks();
  opened = [];
  vi.mocked(openSocket).mockImplementation(() => {
    const fake = new FakeSocket({ connected: false });
    opened.push(fake);
    return fake.socket;
  });
});

/** The chat with the provider's own socket (not an injected one), once it is open. */
async function signedIn() {
  mockFetch(chatRoutes);
  renderApp('/');
  await screen.findByRole('log');
  await waitFor(() => expect(opened).toHaveLength(1));
  return opened[0]!;
}

/** A refused handshake as socket.io-client reports it: the message, and the server's data. */
function refusal(message: string, data?: unknown): Error {
  return Object.assign(new Error(message), data === undefined ? {} : { data });
}

describe('SocketProvider: the one owner of the socket', () => {
  it('opens one socket on sign-in and closes that one, once, on logout', async () => {
    const socket = await signedIn();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(closeSocket).toHaveBeenCalledExactlyOnceWith(socket.socket);
    expect(openSocket).toHaveBeenCalledOnce();
  });

  it('closes it, once, when the session expires', async () => {
    const socket = await signedIn();
    socket.serverEmit('session_expired', {});
    expect(await screen.findByText('Your session expired')).toBeInTheDocument();
    expect(closeSocket).toHaveBeenCalledExactlyOnceWith(socket.socket);
  });

  it('opens none for a visitor without a session', async () => {
    mockFetch({ 'GET /api/auth/me': { status: 401, body: { error: 'Unauthorized', code: 'unauthorized' } } });
    renderApp('/');
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(openSocket).not.toHaveBeenCalled();
  });
});

describe('SocketProvider: a refused handshake is judged by its code', () => {
  it('code unauthorized ends the session', async () => {
    const socket = await signedIn();
    socket.serverEmit('connect_error', refusal('unauthorized', { code: 'unauthorized' }));
    expect(await screen.findByText('Your session expired')).toBeInTheDocument();
    expect(closeSocket).toHaveBeenCalledOnce();
  });

  it.each([
    ['forbidden origin', { code: 'forbidden' }],
    ['service unavailable', { code: 'unavailable' }],
    // The text alone decides nothing.
    ['unauthorized', undefined],
    ['xhr poll error', undefined],
  ])('“%s” with data %j keeps the session', async (message, data) => {
    const socket = await signedIn();
    socket.serverEmit('connect_error', refusal(message, data));
    expect(screen.getByRole('log')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
    expect(closeSocket).not.toHaveBeenCalled();
  });
});

describe('SocketProvider: a handshake refused for a passing reason is tried again', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reconnects after the retryAfter the server gave (Redis restarting)', async () => {
    const socket = await signedIn();
    vi.useFakeTimers();
    socket.refuse(refusal('service unavailable', { code: 'unavailable', retryAfter: 2 }));
    await act(() => vi.advanceTimersByTimeAsync(1999));
    expect(socket.connected).toBe(false);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(socket.connected).toBe(true);
    expect(closeSocket).not.toHaveBeenCalled();
  });

  it('does not retry a foreign origin', async () => {
    const socket = await signedIn();
    vi.useFakeTimers();
    socket.refuse(refusal('forbidden origin', { code: 'forbidden' }));
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(socket.connected).toBe(false);
  });

  it('backs off on refusals in a row, up to 30 s', () => {
    const unavailable = refusal('service unavailable', { code: 'unavailable', retryAfter: 2 });
    expect([0, 1, 2, 3, 4].map((n) => reconnectDelayMs(unavailable, n))).toEqual([2000, 4000, 8000, 16000, 30000]);
    expect(reconnectDelayMs(refusal('xhr poll error'), 0)).toBe(1000);
  });
});
