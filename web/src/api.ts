// The one HTTP client. Every call goes through `request`, which turns `{"error"}` bodies into
// Error messages and applies the one 401 rule: a 401 means the session is gone, so the handler
// registered by the auth provider sends the user to /login.
import type { MessagePage, Room, User } from './types';

export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

type UnauthorizedHandler = () => void;

let unauthorizedHandler: UnauthorizedHandler | null = null;

/** Registers what happens on any 401 (one handler at a time); returns a function removing it. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): () => void {
  unauthorizedHandler = handler;
  return () => {
    if (unauthorizedHandler === handler) unauthorizedHandler = null;
  };
}

interface RequestOptions {
  body?: unknown;
  /**
   * False for calls where a 401 is an ordinary answer rather than an ended session: a wrong
   * password at login.
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
    const error = new ApiError(response.status, await errorMessage(response));
    if (response.status === 401 && sessionRequired) unauthorizedHandler?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function errorMessage(response: Response): Promise<string> {
  let message = `The server answered ${response.status}. Please try again.`;
  try {
    const body: unknown = await response.json();
    if (body && typeof body === 'object' && 'error' in body && typeof body.error === 'string') {
      message = body.error;
    }
  } catch {
    // Not JSON (a proxy's error page, say): keep the generic message.
  }
  const retryAfter = Number(response.headers.get('Retry-After'));
  if (response.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) {
    message += ` (wait ${formatWait(retryAfter)})`;
  }
  return message;
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
  listRooms: () => request<Room[]>('GET', '/api/rooms'),
  createRoom: (name: string) => request<Room>('POST', '/api/rooms', { body: { name } }),
  /** The page just older than `before`: the latest page without it. */
  messagesBefore: (room: string, before: string | null, limit = 50) =>
    request<MessagePage>('GET', messagesPath(room, { limit, before })),
  /** Messages newer than `after`, oldest first, for catching up after a disconnect. */
  messagesAfter: (room: string, after: string, limit = 100) =>
    request<MessagePage>('GET', messagesPath(room, { limit, after })),
};

function messagesPath(room: string, query: Record<string, string | number | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null) params.set(key, String(value));
  }
  return `/api/rooms/${encodeURIComponent(room)}/messages?${params.toString()}`;
}
