// Routes for a stubbed `fetch`, keyed "METHOD /path" (the query string is passed to handlers); a
// `*` in a route's path stands for one segment, for paths without an exact route.
import { vi } from 'vitest';

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Route = FakeResponse | ((url: URL, body: unknown) => FakeResponse | Promise<FakeResponse>);

export interface FetchCall {
  method: string;
  url: URL;
  body: unknown;
}

export function mockFetch(routes: Record<string, Route>) {
  const calls: FetchCall[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input, 'http://localhost');
    const method = init.method ?? 'GET';
    const body: unknown = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, url, body });
    const route = routes[`${method} ${url.pathname}`] ?? wildcardRoute(routes, method, url.pathname);
    const answer = route === undefined ? { status: 404, body: { error: 'Not Found' } } : typeof route === 'function' ? await route(url, body) : route;
    const payload = answer.body === undefined || answer.status === 204 ? null : JSON.stringify(answer.body);
    return new Response(payload, {
      status: answer.status,
      headers: { 'Content-Type': 'application/json', ...answer.headers },
    });
  });
  vi.stubGlobal('fetch', fn);
  return {
    fn,
    calls,
    callsTo: (method: string, path: string) => calls.filter((call) => call.method === method && call.url.pathname === path),
  };
}

function wildcardRoute(routes: Record<string, Route>, method: string, path: string): Route | undefined {
  const segments = path.split('/');
  const key = Object.keys(routes).find((candidate) => {
    const [routeMethod, routePath = ''] = candidate.split(' ');
    const pattern = routePath.split('/');
    return routeMethod === method && pattern.length === segments.length && pattern.every((part, index) => part === '*' || part === segments[index]);
  });
  return key === undefined ? undefined : routes[key];
}

/** The changes index of any room, with nothing changed (useRoomJoin asks it on every join). */
export const NO_CHANGES: Record<string, Route> = {
  'GET /api/rooms/*/changes': { status: 200, body: { messages: [], next: null, sync: '00000000000000000000000000' } },
};

/** A fetch answer that waits until the test releases it. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
