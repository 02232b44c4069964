/**
 * Vite config of the browser client (root: `client/`, output: `client/dist`, which the server
 * serves at `/`). `npm run dev` runs this dev server with hot reload in front of the real server:
 * `/api`, `/healthz` and the `/client/stream` WebSocket are proxied to `STATECALL_BACKEND`
 * (default `http://localhost:$PORT`, PORT 3000).
 *
 * Everything is bundled: no CDN, no web fonts, no runtime fetches outside this server.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const clientDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(clientDir, '..');
const backend = process.env.STATECALL_BACKEND ?? `http://localhost:${process.env.PORT ?? 3000}`;

export default defineConfig({
  root: clientDir,
  // Relative asset URLs: the client also works when the server sits behind a path prefix.
  base: './',
  clearScreen: false,
  logLevel: process.env.VITE_LOG_LEVEL === 'silent' ? 'silent' : 'info',
  build: {
    outDir: path.join(clientDir, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  worker: { format: 'es' },
  server: {
    port: Number(process.env.VITE_PORT ?? 5173),
    fs: { allow: [repoRoot] },
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/healthz': { target: backend, changeOrigin: true },
      '/client/stream': { target: backend, ws: true, changeOrigin: true },
    },
  },
});
