// @vitest-environment node
import { describe, expect, it } from 'vitest';

import { isDevServerOrigin, presentOwnOriginAsBackend } from './vite.config';

function proxied(origin: string | undefined, host: string) {
  const headers: Record<string, string> = origin === undefined ? {} : { origin };
  const outgoing = {
    getHeader: (name: string) => headers[name],
    setHeader: (name: string, value: string) => {
      headers[name] = value;
    },
  };
  presentOwnOriginAsBackend(outgoing, { headers: { host } });
  return headers.origin;
}

describe('the dev proxy', () => {
  it("presents the dev server's own pages as the back end", () => {
    expect(proxied('http://localhost:5173', 'localhost:5173')).toBe('http://127.0.0.1:8000');
    expect(proxied('http://127.0.0.1:5173', '127.0.0.1:5173')).toBe('http://127.0.0.1:8000');
  });

  it('leaves any other origin as it is, so the back end refuses it', () => {
    expect(proxied('http://evil.test', 'localhost:5173')).toBe('http://evil.test');
    expect(proxied('http://localhost:5174', 'localhost:5173')).toBe('http://localhost:5174');
    expect(proxied('null', 'localhost:5173')).toBe('null');
    expect(proxied('http://localhost:5173.evil.test', 'localhost:5173')).toBe(
      'http://localhost:5173.evil.test',
    );
    expect(proxied(undefined, 'localhost:5173')).toBeUndefined();
  });

  it('compares whole origins', () => {
    expect(isDevServerOrigin('http://localhost:5173/', 'localhost:5173')).toBe(true);
    expect(isDevServerOrigin('http://localhost:5173/x', 'localhost:5173')).toBe(false);
    expect(isDevServerOrigin('ftp://localhost:5173', 'localhost:5173')).toBe(false);
    expect(isDevServerOrigin('http://localhost:5173', undefined)).toBe(false);
  });
});
