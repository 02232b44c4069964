import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerEntry } from '../../src/store/worker-entry.js';

const clientTs = new URL('../../src/store/journal-worker-client.ts', import.meta.url).href;

describe('workerEntry', () => {
  it('starts the compiled worker next to a compiled client', () => {
    const e = workerEntry('journal-worker', 'file:///srv/app/dist/src/store/journal-worker-client.js');
    expect(e.url.href).toBe('file:///srv/app/dist/src/store/journal-worker.js');
    expect(e.execArgv).toBeUndefined();
  });

  it('bundles a TypeScript worker into plain JavaScript under node_modules/.cache (no loader in the thread)', () => {
    const e = workerEntry('journal-worker', clientTs);
    expect(e.url.pathname).toMatch(/\/node_modules\/\.cache\/statecall\/journal-worker-[0-9a-f]{16}\.mjs$/);
    expect(e.execArgv).toEqual([]);
    const code = readFileSync(fileURLToPath(e.url), 'utf8');
    expect(code).not.toMatch(/tsx/);
    expect(code).toMatch(/createJournalFile/); // the imported module is inside the bundle
    // The same process asks once: the second answer is the same file.
    expect(workerEntry('journal-worker', clientTs).url.href).toBe(e.url.href);
  });

  it('falls back to the tsx bootstrap when the worker cannot be bundled', () => {
    const e = workerEntry('no-such-worker', clientTs);
    expect(e.url.href).toBe(new URL('../../src/store/no-such-worker-tsx.mjs', import.meta.url).href);
    expect(e.execArgv).toEqual([]);
  });

  it('runs: the bundled journal worker answers its first request', async () => {
    const e = workerEntry('journal-worker', clientTs);
    const dir = fileURLToPath(new URL('../../test-output/', import.meta.url));
    const worker = new Worker(e.url, {
      workerData: { path: `${dir}worker-entry-${process.pid}.jsonl`, fsync: false },
      execArgv: [],
    });
    try {
      const reply = await new Promise<unknown>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ id: 1, op: 'append', entries: [{ n: 1, op: { kind: 'test' } }] });
      });
      expect(reply).toEqual({ id: 1, ok: true });
    } finally {
      await worker.terminate();
    }
  });
});
