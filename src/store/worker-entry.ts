/**
 * Where a worker thread's code comes from (the PGlite worker, the journal worker).
 *
 * - Built server (`dist/src/store/*.js`): the compiled worker file next to its client.
 * - TypeScript sources (`npm start` through tsx, jest): the worker and what it imports, bundled
 *   once per process with esbuild (tsx's own compiler) into one plain ES module under
 *   `node_modules/.cache/statecall/` (packages stay imports, resolved from node_modules). The
 *   thread then runs plain JavaScript: registering tsx inside it instead starts a second loader
 *   thread and costs ≈ 20 MB of RSS per worker.
 * - Fallback, when esbuild cannot be loaded or fails: a bootstrap `<name>-tsx.mjs` that registers
 *   tsx inside the thread (`execArgv: []` keeps a parent's `--import tsx` from registering it twice).
 *
 * The bundle file is named by a hash of its content and written through a temporary name and a
 * rename, so processes starting together (jest workers) never read a half-written file.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What `new Worker(url, { execArgv })` needs. */
export interface WorkerEntry {
  url: URL;
  execArgv?: string[];
}

interface EsbuildApi {
  buildSync(opts: Record<string, unknown>): { outputFiles?: Array<{ text: string }> };
}

const bundled = new Map<string, URL | null>();

/** The bundle of `source` (a .ts path) as a file URL, or null when esbuild is not usable. */
function bundleOf(source: string): URL | null {
  const require = createRequire(import.meta.url);
  const esbuildPath = require.resolve('esbuild');
  const esbuild = require(esbuildPath) as EsbuildApi;
  const result = esbuild.buildSync({
    entryPoints: [source],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const text = result.outputFiles?.[0]?.text;
  if (!text) return null;
  const cut = esbuildPath.lastIndexOf(`${sep}node_modules${sep}esbuild${sep}`);
  if (cut < 0) return null; // esbuild outside a node_modules: no cache folder to write to
  const cacheDir = join(esbuildPath.slice(0, cut), 'node_modules', '.cache', 'statecall');
  const name = basename(source, '.ts');
  const file = join(cacheDir, `${name}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
  return pathToFileURL(file);
}

/**
 * The entry of worker `name` (e.g. `'journal-worker'`) whose client module is `clientUrl`
 * (`import.meta.url` of the caller): see the file header.
 */
export function workerEntry(name: string, clientUrl: string): WorkerEntry {
  if (clientUrl.endsWith('.js')) return { url: new URL(`./${name}.js`, clientUrl) };
  const source = fileURLToPath(new URL(`./${name}.ts`, clientUrl));
  if (!bundled.has(source)) {
    let url: URL | null;
    try {
      url = bundleOf(source);
    } catch {
      url = null; // no esbuild here, or it failed: the tsx bootstrap below still works
    }
    bundled.set(source, url);
  }
  const url = bundled.get(source);
  return url ? { url, execArgv: [] } : { url: new URL(`./${name}-tsx.mjs`, clientUrl), execArgv: [] };
}
