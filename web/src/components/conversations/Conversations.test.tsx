import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NO_CHANGES, mockFetch, type Route } from '../../test/fakeFetch';
import { FakeSocket } from '../../test/fakeSocket';
import { message, renderApp, ulid } from '../../test/renderApp';
import type { Message, Room } from '../../types';

// Each test renders the whole app: on a machine shared by many jobs that can take longer than 5 s.
vi.setConfig({ testTimeout: 30_000 });

function room(id: string, fields: Partial<Room> = {}): Room {
  return { id, name: id, kind: 'public', topic: '', role: 'member', unread: 0, mentions: 0, lastRead: null, lastMessageId: null, ...fields };
}

const GENERAL = room('general', { topic: 'Everyone' });
const DESIGN = room('design', { name: 'Design', kind: 'private', role: 'owner' });
const DM_BOB = room('dm-bob', { name: 'bob', kind: 'dm' });

function setup(path = '/', rooms: Room[] = [GENERAL, DESIGN, DM_BOB], routes: Record<string, Route> = {}) {
  const fetch = mockFetch({
    'GET /api/auth/me': { status: 200, body: { username: 'alice' } },
    'GET /api/rooms': { status: 200, body: rooms },
    ...NO_CHANGES,
    ...routes,
  });
  const socket = new FakeSocket();
  renderApp(path, socket.socket);
  return { fetch, socket, user: userEvent.setup() };
}

/** The join of the open room (with its history), not the sidebar's background joins. */
const openJoins = (socket: FakeSocket) =>
  socket.unanswered('join').filter((entry) => (entry.payload as { limit?: number }).limit === undefined);
const backgroundJoins = (socket: FakeSocket) =>
  socket.sent('join').filter((entry) => (entry.payload as { limit?: number }).limit === 0);

function replyToOpenJoin(socket: FakeSocket, messages: Message[]) {
  const entry = openJoins(socket)[0]!;
  entry.answered = true;
  act(() => entry.ack!(null, { ok: true, messages }));
}

async function opened(path = '/', rooms?: Room[], messages: Message[] = [], routes: Record<string, Route> = {}) {
  const context = setup(path, rooms, routes);
  await waitFor(() => expect(openJoins(context.socket)).toHaveLength(1), { timeout: 5_000 });
  replyToOpenJoin(context.socket, messages);
  await screen.findByRole('navigation', { name: 'Direct messages' });
  return context;
}

const rooms = () => screen.getByRole('navigation', { name: 'Rooms' });
const dms = () => screen.getByRole('navigation', { name: 'Direct messages' });
const composer = () => screen.getByRole('textbox', { name: 'Message' });

let focused = true;

beforeEach(() => {
  focused = true;
  vi.spyOn(document, 'hasFocus').mockImplementation(() => focused);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('sidebar', () => {
  it('lists rooms and direct messages apart, with unread and mention badges and the total in the title', async () => {
    await opened('/', [GENERAL, room('design', { name: 'Design', kind: 'private', unread: 3, mentions: 1 }), room('dm-bob', { name: 'bob', kind: 'dm', unread: 100 })]);
    expect(within(rooms()).getAllByRole('link').map((link) => link.textContent)).toEqual(['#general', expect.stringMatching(/^Design/)]);
    expect(within(rooms()).getAllByRole('link')[1]!.querySelector('svg.room-lock')).not.toBeNull();
    const design = await within(rooms()).findByRole('link', { name: /^Design/ });
    expect(design).toHaveAccessibleName('Design (private) 1 mention 3 unread');
    expect(within(design).getByTestId('unread-badge')).toHaveTextContent('3');
    expect(within(design).getByTestId('mention-badge')).toHaveTextContent('@1');
    const bob = within(dms()).getByRole('link', { name: /^bob/ });
    expect(within(bob).getByTestId('unread-badge')).toHaveTextContent('100+');
    await waitFor(() => expect(document.title).toBe('(103) Parley'));
    for (const name of ['Browse rooms', 'New room', 'New message']) {
      expect(screen.getByRole('button', { name })).toBeInTheDocument();
    }
  });

  it('joins every sidebar room with limit 0 and counts others’ messages live', async () => {
    const { socket } = await opened();
    await waitFor(() => expect(backgroundJoins(socket).map((entry) => entry.payload)).toEqual([
      { room: 'design', limit: 0 },
      { room: 'dm-bob', limit: 0 },
      { room: 'general', limit: 0 },
    ]));
    socket.serverEmit('message', message(1, { room: 'design', username: 'carol' }));
    socket.serverEmit('message', message(2, { room: 'design', username: 'carol' }));
    socket.serverEmit('message', message(3, { room: 'design', username: 'alice' }));
    expect(within(rooms()).getByRole('link', { name: /^Design/ })).toHaveAccessibleName('Design (private) 2 unread');
    expect(document.title).toBe('(2) Parley');
  });

  it('joins again after the server’s retryAfter when a join is refused as rate_limited, not when not_found', async () => {
    const { socket } = await opened();
    await waitFor(() => expect(backgroundJoins(socket)).toHaveLength(3));
    vi.useFakeTimers();
    const answer = (room: string, reply: unknown) => {
      const entry = socket.unanswered('join').find((sent) => (sent.payload as { room: string }).room === room)!;
      entry.answered = true;
      act(() => entry.ack!(null, reply));
    };
    answer('design', { ok: false, error: 'slow down', code: 'rate_limited', retryAfter: 3 });
    answer('dm-bob', { ok: false, error: 'no such room', code: 'not_found' });
    act(() => {
      vi.advanceTimersByTime(2_900);
    });
    expect(backgroundJoins(socket)).toHaveLength(3);
    act(() => {
      vi.advanceTimersByTime(200);
    });
    expect(backgroundJoins(socket).slice(3).map((entry) => entry.payload)).toEqual([{ room: 'design', limit: 0 }]);
  });

  it('joins the sidebar’s rooms again after a reconnect, and reloads the counts', async () => {
    const { socket, fetch } = await opened();
    await waitFor(() => expect(backgroundJoins(socket)).toHaveLength(3));
    socket.drop();
    socket.connect();
    await waitFor(() => expect(backgroundJoins(socket)).toHaveLength(6));
    await waitFor(() => expect(fetch.callsTo('GET', '/api/rooms')).toHaveLength(2));
  });

  it('does not leave a sidebar room when another is opened (it keeps counting)', async () => {
    const { socket, user } = await opened();
    await user.click(within(rooms()).getByRole('link', { name: /^Design/ }));
    await waitFor(() => expect(openJoins(socket).map((entry) => entry.payload)).toEqual([{ room: 'design' }]));
    // A leave is sent a task after the room closes, so after this it would have been.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(socket.sent('leave')).toHaveLength(0);
  });

  it('a read on another device clears the badge', async () => {
    const { socket } = await opened('/', [GENERAL, room('design', { name: 'Design', unread: 2, lastRead: ulid(1), lastMessageId: ulid(3) })]);
    socket.serverEmit('read', { room: 'design', id: ulid(3) });
    expect(within(rooms()).getByRole('link', { name: /^Design/ })).toHaveAccessibleName('Design');
    expect(document.title).toBe('Parley');
  });
});

describe('live membership', () => {
  it('room_added puts the room in the sidebar and joins it', async () => {
    const { socket } = await opened();
    socket.serverEmit('room_added', room('secret', { name: 'Secret', kind: 'private' }));
    expect(within(rooms()).getByRole('link', { name: /^Secret/ })).toHaveAttribute('href', '/rooms/secret');
    await waitFor(() => expect(backgroundJoins(socket).map((entry) => entry.payload)).toContainEqual({ room: 'secret', limit: 0 }));
  });

  it('room_removed takes the room away; the open view says so and the composer is disabled', async () => {
    const { socket } = await opened('/rooms/design', undefined, [message(1, { room: 'design' })]);
    expect(composer()).toBeEnabled();
    socket.serverEmit('room_removed', { room: 'design' });
    expect(within(rooms()).queryByRole('link', { name: /^Design/ })).not.toBeInTheDocument();
    expect(screen.getByText(/You were removed from this room/)).toBeInTheDocument();
    expect(composer()).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
  });

  it('room_updated renames the room in the sidebar and the header', async () => {
    const { socket } = await opened('/rooms/design');
    socket.serverEmit('room_updated', { id: 'design', name: 'Design team', kind: 'private', topic: 'Pixels', members: 3 });
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Design team');
    expect(screen.getByText('Pixels')).toBeInTheDocument();
    expect(within(rooms()).getByRole('link', { name: /^Design team/ })).toBeInTheDocument();
  });
});

describe('unread divider and read markers', () => {
  const history = [message(1, { room: 'design' }), message(2, { room: 'design', username: 'alice' }), message(3, { room: 'design' }), message(4, { room: 'design' })];

  it('puts New messages above the first unread message of someone else', async () => {
    await opened('/rooms/design', [GENERAL, room('design', { name: 'Design', unread: 2, lastRead: ulid(1), lastMessageId: ulid(4) })], history);
    const log = screen.getByRole('log');
    const items: HTMLElement[] = [...log.querySelectorAll('li')];
    const divider = within(log).getByRole('separator', { name: 'New messages' });
    expect(items.indexOf(divider)).toBe(2); // after 1 (read) and 2 (alice's own), above 3
    expect(items[3]).toHaveAttribute('data-id', ulid(3));
  });

  it('shows no divider when nothing was unread', async () => {
    await opened('/rooms/design', [GENERAL, room('design', { name: 'Design', lastRead: ulid(4), lastMessageId: ulid(4) })], history);
    expect(screen.queryByRole('separator', { name: 'New messages' })).not.toBeInTheDocument();
  });

  it('sends the read marker of the newest message when the tab has the focus, and the divider stays', async () => {
    const { socket } = await opened('/rooms/design', [GENERAL, room('design', { name: 'Design', unread: 2, lastRead: ulid(1), lastMessageId: ulid(4) })], history);
    await waitFor(() => expect(socket.sent('read').map((entry) => entry.payload)).toEqual([{ room: 'design', id: ulid(4) }]));
    expect(within(rooms()).getByRole('link', { name: /^Design/ })).toHaveAccessibleName('Design');
    expect(screen.getByRole('separator', { name: 'New messages' })).toBeInTheDocument();
  });

  it('sends no read marker while the tab does not have the focus, then sends it on focus', async () => {
    focused = false;
    const { socket } = await opened('/rooms/design', [GENERAL, room('design', { name: 'Design', unread: 2, lastRead: ulid(1), lastMessageId: ulid(4) })], history);
    expect(screen.getByRole('separator', { name: 'New messages' })).toBeInTheDocument();
    expect(socket.sent('read')).toHaveLength(0);
    focused = true;
    act(() => {
      window.dispatchEvent(new Event('focus'));
    });
    await waitFor(() => expect(socket.sent('read')).toHaveLength(1));
  });

  it('sends at most one read marker a second, then the newest', async () => {
    const { socket } = await opened('/rooms/design', [GENERAL, room('design', { name: 'Design', unread: 1, lastRead: ulid(3), lastMessageId: ulid(4) })], history);
    await waitFor(() => expect(socket.sent('read')).toHaveLength(1));
    vi.useFakeTimers();
    socket.serverEmit('message', message(5, { room: 'design' }));
    socket.serverEmit('message', message(6, { room: 'design' }));
    expect(socket.sent('read')).toHaveLength(1);
    act(() => {
      vi.advanceTimersByTime(1_000);
    });
    expect(socket.sent('read').map((entry) => entry.payload)).toEqual([
      { room: 'design', id: ulid(4) },
      { room: 'design', id: ulid(6) },
    ]);
  });
});

describe('dialogs', () => {
  it('New room: a private room with a topic; the dialog closes and the room opens', async () => {
    const created = room('plans', { name: 'Plans', kind: 'private', topic: 'Q3', role: 'owner' });
    const { fetch, user } = await opened('/', undefined, [], { 'POST /api/rooms': { status: 201, body: created } });
    await user.click(screen.getByRole('button', { name: 'New room' }));
    const dialog = screen.getByRole('dialog', { name: 'New room' });
    expect(within(dialog).getByRole('textbox', { name: 'Name' })).toHaveFocus();
    await user.type(within(dialog).getByRole('textbox', { name: 'Name' }), 'Plans');
    await user.type(within(dialog).getByRole('textbox', { name: 'Topic' }), 'Q3');
    await user.click(within(dialog).getByRole('checkbox', { name: 'Private' }));
    await user.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/rooms/plans'));
    expect(fetch.callsTo('POST', '/api/rooms')[0]!.body).toEqual({ name: 'Plans', kind: 'private', topic: 'Q3' });
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(within(rooms()).getByRole('link', { name: /^Plans/ })).toHaveAttribute('aria-current', 'page');
  });

  it('Escape closes a dialog and gives the focus back to its button', async () => {
    const { user } = await opened();
    const button = screen.getByRole('button', { name: 'New message' });
    await user.click(button);
    expect(screen.getByRole('dialog', { name: 'New message' })).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(button).toHaveFocus();
  });

  it('New message: an unknown user is told by its code; a known one opens the DM', async () => {
    const carol = room('dm-carol', { name: 'carol', kind: 'dm' });
    const { user } = await opened('/', undefined, [], {
      'POST /api/dms': (_url, body) =>
        (body as { username: string }).username === 'carol'
          ? { status: 201, body: carol }
          : { status: 404, body: { error: 'whatever the server says', code: 'not_found' } },
    });
    await user.click(screen.getByRole('button', { name: 'New message' }));
    const dialog = screen.getByRole('dialog', { name: 'New message' });
    await user.type(within(dialog).getByRole('textbox', { name: 'Username' }), 'nobody');
    await user.click(within(dialog).getByRole('button', { name: 'Start' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('There is no user named nobody.');
    await user.clear(within(dialog).getByRole('textbox', { name: 'Username' }));
    await user.type(within(dialog).getByRole('textbox', { name: 'Username' }), 'carol{Enter}');
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/rooms/dm-carol'));
    expect(within(dms()).getByRole('link', { name: /^carol/ })).toHaveAttribute('aria-current', 'page');
  });

  it('Browse rooms: searches the directory, pages on, joins a room and opens one already joined', async () => {
    const lunch = room('lunch', { name: 'Lunch', topic: 'Food', role: null, members: 4 });
    const { fetch, user } = await opened('/', undefined, [], {
      'GET /api/rooms/directory': (url) =>
        url.searchParams.get('cursor') === 'c1'
          ? { status: 200, body: { rooms: [room('zen', { name: 'Zen', role: null, members: 1 })], next: null } }
          : { status: 200, body: { rooms: [{ ...GENERAL, members: 10 }, lunch], next: 'c1' } },
      'POST /api/rooms/lunch/join': { status: 200, body: { ...lunch, role: 'member' } },
    });
    await user.click(screen.getByRole('button', { name: 'Browse rooms' }));
    const dialog = screen.getByRole('dialog', { name: 'Browse rooms' });
    const list = within(dialog).getByRole('list', { name: 'Public rooms' });
    const lunchItem = (await within(list).findByText('Lunch')).closest('li')!;
    expect(lunchItem).toHaveTextContent('Food');
    expect(lunchItem).toHaveTextContent('4 members');
    const generalItem = within(list).getByText('general').closest('li')!;
    expect(within(generalItem).getByRole('button', { name: 'Open' })).toBeInTheDocument();

    await user.click(within(dialog).getByRole('button', { name: 'Show more rooms' }));
    expect(await within(list).findByText('Zen')).toBeInTheDocument();
    expect(within(list).getAllByRole('listitem')).toHaveLength(3);

    await user.type(within(dialog).getByRole('searchbox', { name: 'Search rooms' }), 'lun');
    await waitFor(() => expect(fetch.callsTo('GET', '/api/rooms/directory').at(-1)!.url.searchParams.get('q')).toBe('lun'));

    await user.click(within(lunchItem).getByRole('button', { name: 'Join' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/rooms/lunch'));
    expect(fetch.callsTo('POST', '/api/rooms/lunch/join')).toHaveLength(1);
    expect(within(rooms()).getByRole('link', { name: /^Lunch/ })).toBeInTheDocument();
  });

  it('Browse rooms: a banned user is told so by the code', async () => {
    const { user } = await opened('/', undefined, [], {
      'GET /api/rooms/directory': { status: 200, body: { rooms: [room('lunch', { name: 'Lunch', role: null, members: 2 })], next: null } },
      'POST /api/rooms/lunch/join': { status: 403, body: { error: 'x', code: 'forbidden' } },
    });
    await user.click(screen.getByRole('button', { name: 'Browse rooms' }));
    await user.click(await screen.findByRole('button', { name: 'Join' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You are banned from this room.');
  });
});

describe('Members panel', () => {
  const MEMBERS = [
    { username: 'bob', role: 'member', online: false },
    { username: 'alice', role: 'owner', online: true },
    { username: 'carol', role: 'admin', online: true },
  ];

  it('lists members with role and online state; owners add, remove, ban and set roles', async () => {
    const { fetch, socket, user } = await opened('/rooms/design', undefined, [], {
      'GET /api/rooms/design/members': { status: 200, body: MEMBERS },
      'POST /api/rooms/design/members': (_url, body) => ({ status: 201, body: { username: (body as { username: string }).username, role: 'member' } }),
      'DELETE /api/rooms/design/members/bob': { status: 204 },
      'DELETE /api/rooms/design/members/dave': { status: 204 },
      'PATCH /api/rooms/design/members/carol': { status: 200, body: { username: 'carol', role: 'member' } },
      'GET /api/rooms/design/bans': { status: 200, body: [{ username: 'mallory', bannedAt: '2026-11-30T09:00:00.000Z' }] },
      'DELETE /api/rooms/design/bans/mallory': { status: 204 },
      'DELETE /api/rooms/design/bans/dave': { status: 204 },
    });
    const button = screen.getByRole('button', { name: 'Members' });
    expect(button).toHaveAttribute('aria-expanded', 'false');
    await user.click(button);
    expect(button).toHaveAttribute('aria-expanded', 'true');
    const panel = screen.getByRole('region', { name: 'Members' });
    const list = await within(panel).findByRole('list', { name: 'Members of this room' });
    expect(within(list).getAllByRole('listitem').map((item) => item.querySelector('.member-name')!.textContent)).toEqual(['alice (you)', 'carol', 'bob']);
    const bob = within(list).getByText('bob').closest('li')!;
    expect(bob).toHaveTextContent('member');
    expect(bob).toHaveTextContent('offline');
    // Presence is the live word on who is online.
    socket.serverEmit('presence', { room: 'design', users: ['alice', 'bob'] });
    expect(bob).toHaveTextContent('online');

    await user.type(within(panel).getByRole('textbox', { name: 'Add people' }), 'dave');
    await user.click(within(panel).getByRole('button', { name: 'Add' }));
    expect(await within(list).findByText('dave')).toBeInTheDocument();
    expect(fetch.callsTo('POST', '/api/rooms/design/members')[0]!.body).toEqual({ username: 'dave' });

    await user.click(within(panel).getByRole('button', { name: 'Remove bob' }));
    await waitFor(() => expect(within(list).queryByText('bob')).not.toBeInTheDocument());
    expect(fetch.callsTo('DELETE', '/api/rooms/design/members/bob')[0]!.url.search).toBe('');

    await user.click(within(panel).getByRole('button', { name: 'Ban dave' }));
    await waitFor(() => expect(within(list).queryByText('dave')).not.toBeInTheDocument());
    expect(fetch.callsTo('DELETE', '/api/rooms/design/members/dave')[0]!.url.searchParams.get('ban')).toBe('true');

    // Who is banned, and lifting a ban.
    const banned = within(panel).getByRole('list', { name: 'Banned' });
    expect(within(banned).getAllByRole('listitem').map((item) => item.querySelector('.member-name')!.textContent)).toEqual(['dave', 'mallory']);
    await user.click(within(panel).getByRole('button', { name: 'Unban mallory' }));
    await waitFor(() => expect(within(banned).queryByText('mallory')).not.toBeInTheDocument());
    expect(fetch.callsTo('DELETE', '/api/rooms/design/bans/mallory')).toHaveLength(1);

    await user.selectOptions(within(panel).getByRole('combobox', { name: 'Role of carol' }), 'member');
    await waitFor(() => expect(fetch.callsTo('PATCH', '/api/rooms/design/members/carol')[0]!.body).toEqual({ role: 'member' }));

    // Someone else's change, live.
    socket.serverEmit('member', { room: 'design', username: 'erin', role: 'member' });
    expect(within(list).getByText('erin')).toBeInTheDocument();
  });

  it('plain members see the list without the admin controls', async () => {
    const { user } = await opened('/', undefined, [], { 'GET /api/rooms/general/members': { status: 200, body: MEMBERS } });
    await user.click(screen.getByRole('button', { name: 'Members' }));
    await screen.findByText('carol');
    expect(screen.queryByRole('textbox', { name: 'Add people' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Remove/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('list', { name: 'Banned' })).not.toBeInTheDocument();
  });
});

describe('room header', () => {
  it('admins and owners edit the name and topic; the id stays', async () => {
    const { fetch, user } = await opened('/rooms/design', undefined, [], {
      'PATCH /api/rooms/design': (_url, body) => ({ status: 200, body: { ...DESIGN, ...(body as object) } }),
    });
    await user.click(screen.getByRole('button', { name: 'Edit room' }));
    const dialog = screen.getByRole('dialog', { name: 'Edit room' });
    await user.type(within(dialog).getByRole('textbox', { name: 'Topic' }), 'Pixels and type');
    await user.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(fetch.callsTo('PATCH', '/api/rooms/design')[0]!.body).toEqual({ topic: 'Pixels and type' });
    expect(screen.getByText('Pixels and type')).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent('/rooms/design');
  });

  it('members get the admin controls when promoted, live', async () => {
    const { socket } = await opened('/rooms/team', [GENERAL, room('team', { name: 'Team' })]);
    expect(screen.queryByRole('button', { name: 'Edit room' })).not.toBeInTheDocument();
    socket.serverEmit('member', { room: 'team', username: 'Alice', role: 'admin' });
    expect(screen.getByRole('button', { name: 'Edit room' })).toBeInTheDocument();
  });

  it('a public room the user only reads offers Join room, which puts it in the sidebar', async () => {
    const lunch = room('lunch', { name: 'Lunch', topic: 'Food', role: null, members: 3 });
    const { fetch, user } = await opened('/rooms/lunch', undefined, [], {
      'GET /api/rooms/lunch': { status: 200, body: lunch },
      'POST /api/rooms/lunch/join': { status: 200, body: { ...lunch, role: 'member' } },
    });
    expect(await screen.findByText('Food')).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Lunch');
    await user.click(screen.getByRole('button', { name: 'Join room' }));
    expect(await within(rooms()).findByRole('link', { name: /^Lunch/ })).toHaveAttribute('aria-current', 'page');
    expect(fetch.callsTo('POST', '/api/rooms/lunch/join')).toHaveLength(1);
    expect(screen.queryByRole('button', { name: 'Join room' })).not.toBeInTheDocument();
  });

  it('Leave room leaves and goes to general; the only owner is told why not, by the code', async () => {
    let owners = 1;
    const { fetch, user } = await opened('/rooms/design', undefined, [], {
      'GET /api/rooms/design/members': { status: 200, body: [{ username: 'alice', role: 'owner', online: true }, { username: 'bob', role: 'member', online: false }] },
      'POST /api/rooms/design/leave': () => (owners === 1 ? { status: 409, body: { error: 'x', code: 'conflict' } } : { status: 204 }),
    });
    await user.click(screen.getByRole('button', { name: 'Members' }));
    await user.click(await screen.findByRole('button', { name: 'Leave room' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You are the only owner');
    owners = 2;
    await user.click(screen.getByRole('button', { name: 'Leave room' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/rooms\/general$/));
    expect(fetch.callsTo('POST', '/api/rooms/design/leave')).toHaveLength(2);
  });
});
