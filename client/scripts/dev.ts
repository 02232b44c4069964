/**
 * `npm run dev`: the server with restart on change (`tsx watch src/main.ts`, on PORT, default 3000)
 * and the Vite dev server with hot reload for the client (VITE_PORT, default 5173), which proxies
 * `/api`, `/healthz` and the `/client/stream` WebSocket to the server. Open the Vite URL it prints.
 * It prints only the hot-reload URL (the server's own banner, which names the built client, is
 * left out with `--no-banner`). Ctrl-C stops both.
 *
 * `npm run dev -- --client-only` starts only Vite, against a server already running elsewhere
 * (`STATECALL_BACKEND=http://host:port`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const clientDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(clientDir, '..');
const clientOnly = process.argv.includes('--client-only');

async function main(): Promise<void> {
  let server: ChildProcess | null = null;
  if (!clientOnly) {
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    server = spawn(tsx, ['watch', '--clear-screen=false', 'src/main.ts', '--no-banner'], {
      cwd: repoRoot,
      stdio: 'inherit',
      env: process.env,
    });
    server.on('exit', (code) => {
      if (code !== null && code !== 0) console.error(`server exited with code ${code}`);
    });
  }
  const { createServer } = await import('vite');
  const vite = await createServer({ configFile: path.join(clientDir, 'vite.config.ts') });
  await vite.listen();
  const backend = process.env.STATECALL_BACKEND ?? `http://localhost:${process.env.PORT ?? 3000}`;
  console.log(`\n  client with hot reload: ${vite.resolvedUrls?.local[0] ?? 'http://localhost:5173/'}`);
  console.log(`  proxying /api, /healthz, /client/stream to ${backend}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server?.kill('SIGTERM');
    void vite.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error('dev failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
