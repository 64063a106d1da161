import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, setUnauthorizedHandler } from './api';
import { mockFetch, type FakeResponse } from './test/fakeFetch';

let removeHandler: (() => void) | undefined;

afterEach(() => {
  removeHandler?.();
});

/** What `api.listRooms()` throws when the server answers `answer`, and whether the 401 rule ran. */
async function failure(answer: FakeResponse) {
  mockFetch({ 'GET /api/rooms': answer });
  const unauthorized = vi.fn();
  removeHandler = setUnauthorizedHandler(unauthorized);
  const error: unknown = await api.listRooms().then(
    () => expect.unreachable('the call should fail'),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ApiError);
  return { error: error as ApiError, unauthorized };
}

describe('api: error codes', () => {
  it('carries the body’s code, message and retryAfter', async () => {
    const { error, unauthorized } = await failure({
      status: 503,
      body: { error: 'The database is unavailable, retry shortly', code: 'unavailable', retryAfter: 2 },
    });
    expect(error).toMatchObject({ status: 503, code: 'unavailable', retryAfter: 2 });
    expect(error.message).toBe('The database is unavailable, retry shortly');
    expect(unauthorized).not.toHaveBeenCalled();
  });

  it('ends the session on code unauthorized', async () => {
    const { error, unauthorized } = await failure({
      status: 401,
      body: { error: 'Unauthorized', code: 'unauthorized', redirect: '/login' },
    });
    expect(error.code).toBe('unauthorized');
    expect(unauthorized).toHaveBeenCalledOnce();
  });

  it('decides on the code, not the status or the text', async () => {
    const { error, unauthorized } = await failure({ status: 401, body: { error: 'unauthorized', code: 'forbidden' } });
    expect(error.code).toBe('forbidden');
    expect(unauthorized).not.toHaveBeenCalled();
  });

  it('without a code, takes the one its status stands for (a 401 still ends the session)', async () => {
    const { error, unauthorized } = await failure({ status: 401, body: { error: 'Unauthorized' } });
    expect(error.code).toBe('unauthorized');
    expect(unauthorized).toHaveBeenCalledOnce();
  });

  it('an unknown code counts as none', async () => {
    const { error } = await failure({ status: 404, body: { error: 'No room', code: 'no_such_thing' } });
    expect(error.code).toBe('not_found');
  });

  it('a body that is not JSON keeps a generic message and the status’s code', async () => {
    vi.stubGlobal('fetch', vi.fn(() => Promise.resolve(new Response('<h1>Bad gateway</h1>', { status: 502 }))));
    const error = (await api.listRooms().catch((thrown: unknown) => thrown)) as ApiError;
    expect(error).toMatchObject({ status: 502, code: null, retryAfter: null });
    expect(error.message).toBe('The server answered 502. Please try again.');
  });

  it('says how long to wait when rate limited, from the body or else the Retry-After header', async () => {
    const fromBody = await failure({ status: 429, body: { error: 'Slow down', code: 'rate_limited', retryAfter: 120 } });
    expect(fromBody.error.message).toBe('Slow down (wait 2 min)');
    const fromHeader = await failure({ status: 429, body: { error: 'Slow down' }, headers: { 'Retry-After': '7' } });
    expect(fromHeader.error).toMatchObject({ code: 'rate_limited', retryAfter: 7, message: 'Slow down (wait 7 s)' });
  });

  it('a wrong password at login is an answer, not an ended session', async () => {
    mockFetch({ 'POST /api/auth/login': { status: 401, body: { error: 'Invalid username or password', code: 'unauthorized' } } });
    const unauthorized = vi.fn();
    removeHandler = setUnauthorizedHandler(unauthorized);
    await expect(api.login('alice', 'wrong-password')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(unauthorized).not.toHaveBeenCalled();
  });

  it('an unreachable server has no code', async () => {
    vi.stubGlobal('fetch', vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(api.listRooms()).rejects.toMatchObject({ status: 0, code: null });
  });
});
