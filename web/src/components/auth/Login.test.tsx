import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { deferred, mockFetch, type FakeResponse } from '../../test/fakeFetch';
import { FakeSocket } from '../../test/fakeSocket';
import { renderApp } from '../../test/renderApp';

const anonymous = { 'GET /api/auth/me': { status: 401, body: { error: 'Unauthorized', redirect: '/login' } } };
const chatRoutes = { 'GET /api/rooms': { status: 200, body: [{ id: 'general', name: 'general' }] } };

async function openLogin() {
  const socket = new FakeSocket();
  renderApp('/login', socket.socket);
  return { user: userEvent.setup(), button: await screen.findByRole('button', { name: 'Log in' }) };
}

describe('Login', () => {
  it('has the contract’s labelled fields, button and a link to /register', async () => {
    mockFetch(anonymous);
    await openLogin();
    expect(screen.getByLabelText('Username')).toHaveAttribute('type', 'text');
    expect(screen.getByLabelText('Password')).toHaveAttribute('type', 'password');
    expect(screen.getByRole('link', { name: 'Register' })).toHaveAttribute('href', '/register');
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });

  it('explains empty fields without calling the server, focusing the first one', async () => {
    const fetch = mockFetch(anonymous);
    const { user, button } = await openLogin();
    await user.click(button);
    expect(screen.getByText('Enter your username')).toBeInTheDocument();
    expect(screen.getByText('Enter your password')).toBeInTheDocument();
    expect(screen.getByLabelText('Username')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('Username')).toHaveFocus();
    expect(fetch.callsTo('POST', '/api/auth/login')).toHaveLength(0);
  });

  it('shows the server’s error in an alert and stays on the page', async () => {
    const fetch = mockFetch({
      ...anonymous,
      'POST /api/auth/login': { status: 401, body: { error: 'Invalid username or password' } },
    });
    const { user, button } = await openLogin();
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'wrong-password');
    await user.click(button);
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid username or password');
    expect(fetch.callsTo('POST', '/api/auth/login')[0]!.body).toEqual({ username: 'alice', password: 'wrong-password' });
    expect(screen.getByTestId('location')).toHaveTextContent('/login');
    // A wrong password is not an expired session.
    expect(screen.queryByText('Your session expired')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Log in' })).toBeEnabled();
  });

  it('says how long to wait when locked out (429 with Retry-After)', async () => {
    mockFetch({
      ...anonymous,
      'POST /api/auth/login': {
        status: 429,
        body: { error: 'Too many failed logins, try again later' },
        headers: { 'Retry-After': '30' },
      },
    });
    const { user, button } = await openLogin();
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'whatever1');
    await user.click(button);
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many failed logins, try again later (wait 30 s)');
  });

  it('is busy while the server answers, then opens the chat', async () => {
    const answer = deferred<FakeResponse>();
    mockFetch({
      ...anonymous,
      ...chatRoutes,
      'POST /api/auth/login': () => answer.promise,
    });
    const { user, button } = await openLogin();
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(button);
    const busy = screen.getByRole('button', { name: 'Logging in…' });
    expect(busy).toBeDisabled();
    answer.resolve({ status: 200, body: { username: 'alice' } });
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/));
    expect(await screen.findByRole('log')).toBeInTheDocument();
  });

  it('sends a signed-in user to the chat', async () => {
    mockFetch({ 'GET /api/auth/me': { status: 200, body: { username: 'alice' } }, ...chatRoutes });
    renderApp('/login', new FakeSocket().socket);
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/));
  });
});
