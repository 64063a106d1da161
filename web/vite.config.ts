import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import react from '@vitejs/plugin-react';
import type { Plugin, ProxyOptions } from 'vite';
import { defineConfig } from 'vitest/config';

// The API and Socket.IO server that `parley dev` runs (docs/reference.md, "Configuration").
const BACKEND = 'http://127.0.0.1:8000';

// The back end only accepts browser requests whose Origin it allows (PARLEY_ALLOWED_ORIGINS),
// and the dev server's own origin (http://localhost:5173) is not one of them. In development the
// proxy presents the back end's own origin instead, but only for a page of the dev server itself:
// any other Origin (a page on another site calling http://localhost:5173/api) reaches the back end
// unchanged, so its CSRF and socket origin checks still refuse it. Vite's own Host check
// (server.allowedHosts) keeps DNS-rebound names from posing as the dev server.
export function isDevServerOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin || !host) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const scheme = url.protocol === 'http:' || url.protocol === 'https:';
  return scheme && url.origin === origin.replace(/\/$/, '') && url.host === host.toLowerCase();
}

type HeaderRequest = { getHeader(name: string): unknown; setHeader(name: string, value: string): unknown };
type IncomingRequest = { headers: Record<string, string | string[] | undefined> };

export function presentOwnOriginAsBackend(outgoing: HeaderRequest, incoming: IncomingRequest): void {
  const origin = outgoing.getHeader('origin');
  const host = incoming.headers.host;
  if (typeof origin === 'string' && typeof host === 'string' && isDevServerOrigin(origin, host)) {
    outgoing.setHeader('origin', BACKEND);
  }
}

const presentBackendOrigin: ProxyOptions['configure'] = (proxy) => {
  proxy.on('proxyReq', (request, incoming) => presentOwnOriginAsBackend(request, incoming));
  proxy.on('proxyReqWs', (request, incoming) => presentOwnOriginAsBackend(request, incoming));
};

// The emoji picker (frimousse) reads Emojibase's data from `${EMOJIBASE_URL}/en/*.json`. It is
// served from this origin, as the CSP requires (connect-src 'self'), from the pinned
// emojibase-data package: emitted beside the bundle, and served by the dev server.
export const EMOJIBASE_URL = '/assets/emojibase';
const EMOJIBASE_FILES = ['data.json', 'messages.json'];

function emojibaseData(): Plugin {
  const resolve = createRequire(import.meta.url).resolve;
  const read = (file: string) => readFileSync(resolve(`emojibase-data/en/${file}`));
  return {
    name: 'parley-emojibase-data',
    configureServer(server) {
      server.middlewares.use(`${EMOJIBASE_URL}/en`, (request, response, next) => {
        const file = EMOJIBASE_FILES.find((name) => request.url === `/${name}`);
        if (file === undefined) return next();
        response.setHeader('Content-Type', 'application/json');
        response.end(read(file));
      });
    },
    generateBundle() {
      for (const file of EMOJIBASE_FILES) {
        this.emitFile({ type: 'asset', fileName: `${EMOJIBASE_URL.slice(1)}/en/${file}`, source: read(file) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), emojibaseData()],
  server: {
    proxy: {
      '/api': { target: BACKEND, configure: presentBackendOrigin },
      '/socket.io': { target: BACKEND, ws: true, configure: presentBackendOrigin },
    },
  },
  build: {
    outDir: 'dist',
    // A strict CSP (script-src 'self') forbids inline scripts: keep every asset a file.
    assetsInlineLimit: 0,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    css: false,
    restoreMocks: true,
    unstubGlobals: true,
    // A bound on a hung test, not a speed check: on a loaded 2-core machine a jsdom test with
    // typed input can take longer than the default 5 s.
    testTimeout: 30_000,
  },
});
