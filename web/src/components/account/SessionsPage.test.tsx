import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { NO_CHANGES, mockFetch, type Route } from '../../test/fakeFetch';
import { FakeSocket } from '../../test/fakeSocket';
import { renderApp } from '../../test/renderApp';
import type { SessionInfo } from '../../types';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const PHONE = 'Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36';

function session(fields: Partial<SessionInfo>): SessionInfo {
  const now = new Date().toISOString();
  return { id: 'id', createdAt: now, lastSeenAt: now, userAgent: FIREFOX, current: false, ...fields };
}

const SESSIONS = [
  session({ id: 'phone', userAgent: PHONE, lastSeenAt: new Date(Date.now() - 5 * 60_000).toISOString() }),
  session({ id: 'here', current: true }),
];

function setup(routes: Record<string, Route> = {}, path = '/account/sessions') {
  const fetch = mockFetch({
    'GET /api/auth/me': { status: 200, body: { username: 'alice' } },
    'GET /api/rooms': { status: 200, body: [{ id: 'general', name: 'general' }] },
    'GET /api/auth/sessions': { status: 200, body: SESSIONS },
    'POST /api/auth/logout': { status: 204 },
    ...NO_CHANGES,
    ...routes,
  });
  renderApp(path, new FakeSocket().socket);
  return { fetch, user: userEvent.setup() };
}

const rows = async () => within(await screen.findByRole('list', { name: 'Sessions' })).getAllByRole('listitem');

describe('SessionsPage', () => {
  it('lists each session with its device and last use, the current one first and marked', async () => {
    setup();
    const [first, second] = await rows();
    expect(first).toHaveTextContent('Firefox on Linux');
    expect(first).toHaveTextContent('This device');
    expect(first).toHaveTextContent('Last seen just now');
    expect(second).toHaveTextContent('Chrome on Android');
    expect(second).not.toHaveTextContent('This device');
    expect(second).toHaveTextContent('Last seen 5 min ago');
  });

  it('is protected: without a session it sends you to /login', async () => {
    mockFetch({ 'GET /api/auth/me': { status: 401, body: { error: 'Unauthorized', code: 'unauthorized' } } });
    renderApp('/account/sessions', new FakeSocket().socket);
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
  });

  it('logs another session out: DELETE by its id, and it leaves the list', async () => {
    const { fetch, user } = setup({ 'DELETE /api/auth/sessions/phone': { status: 204 } });
    const [, phone] = await rows();
    await user.click(within(phone!).getByRole('button', { name: 'Log out' }));
    await waitFor(async () => expect(await rows()).toHaveLength(1));
    expect(fetch.callsTo('DELETE', '/api/auth/sessions/phone')).toHaveLength(1);
    expect(fetch.callsTo('POST', '/api/auth/logout')).toHaveLength(0);
    expect(screen.getByTestId('location')).toHaveTextContent('/account/sessions');
  });

  it('takes a session that had already ended (not_found) off the list too', async () => {
    const { user } = setup({
      'DELETE /api/auth/sessions/phone': { status: 404, body: { error: 'No such session', code: 'not_found' } },
    });
    const [, phone] = await rows();
    await user.click(within(phone!).getByRole('button', { name: 'Log out' }));
    await waitFor(async () => expect(await rows()).toHaveLength(1));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('logs this browser out with the current session’s button', async () => {
    const { fetch, user } = setup();
    const [here] = await rows();
    await user.click(within(here!).getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(fetch.callsTo('POST', '/api/auth/logout')).toHaveLength(1);
    expect(fetch.calls.filter((call) => call.method === 'DELETE')).toHaveLength(0);
  });

  it('is reached from the chat through the Account menu', async () => {
    const { user } = setup({}, '/');
    const account = await screen.findByRole('button', { name: 'Account' });
    expect(account).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByRole('link', { name: 'Sessions' })).not.toBeInTheDocument();
    await user.click(account);
    expect(account).toHaveAttribute('aria-expanded', 'true');
    await user.click(screen.getByRole('link', { name: 'Sessions' }));
    expect(screen.getByTestId('location')).toHaveTextContent('/account/sessions');
    expect(await screen.findByRole('heading', { name: 'Sessions' })).toBeInTheDocument();
  });
});

describe('Changing the password', () => {
  async function change(user: ReturnType<typeof userEvent.setup>, current: string, next: string) {
    await screen.findByRole('heading', { name: 'Change password' });
    if (current) await user.type(screen.getByLabelText('Current password'), current);
    if (next) await user.type(screen.getByLabelText('New password'), next);
    await user.click(screen.getByRole('button', { name: 'Change password' }));
  }

  it('sends current and new, says it worked and reloads the list of sessions', async () => {
    let listed = 0;
    const { fetch, user } = setup({
      'POST /api/auth/password': { status: 204 },
      'GET /api/auth/sessions': () => {
        listed += 1;
        return { status: 200, body: listed === 1 ? SESSIONS : [SESSIONS[1]] };
      },
    });
    await rows();
    await change(user, 'old password', 'a new passphrase');
    expect(await screen.findByRole('status')).toHaveTextContent('Password changed. Every other session was logged out.');
    expect(fetch.callsTo('POST', '/api/auth/password')[0]!.body).toEqual({ current: 'old password', new: 'a new passphrase' });
    await waitFor(async () => expect(await rows()).toHaveLength(1));
    expect(screen.getByLabelText('Current password')).toHaveValue('');
    expect(screen.getByLabelText('New password')).toHaveValue('');
  });

  it('says the current password is wrong on forbidden, whatever the server’s text', async () => {
    const { user } = setup({
      'POST /api/auth/password': { status: 403, body: { error: 'something else entirely', code: 'forbidden' } },
    });
    await change(user, 'not it', 'a new passphrase');
    expect(await screen.findByRole('alert')).toHaveTextContent('The current password is wrong.');
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/account/sessions');
  });

  it('checks the new password’s length before asking the server', async () => {
    const { fetch, user } = setup();
    await change(user, 'old password', 'short');
    expect(await screen.findByRole('alert')).toHaveTextContent('The new password must be 8–128 characters.');
    expect(fetch.callsTo('POST', '/api/auth/password')).toHaveLength(0);
  });

  it('shows how long to wait when locked out', async () => {
    const { user } = setup({
      'POST /api/auth/password': {
        status: 429,
        body: { error: 'Too many wrong passwords, try again later', code: 'rate_limited', retryAfter: 120 },
      },
    });
    await change(user, 'old password', 'a new passphrase');
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many wrong passwords, try again later (wait 2 min)');
  });
});
