import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { deferred, mockFetch, type FakeResponse } from '../../test/fakeFetch';
import { FakeSocket } from '../../test/fakeSocket';
import { renderApp } from '../../test/renderApp';

const anonymous = { 'GET /api/auth/me': { status: 401, body: { error: 'Unauthorized', redirect: '/login' } } };

async function openRegister() {
  renderApp('/register', new FakeSocket().socket);
  return { user: userEvent.setup(), button: await screen.findByRole('button', { name: 'Register' }) };
}

describe('Register', () => {
  it('has the contract’s labelled fields, button and a link to /login', async () => {
    mockFetch(anonymous);
    await openRegister();
    expect(screen.getByLabelText('Username')).toBeInTheDocument();
    expect(screen.getByLabelText('Password')).toHaveAttribute('autocomplete', 'new-password');
    expect(screen.getByRole('link', { name: 'Log in' })).toHaveAttribute('href', '/login');
  });

  it('says the password policy, common passwords included', async () => {
    mockFetch(anonymous);
    await openRegister();
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription(
      '8–128 characters, not a common password such as “password1”',
    );
  });

  it('shows the server’s refusal of a common password', async () => {
    const refusal = { error: 'This password is one of the most common ones: choose another', code: 'invalid' };
    mockFetch({ ...anonymous, 'POST /api/auth/register': { status: 422, body: refusal } });
    const { user, button } = await openRegister();
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'password1');
    await user.click(button);
    expect(await screen.findByRole('alert')).toHaveTextContent(refusal.error);
  });

  it.each([
    ['ab', 'Username must be 3–32 characters: letters, digits, _ . or -'],
    ['a'.repeat(33), 'Username must be 3–32 characters: letters, digits, _ . or -'],
    ['bad name!', 'Username must be 3–32 characters: letters, digits, _ . or -'],
  ])('refuses the username %j', async (username, message) => {
    const fetch = mockFetch(anonymous);
    const { user, button } = await openRegister();
    await user.type(screen.getByLabelText('Username'), username);
    await user.type(screen.getByLabelText('Password'), 'long enough');
    await user.click(button);
    expect(screen.getByText(message)).toBeInTheDocument();
    expect(screen.getByLabelText('Username')).toHaveAccessibleDescription(message);
    expect(fetch.callsTo('POST', '/api/auth/register')).toHaveLength(0);
  });

  it('refuses a password outside 8–128 characters, shown when the field is left', async () => {
    mockFetch(anonymous);
    const { user } = await openRegister();
    await user.type(screen.getByLabelText('Password'), 'short');
    await user.tab();
    expect(screen.getByText('Password must be 8–128 characters')).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Password'));
    await user.type(screen.getByLabelText('Password'), 'x'.repeat(129));
    expect(screen.getByText('Password must be 8–128 characters')).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Password'));
    await user.type(screen.getByLabelText('Password'), 'just right');
    expect(screen.queryByText('Password must be 8–128 characters')).not.toBeInTheDocument();
  });

  it('accepts the edge cases the contract allows', async () => {
    const fetch = mockFetch({ ...anonymous, 'POST /api/auth/register': { status: 409, body: { error: 'Username is already taken' } } });
    const { user, button } = await openRegister();
    await user.type(screen.getByLabelText('Username'), 'a.b_c-9');
    await user.type(screen.getByLabelText('Password'), '12345678');
    await user.click(button);
    await screen.findByRole('alert');
    expect(fetch.callsTo('POST', '/api/auth/register')).toHaveLength(1);
  });

  it('shows the server’s error (409 taken)', async () => {
    mockFetch({ ...anonymous, 'POST /api/auth/register': { status: 409, body: { error: 'Username is already taken' } } });
    const { user, button } = await openRegister();
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(button);
    expect(await screen.findByRole('alert')).toHaveTextContent('Username is already taken');
    expect(screen.getByRole('button', { name: 'Register' })).toBeEnabled();
  });

  it('is busy, then logs in and opens the chat', async () => {
    const answer = deferred<FakeResponse>();
    const fetch = mockFetch({
      ...anonymous,
      'POST /api/auth/register': () => answer.promise,
      'POST /api/auth/login': { status: 200, body: { username: 'alice' } },
      'GET /api/rooms': { status: 200, body: [{ id: 'general', name: 'general' }] },
    });
    const { user, button } = await openRegister();
    await user.type(screen.getByLabelText('Username'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(button);
    expect(screen.getByRole('button', { name: 'Registering…' })).toBeDisabled();
    answer.resolve({ status: 201, body: { username: 'alice' } });
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/));
    expect(fetch.callsTo('POST', '/api/auth/login')[0]!.body).toEqual({ username: 'alice', password: 'correct horse' });
    expect(await screen.findByText('alice', { selector: 'strong' })).toBeInTheDocument();
  });
});
