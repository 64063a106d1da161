import react from '@vitejs/plugin-react';
import type { ProxyOptions } from 'vite';
import { defineConfig } from 'vitest/config';

// The API and Socket.IO server that `parley dev` runs (docs/reference.md, "Configuration").
const BACKEND = 'http://127.0.0.1:8000';

// The back end only accepts browser requests whose Origin it allows (PARLEY_ALLOWED_ORIGINS),
// and the dev server's own origin (http://localhost:5173) is not one of them. In development the
// proxy presents the back end's own origin instead; production serves everything from one origin.
const presentBackendOrigin: ProxyOptions['configure'] = (proxy) => {
  proxy.on('proxyReq', (request) => {
    if (request.getHeader('origin')) request.setHeader('origin', BACKEND);
  });
  proxy.on('proxyReqWs', (request) => {
    if (request.getHeader('origin')) request.setHeader('origin', BACKEND);
  });
};

export default defineConfig({
  plugins: [react()],
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
  },
});
