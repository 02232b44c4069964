/**
 * A {@link SqlClient} whose PGlite runs in a `node:worker_threads` Worker (pglite-worker.ts), so the
 * database's WASM execution and synchronous file writes never block the main event loop (the
 * audio path). Same contract as the in-process client: statements resolve with their rows, errors
 * keep their SQLSTATE `code` (and `constraint`, `detail`), a transaction's statements run on it in
 * order. The process's DATA_DIR lock stays with the main thread (a worker is the same process).
 */
import { Worker } from 'node:worker_threads';
import type { SqlClient, SqlExecutor } from './sql-types.js';
import type { SerializedError, WorkerInit, WorkerReply, WorkerRequest } from './pglite-worker.js';
import { workerEntry } from './worker-entry.js';

/** Distributes `Omit` over the request union (a plain Omit would merge its members). */
type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

/** The worker's error, rebuilt on this thread with the fields callers inspect (`code`...). */
function reviveError(e: SerializedError): Error {
  const err = Object.assign(new Error(e.message), e.fields);
  err.name = e.name;
  return err;
}

/**
 * Starts the worker and waits for PGlite to open. Rejects with the worker's open error (the caller
 * wraps it in PgliteOpenError); the thread is gone by then.
 *
 * Failure semantics: if the worker dies later (a crash inside PGlite), every pending and later
 * call rejects with a plain error (no SQLSTATE: the outbox treats it as transient and keeps the ops
 * in its journal); reopening the store restarts it.
 */
export async function openPgliteWorker(dataDir: string | undefined): Promise<SqlClient> {
  const { url, execArgv } = workerEntry('pglite-worker', import.meta.url);
  const init: WorkerInit = { dataDir };
  const worker = new Worker(url, { workerData: init, ...(execArgv ? { execArgv } : {}) });
  const pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let dead: Error | undefined;

  // Referenced only while a reply is awaited: an idle store must not keep the process alive
  // (the in-process PGlite did not either), a busy one must.
  const settle = (id: number) => {
    pending.delete(id);
    if (pending.size === 0) worker.unref();
  };
  const stop = (err: Error) => {
    dead ??= err;
    for (const [id, p] of pending) {
      settle(id);
      p.reject(dead);
    }
  };

  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, {
      resolve: (r) => (r.ok ? resolve() : reject(reviveError(r.error))),
      reject,
    });
  });
  worker.on('message', (r: WorkerReply) => {
    const p = pending.get(r.id);
    if (!p) return;
    settle(r.id);
    p.resolve(r);
  });
  worker.on('error', (err) => stop(new Error(`PGlite worker failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => stop(new Error(`PGlite worker stopped (exit code ${code})`)));
  await ready;

  const call = (req: Request): Promise<WorkerReply & { ok: true }> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve: (r) => (r.ok ? resolve(r) : reject(reviveError(r.error))), reject });
      worker.postMessage({ ...req, id });
    });
  };
  const executor = (tx?: number): SqlExecutor => ({
    async query<R>(text: string, params?: readonly unknown[]) {
      const res = await call({ op: 'query', text, ...(params ? { params: [...params] } : {}), tx });
      return { rows: (res.rows ?? []) as R[] };
    },
    async exec(sql: string) {
      await call({ op: 'exec', sql, tx });
    },
  });

  let nextTx = 1;
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    ...executor(),
    async transaction(fn) {
      const tx = nextTx++;
      await call({ op: 'begin', tx });
      let result;
      try {
        result = await fn(executor(tx));
      } catch (err) {
        await call({ op: 'end', tx, commit: false }).catch(() => {});
        throw err;
      }
      await call({ op: 'end', tx, commit: true });
      return result;
    },
    close() {
      closing ??= (async () => {
        if (!dead) await call({ op: 'close' }).catch(() => {});
        stop(new Error('PGlite client closed'));
        await worker.terminate();
      })();
      return closing;
    },
  };
}
