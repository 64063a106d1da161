// Routes for a stubbed `fetch`, keyed "METHOD /path" (the query string is passed to handlers).
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
    const route = routes[`${method} ${url.pathname}`];
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

/** A fetch answer that waits until the test releases it. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
