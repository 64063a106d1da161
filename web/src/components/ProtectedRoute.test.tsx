import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { deferred, mockFetch, type FakeResponse } from '../test/fakeFetch';
import { FakeSocket } from '../test/fakeSocket';
import { renderApp } from '../test/renderApp';

const signedIn = { 'GET /api/auth/me': { status: 200, body: { username: 'alice' } } };
const unauthorized = { status: 401, body: { error: 'Unauthorized', redirect: '/login' } };

describe('ProtectedRoute', () => {
  it('sends a visitor without a session to /login, without a notice', async () => {
    mockFetch({ 'GET /api/auth/me': unauthorized });
    renderApp('/rooms/random', new FakeSocket().socket);
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(screen.getByLabelText('Username')).toBeInTheDocument();
    expect(screen.queryByText('Your session expired')).not.toBeInTheDocument();
  });

  it('on any 401 sends a signed-in user to /login saying the session expired', async () => {
    mockFetch({ ...signedIn, 'GET /api/rooms': unauthorized });
    renderApp('/', new FakeSocket().socket);
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(screen.getByRole('status')).toHaveTextContent('Your session expired');
  });

  it('says the session expired after a reload if this browser had one', async () => {
    localStorage.setItem('parley.hadSession', '1');
    mockFetch({ 'GET /api/auth/me': unauthorized });
    renderApp('/', new FakeSocket().socket);
    expect(await screen.findByText('Your session expired')).toBeInTheDocument();
  });

  it('on the socket’s session_expired event sends the user to /login with the notice', async () => {
    mockFetch({ ...signedIn, 'GET /api/rooms': { status: 200, body: [] } });
    const socket = new FakeSocket();
    renderApp('/rooms/general', socket.socket);
    await screen.findByRole('log');
    socket.serverEmit('session_expired', {});
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(screen.getByText('Your session expired')).toBeInTheDocument();
  });

  it('never says the session expired after a chosen logout, though the socket hears it first', async () => {
    const socket = new FakeSocket();
    const answer = deferred<FakeResponse>();
    // The server ends the session and tells its sockets before its answer arrives.
    mockFetch({ ...signedIn, 'GET /api/rooms': { status: 200, body: [] }, 'POST /api/auth/logout': () => answer.promise });
    renderApp('/rooms/general', socket.socket);
    await screen.findByRole('log');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Log out' }));
    socket.serverEmit('session_expired', {});
    expect(screen.queryByText('Your session expired')).not.toBeInTheDocument();
    answer.resolve({ status: 204 });
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(screen.getByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.queryByText('Your session expired')).not.toBeInTheDocument();
  });

  it('treats a handshake refused as unauthorized like an expired session', async () => {
    mockFetch({ ...signedIn, 'GET /api/rooms': { status: 200, body: [] } });
    const socket = new FakeSocket({ connected: false });
    renderApp('/', socket.socket);
    await screen.findByRole('log');
    // As socket.io-client reports a refused handshake: the message, and the server's data.
    socket.serverEmit('connect_error', Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized' } }));
    expect(await screen.findByText('Your session expired')).toBeInTheDocument();
  });

  it('after logging in again, returns to the page the user was on', async () => {
    let loggedIn = true;
    mockFetch({
      ...signedIn,
      'GET /api/rooms': () => (loggedIn ? { status: 200, body: [] } : unauthorized),
      'POST /api/auth/login': () => {
        loggedIn = true;
        return { status: 200, body: { username: 'alice' } };
      },
    });
    const socket = new FakeSocket();
    renderApp('/rooms/random', socket.socket);
    await screen.findByRole('log');
    loggedIn = false;
    socket.serverEmit('session_expired', {});
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/rooms/random'));
  });
});
