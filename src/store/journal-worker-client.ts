/**
 * A {@link JournalFile} whose file work runs in a worker thread (journal-worker.ts): the outbox
 * hands each op group over with one `postMessage` and the JSON, write and fdatasync happen there.
 *
 * Lifecycle: `openJournalWorker(path, { fsync })` starts the thread; `close()` closes the file
 * and ends it. The thread is referenced only while an answer is awaited, so an idle journal keeps
 * no process alive. Failure semantics: a request the file system refuses rejects with its message
 * and `code`; if the thread dies, every pending and later request rejects (the outbox then writes
 * to the store without its journal, and logs it, as when the disk refuses).
 */
import { Worker } from 'node:worker_threads';
import type { JournalEntry, JournalFile } from './journal-file.js';
import type { JournalReply, JournalRequest, JournalWorkerInit } from './journal-worker.js';
import { workerEntry } from './worker-entry.js';

type Request = JournalRequest extends infer R ? (R extends JournalRequest ? Omit<R, 'id'> : never) : never;

/** Starts the journal worker for `path` (see file header). */
export function openJournalWorker(path: string, opts: { fsync: boolean }): JournalFile {
  const { url, execArgv } = workerEntry('journal-worker', import.meta.url);
  const init: JournalWorkerInit = { path, fsync: opts.fsync };
  const worker = new Worker(url, { workerData: init, ...(execArgv ? { execArgv } : {}) });
  worker.unref();
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let dead: Error | undefined;
  const stop = (err: Error) => {
    dead ??= err;
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
  };
  worker.on('message', (r: JournalReply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (pending.size === 0) worker.unref();
    if (r.ok) p.resolve();
    else p.reject(Object.assign(new Error(r.error.message), r.error.code ? { code: r.error.code } : {}));
  });
  worker.on('error', (err) => stop(new Error(`journal worker failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => stop(new Error(`journal worker stopped (exit code ${code})`)));

  const call = (req: Request): Promise<void> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
  };
  let closing: Promise<void> | undefined;
  return {
    append: (entries: readonly JournalEntry[]) => call({ op: 'append', entries: [...entries] }),
    mark: (w) => call({ op: 'mark', w }),
    truncate: () => call({ op: 'truncate' }),
    ready: () => call({ op: 'ready' }).catch(() => {}),
    close() {
      closing ??= (async () => {
        if (!dead) await call({ op: 'close' }).catch(() => {});
        stop(new Error('journal closed'));
        await worker.terminate();
      })();
      return closing;
    },
  };
}
