/**
 * Builds the browser client into `client/dist` when it is missing or stale; does nothing
 * otherwise (a hash of every input is kept in `client/dist/.build-hash`). `npm start` runs it first
 * (`prestart`), and the browser tests run it before starting a server.
 *
 * Inputs: `client/` sources (not `dist/`), the machine exports it bundles (docs/machines/*.json),
 * the shared code (src/audio/mulaw.ts, resample.ts, src/session/caller-turn-text.ts,
 * src/recording/transcript-timing.ts) and the lockfile (tool versions).
 * Concurrent runs (parallel test workers) serialise on a lock directory.
 *
 * `--force` rebuilds regardless. Exit code 1 when the build fails. Without vite (an install without
 * dev dependencies) it warns and exits 0, so `npm start` still starts the server.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const clientDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(clientDir, '..');
const distDir = path.join(clientDir, 'dist');
const hashFile = path.join(distDir, '.build-hash');
const lockDir = path.join(clientDir, '.build-lock');

function listFiles(dir: string, skip: Set<string>): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p, skip));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

/** Hash of everything the build reads. */
export function clientInputHash(): string {
  const files = [
    ...listFiles(clientDir, new Set(['dist', 'node_modules', '.build-lock'])),
    ...listFiles(path.join(repoRoot, 'docs/machines'), new Set()).filter((f) => f.endsWith('.json')),
    path.join(repoRoot, 'src/audio/mulaw.ts'),
    path.join(repoRoot, 'src/audio/resample.ts'),
    path.join(repoRoot, 'src/session/caller-turn-text.ts'),
    path.join(repoRoot, 'src/recording/transcript-timing.ts'),
    path.join(repoRoot, 'package-lock.json'),
  ].sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(path.relative(repoRoot, f));
    h.update('\0');
    h.update(existsSync(f) ? readFileSync(f) : Buffer.alloc(0));
    h.update('\0');
  }
  return h.digest('hex');
}

/** Is `client/dist` built from the current sources? */
export function clientBuildIsCurrent(hash = clientInputHash()): boolean {
  return (
    existsSync(path.join(distDir, 'index.html')) &&
    existsSync(hashFile) &&
    readFileSync(hashFile, 'utf8') === hash
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock older than two minutes belongs to a build that died.
      const age = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lockDir, { recursive: true, force: true });
      if (i > 1200) throw new Error(`client build lock ${lockDir} is held for too long`, { cause: err });
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** Builds the client if needed. Resolves to whether a build ran. */
export async function ensureClientBuild(opts: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!opts.force && clientBuildIsCurrent()) return false;
  return withLock(async () => {
    const hash = clientInputHash();
    if (!opts.force && clientBuildIsCurrent(hash)) return false;
    let build: typeof import('vite').build;
    try {
      ({ build } = await import('vite'));
    } catch {
      // A production install without dev dependencies: serve what is there, never block start-up.
      console.warn(
        existsSync(path.join(distDir, 'index.html'))
          ? 'vite is not installed: serving the existing client/dist as is'
          : 'vite is not installed: the browser client is not built (the API and the phone path work); run npm install',
      );
      return false;
    }
    if (!opts.quiet) console.log('building the browser client (client/dist)…');
    await build({
      configFile: path.join(clientDir, 'vite.config.ts'),
      logLevel: opts.quiet ? 'warn' : 'info',
    });
    writeFileSync(hashFile, hash);
    return true;
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureClientBuild({
    force: process.argv.includes('--force'),
    quiet: process.argv.includes('--quiet'),
  }).then(
    (built) => {
      if (!built && !process.argv.includes('--quiet'))
        console.log('browser client is up to date (client/dist)');
    },
    (err: unknown) => {
      console.error('client build failed:', err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
