import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { NO_CHANGES, mockFetch } from '../../test/fakeFetch';
import { FakeSocket } from '../../test/fakeSocket';
import { message, renderApp, ulid } from '../../test/renderApp';
import type { Message } from '../../types';

async function joined(messages: Message[], role: 'owner' | 'member' = 'member') {
  mockFetch({
    'GET /api/auth/me': { status: 200, body: { username: 'alice' } },
    'GET /api/rooms': { status: 200, body: [{ id: 'general', name: 'general', kind: 'public', role }] },
    'GET /api/rooms/general/members': {
      status: 200,
      body: [
        { username: 'alice', role: 'member', online: true },
        { username: 'bob', role: 'member', online: true },
        { username: 'bobby', role: 'member', online: false },
      ],
    },
    ...NO_CHANGES,
  });
  const socket = new FakeSocket();
  renderApp('/', socket.socket);
  await waitFor(() => expect(socket.unanswered('join')).toHaveLength(1));
  socket.reply('join', { ok: true, messages });
  return { socket, user: userEvent.setup() };
}

const articles = () => within(screen.getByRole('log')).getAllByRole('article');

// jsdom has no ResizeObserver; the emoji picker sizes its grid with one.
class NoResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}

describe('rich messages in the chat', { timeout: 20_000 }, () => {
  beforeEach(() => {
    vi.stubGlobal('ResizeObserver', NoResizeObserver);
  });

  it('edits one’s own message in place and applies the ack; others have no Edit, and no Delete for a member', async () => {
    const { socket, user } = await joined([message(1, { username: 'alice', text: 'mine' }), message(2, { text: 'theirs' })]);
    const [mine, theirs] = articles();
    expect(within(theirs!).queryByRole('button', { name: 'Edit' })).not.toBeInTheDocument();
    expect(within(theirs!).queryByRole('button', { name: 'Delete' })).not.toBeInTheDocument();
    await user.click(within(mine!).getByRole('button', { name: 'Edit' }));
    const editor = screen.getByRole('textbox', { name: 'Edit message' });
    await user.clear(editor);
    await user.type(editor, 'fixed{Enter}');
    expect(socket.unanswered('edit').map((entry) => entry.payload)).toEqual([{ room: 'general', id: ulid(1), text: 'fixed' }]);
    socket.reply('edit', { ok: true, message: message(1, { username: 'alice', text: 'fixed', editedAt: '2024-01-01T12:10:00Z' }) });
    await waitFor(() => expect(articles()[0]).toHaveTextContent('fixed(edited)'));
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).not.toBeInTheDocument();
  });

  it('Up arrow in the empty composer edits the last own message; Escape cancels', async () => {
    const { user } = await joined([message(1, { username: 'alice', text: 'older' }), message(2, { username: 'alice', text: 'newest' }), message(3)]);
    await user.click(screen.getByRole('textbox', { name: 'Message' }));
    await user.keyboard('{ArrowUp}');
    expect(screen.getByRole('textbox', { name: 'Edit message' })).toHaveValue('newest');
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).not.toBeInTheDocument();
  });

  it('an owner deletes another’s message after confirming; message_updated shows tombstones and deleted quotes live', async () => {
    const { socket, user } = await joined(
      [message(1, { text: 'parent' }), message(2, { username: 'carol', text: 'child', replyTo: { id: ulid(1), username: 'bob', text: 'parent' } })],
      'owner',
    );
    await user.click(within(articles()[0]!).getByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete message?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(socket.unanswered('delete').map((entry) => entry.payload)).toEqual([{ room: 'general', id: ulid(1) }]);
    socket.reply('delete', { ok: false, error: 'Try again later', code: 'unavailable' });
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Try again later');
    socket.serverEmit('message_updated', message(1, { text: '', deleted: true }));
    socket.serverEmit('message_updated', message(2, { username: 'carol', text: 'child', replyTo: { id: ulid(1), username: 'bob', text: '' } }));
    await waitFor(() => expect(articles()[0]).toHaveTextContent('This message was deleted.'));
    expect(articles()[1]).toHaveTextContent('Original message was deleted.');
  });

  it('reaction toggles: named by emoji and count, pressed when mine, who reacted in the title; the server’s refusal is shown', async () => {
    const reactions = [{ emoji: '👍', users: ['bob', 'alice'] }, { emoji: '🎉', users: ['bob'] }];
    const { socket, user } = await joined([message(1, { reactions })]);
    const mine = screen.getByRole('button', { name: '👍 2' });
    expect(mine).toHaveAttribute('aria-pressed', 'true');
    expect(mine).toHaveAttribute('title', 'Reacted with 👍: you and bob');
    expect(screen.getByRole('button', { name: '🎉 1' })).toHaveAttribute('aria-pressed', 'false');
    await user.click(mine);
    expect(socket.unanswered('react').map((entry) => entry.payload)).toEqual([{ room: 'general', id: ulid(1), emoji: '👍', on: false }]);
    socket.reply('react', { ok: true, message: message(1, { reactions: [{ emoji: '🎉', users: ['bob'] }] }) });
    await waitFor(() => expect(screen.queryByRole('button', { name: /👍/ })).not.toBeInTheDocument());

    await user.click(within(articles()[0]!).getByRole('button', { name: 'Add reaction' }));
    const dialog = screen.getByRole('dialog', { name: 'Add reaction' });
    await user.click(within(dialog).getByRole('button', { name: 'React with 😮' }));
    expect(socket.unanswered('react').at(-1)!.payload).toEqual({ room: 'general', id: ulid(1), emoji: '😮', on: true });
    socket.reply('react', { ok: false, error: 'A message may have at most 20 different emoji', code: 'invalid' });
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('at most 20 different emoji');
  });

  it('replies: the composer says to whom, the send carries replyTo, the pending message quotes the parent', async () => {
    const { socket, user } = await joined([message(1, { text: 'question?' })]);
    await user.click(within(articles()[0]!).getByRole('button', { name: 'Reply' }));
    expect(screen.getByText(/Replying to/).closest('[role="status"]')).toHaveTextContent('Replying to bob');
    await user.keyboard('answer{Enter}');
    expect(socket.unanswered('message')[0]!.payload).toMatchObject({ room: 'general', text: 'answer', replyTo: ulid(1) });
    expect(screen.queryByText('Replying to')).not.toBeInTheDocument();
    expect(articles()[1]).toHaveTextContent('bob question?');
  });

  it('@ autocomplete: a listbox of members, arrows and Enter pick, Escape closes', async () => {
    const { user } = await joined([]);
    const box = screen.getByRole('textbox', { name: 'Message' });
    await user.type(box, 'hi @bo');
    const list = await screen.findByRole('listbox', { name: 'Members to mention' });
    expect(within(list).getAllByRole('option').map((option) => option.textContent)).toEqual(['@bob', '@bobby']);
    expect(box).toHaveAttribute('aria-activedescendant', within(list).getAllByRole('option')[0]!.id);
    await user.keyboard('{ArrowDown}{Enter}');
    expect(box).toHaveValue('hi @bobby ');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    await user.type(box, '@b');
    expect(await screen.findByRole('listbox')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    expect(box).toHaveValue('hi @bobby @b');
  });
});
