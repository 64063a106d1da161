// The one HTTP client. Every call goes through `request`, which turns error bodies
// (`{"error", "code", "retryAfter"?}`, docs/reference.md, "Errors") into an `ApiError` and applies
// the one 401 rule: code `unauthorized` means the session is gone, so the handler registered by
// the auth provider sends the user to /login.
import { errorCodeOf } from './errors';
import type { Ban, ChangesPage, ErrorCode, Member, MessagePage, Role, Room, RoomDirectoryPage, SessionInfo, User } from './types';

export class ApiError extends Error {
  readonly status: number;
  /** What went wrong, to decide on; null when the server was not reached. */
  readonly code: ErrorCode | null;
  /** Seconds to wait before trying again, when the server said. */
  readonly retryAfter: number | null;

  constructor(status: number, message: string, code: ErrorCode | null = null, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// The code each status stands for, for an error body without one (a server older than the codes,
// or a proxy's own error page).
const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported',
  422: 'invalid',
  429: 'rate_limited',
  500: 'internal',
  503: 'unavailable',
};

type UnauthorizedHandler = () => void;

let unauthorizedHandler: UnauthorizedHandler | null = null;

/**
 * Registers what happens on any `unauthorized` answer (one handler at a time); returns a function
 * removing it.
 */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): () => void {
  unauthorizedHandler = handler;
  return () => {
    if (unauthorizedHandler === handler) unauthorizedHandler = null;
  };
}

interface RequestOptions {
  body?: unknown;
  /**
   * False for calls where `unauthorized` is an ordinary answer rather than an ended session: a
   * wrong password at login.
   */
  sessionRequired?: boolean;
}

const OFFLINE_MESSAGE = 'Cannot reach the server. Check your connection and try again.';

async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const { body, sessionRequired = true } = options;
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, OFFLINE_MESSAGE);
  }
  if (!response.ok) {
    const error = await apiError(response);
    if (error.code === 'unauthorized' && sessionRequired) unauthorizedHandler?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function apiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page, say): the status alone has to do.
  }
  const code = errorCodeOf(body) ?? CODE_OF_STATUS[response.status] ?? null;
  const retryAfter = positiveSeconds(field(body, 'retryAfter')) ?? positiveSeconds(response.headers.get('Retry-After'));
  const text = field(body, 'error');
  let message = typeof text === 'string' ? text : `The server answered ${response.status}. Please try again.`;
  if (code === 'rate_limited' && retryAfter !== null) message += ` (wait ${formatWait(retryAfter)})`;
  return new ApiError(response.status, message, code, retryAfter);
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function positiveSeconds(value: unknown): number | null {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  return `${Math.ceil(seconds / 60)} min`;
}

export const ZERO_ULID = '00000000000000000000000000';

export const api = {
  register: (username: string, password: string) =>
    request<User>('POST', '/api/auth/register', { body: { username, password }, sessionRequired: false }),
  login: (username: string, password: string) =>
    request<User>('POST', '/api/auth/login', { body: { username, password }, sessionRequired: false }),
  logout: () => request<void>('POST', '/api/auth/logout', { sessionRequired: false }),
  me: () => request<User>('GET', '/api/auth/me'),
  listSessions: () => request<SessionInfo[]>('GET', '/api/auth/sessions'),
  /** Ends one of the caller's sessions, wherever it is open. */
  endSession: (id: string) => request<void>('DELETE', `/api/auth/sessions/${encodeURIComponent(id)}`),
  /** Every other session of the account ends; this one stays. */
  changePassword: (current: string, next: string) =>
    request<void>('POST', '/api/auth/password', { body: { current, new: next } }),
  /** The rooms the caller is a member of, `general` first. */
  listRooms: () => request<Room[]>('GET', '/api/rooms'),
  /** Without options, a public room as the server has always made it: `{name}` alone. */
  createRoom: (name: string, options: { kind?: 'public' | 'private'; topic?: string } = {}) =>
    request<Room>('POST', '/api/rooms', { body: { name, ...options } }),
  getRoom: (room: string) => request<Room>('GET', roomPath(room)),
  updateRoom: (room: string, changes: { name?: string; topic?: string }) =>
    request<Room>('PATCH', roomPath(room), { body: changes }),
  /** Public rooms whose name or topic holds `q`, by name; `cursor` is the previous page's `next`. */
  directory: (q: string, cursor: string | null = null, limit = 50) =>
    request<RoomDirectoryPage>('GET', `/api/rooms/directory?${query({ q, limit, cursor })}`),
  joinRoom: (room: string) => request<Room>('POST', `${roomPath(room)}/join`),
  leaveRoom: (room: string) => request<void>('POST', `${roomPath(room)}/leave`),
  members: (room: string) => request<Member[]>('GET', `${roomPath(room)}/members`),
  addMember: (room: string, username: string) =>
    request<{ username: string; role: Role }>('POST', `${roomPath(room)}/members`, { body: { username } }),
  /** Removes (and with `ban`, bans) a member; removing yourself is leaving. */
  removeMember: (room: string, username: string, ban = false) =>
    request<void>('DELETE', `${memberPath(room, username)}${ban ? '?ban=true' : ''}`),
  /** Who is banned from the room (owners and admins only). */
  bans: (room: string) => request<Ban[]>('GET', `${roomPath(room)}/bans`),
  unban: (room: string, username: string) =>
    request<void>('DELETE', `${roomPath(room)}/bans/${encodeURIComponent(username)}`),
  setRole: (room: string, username: string, role: Role) =>
    request<{ username: string; role: Role }>('PATCH', memberPath(room, username), { body: { role } }),
  /** The DM with `username`: the existing one, or a new one. */
  startDm: (username: string) => request<Room>('POST', '/api/dms', { body: { username } }),
  markRead: (room: string, id: string) => request<void>('POST', `${roomPath(room)}/read`, { body: { id } }),
  /** The page just older than `before`: the latest page without it. */
  messagesBefore: (room: string, before: string | null, limit = 50) =>
    request<MessagePage>('GET', messagesPath(room, { limit, before })),
  /** Messages newer than `after`, oldest first, for catching up after a disconnect. */
  messagesAfter: (room: string, after: string, limit = 100) =>
    request<MessagePage>('GET', messagesPath(room, { limit, after })),
  /** Messages edited, deleted or reacted to after the sync point `since` (docs/reference.md). */
  changes: (room: string, since: string, limit = 100) =>
    request<ChangesPage>('GET', `${roomPath(room)}/changes?${query({ since, limit })}`),
};

const roomPath = (room: string) => `/api/rooms/${encodeURIComponent(room)}`;
const memberPath = (room: string, username: string) =>
  `${roomPath(room)}/members/${encodeURIComponent(username)}`;

function query(fields: Record<string, string | number | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value !== null) params.set(key, String(value));
  }
  return params.toString();
}

function messagesPath(room: string, fields: Record<string, string | number | null>): string {
  return `${roomPath(room)}/messages?${query(fields)}`;
}
