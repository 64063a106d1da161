import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NO_CHANGES, mockFetch } from '../../test/fakeFetch';
import { FakeSocket } from '../../test/fakeSocket';
import { message, renderApp } from '../../test/renderApp';
import type { Room } from '../../types';

// Each test renders the whole app: on a machine shared by many jobs that can take longer than 5 s.
vi.setConfig({ testTimeout: 30_000 });

function room(id: string, fields: Partial<Room> = {}): Room {
  return { id, name: id, kind: 'public', topic: '', role: 'member', unread: 0, mentions: 0, lastRead: null, lastMessageId: null, ...fields };
}

/** A stand-in for the browser's Notification API. */
function fakeNotifications(permission: NotificationPermission) {
  const shown: { title: string; body?: string }[] = [];
  const requestPermission = vi.fn(() => {
    FakeNotification.permission = 'granted';
    return Promise.resolve('granted' as const);
  });
  class FakeNotification {
    static permission: NotificationPermission = permission;
    static requestPermission = requestPermission;
    onclick: (() => void) | null = null;
    constructor(title: string, options: NotificationOptions = {}) {
      shown.push({ title, body: options.body });
    }
    close() {}
  }
  vi.stubGlobal('Notification', FakeNotification);
  return { shown, requestPermission };
}

let visibility: DocumentVisibilityState = 'visible';

beforeEach(() => {
  visibility = 'visible';
  vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

async function setup() {
  mockFetch({
    'GET /api/auth/me': { status: 200, body: { username: 'alice' } },
    'GET /api/rooms': { status: 200, body: [room('general'), room('dm-bob', { name: 'bob', kind: 'dm' })] },
    ...NO_CHANGES,
  });
  const socket = new FakeSocket();
  renderApp('/', socket.socket);
  await screen.findByRole('link', { name: /^bob/ }, { timeout: 5_000 });
  return { socket, user: userEvent.setup() };
}

describe('browser notifications', () => {
  it('never asks for permission on load; the setting’s toggle asks, and remembers', async () => {
    const { requestPermission } = fakeNotifications('default');
    const { user } = await setup();
    expect(requestPermission).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Account' }));
    const toggle = screen.getByRole('checkbox', { name: 'Notify me of direct messages and mentions' });
    expect(toggle).not.toBeChecked();
    await user.click(toggle);
    expect(requestPermission).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(toggle).toBeChecked());
    expect(localStorage.getItem('parley.notifications')).toBe('on');
  });

  it('notifies of a DM and a mention while the tab is hidden, once per message, and not when visible', async () => {
    const { shown } = fakeNotifications('granted');
    localStorage.setItem('parley.notifications', 'on');
    const { socket } = await setup();
    socket.serverEmit('message', message(1, { room: 'dm-bob', text: 'visible now' }));
    expect(shown).toEqual([]);
    visibility = 'hidden';
    const dm = message(2, { room: 'dm-bob', text: 'are you there?' });
    socket.serverEmit('message', dm);
    socket.serverEmit('mention', { room: 'dm-bob', message: dm });
    socket.serverEmit('message', message(3, { room: 'general', text: 'not for you' }));
    socket.serverEmit('mention', { room: 'general', message: message(4, { room: 'general', username: 'carol', text: '@alice look' }) });
    socket.serverEmit('message', message(5, { room: 'dm-bob', username: 'alice', text: 'my own' }));
    expect(shown).toEqual([
      { title: 'bob', body: 'are you there?' },
      { title: 'carol in #general', body: '@alice look' },
    ]);
  });

  it('turned off, nothing is shown', async () => {
    const { shown } = fakeNotifications('granted');
    localStorage.setItem('parley.notifications', 'off');
    const { socket } = await setup();
    visibility = 'hidden';
    socket.serverEmit('message', message(2, { room: 'dm-bob' }));
    expect(shown).toEqual([]);
  });
});
