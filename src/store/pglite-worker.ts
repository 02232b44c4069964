/**
 * The PGlite worker thread: owns the embedded database so its WASM execution and synchronous file
 * writes run off the main event loop. Started by pglite-worker-client.ts, never imported.
 *
 * Lifecycle: boots PGlite on `workerData.dataDir` and posts `{ id: 0, ok: true }` (ready) or
 * `{ id: 0, ok: false, error }` (open failed; the thread then exits). Each request then gets one
 * reply with the same `id`. A transaction is `begin` (its statements are then tagged with the
 * transaction id and run on it, in the order they arrive) and `end` (commit or roll back).
 * Statements without a tag queue behind an open transaction, exactly as in-process PGlite does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pgliteCreateOptions } from './pglite-options.js';
import type { MessagePort } from 'node:worker_threads';

/** A request from the main thread. `tx` tags a statement of an open transaction. */
export type WorkerRequest =
  | { id: number; op: 'query'; text: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin'; tx: number }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

/** An error as it crosses the thread boundary: message, name and its primitive fields (`code`, `constraint`...). */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

/** The reply to a request (or, with id 0, to the boot). */
export type WorkerReply =
  { id: number; ok: true; rows?: unknown[] } | { id: number; ok: false; error: SerializedError };

/** What the worker is started with. */
export interface WorkerInit {
  /** Directory of the database files; `undefined` = in memory. */
  dataDir?: string | undefined;
}

/** Keeps what the caller's error handling reads (SQLSTATE `code`, `constraint`, `detail`...). */
export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(err)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  return { name: err.name, message: err.message, fields };
}

/** Thrown inside a transaction body to roll it back on request (not an error for the caller). */
const ROLLBACK = Symbol('rollback');

async function serve(port: MessagePort, init: WorkerInit): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  type Db = InstanceType<typeof PGlite>;
  type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
  let db: Db;
  try {
    db = await PGlite.create(pgliteCreateOptions(init.dataDir, PGlite.defaultStartParams));
  } catch (err) {
    port.postMessage({ id: 0, ok: false, error: serializeError(err) } satisfies WorkerReply);
    port.close();
    return;
  }
  const txs = new Map<number, { tx: Tx; finish: (commit: boolean) => void; done: Promise<unknown> }>();
  const reply = (r: WorkerReply) => port.postMessage(r);
  const fail = (id: number, err: unknown) => reply({ id, ok: false, error: serializeError(err) });
  const on = (tx: number | undefined): Pick<Db, 'query' | 'exec'> => {
    if (tx === undefined) return db;
    const open = txs.get(tx);
    if (!open) throw new Error(`transaction ${tx} is not open`);
    return open.tx;
  };

  async function handle(m: WorkerRequest): Promise<void> {
    switch (m.op) {
      case 'query': {
        const res = await on(m.tx).query(m.text, m.params);
        reply({ id: m.id, ok: true, rows: res.rows });
        return;
      }
      case 'exec':
        await on(m.tx).exec(m.sql);
        reply({ id: m.id, ok: true });
        return;
      case 'begin': {
        let finish: (commit: boolean) => void = () => {};
        const ended = new Promise<boolean>((resolve) => (finish = resolve));
        const entry: { tx?: Tx; finish: typeof finish; done?: Promise<unknown> } = { finish };
        entry.done = db.transaction(async (tx) => {
          entry.tx = tx;
          txs.set(m.tx, entry as Required<typeof entry>);
          reply({ id: m.id, ok: true });
          if (!(await ended)) throw ROLLBACK;
        });
        // Failures after BEGIN are reported to `end`; a failed BEGIN to `begin` itself.
        entry.done.catch((err: unknown) => {
          if (!entry.tx) fail(m.id, err);
        });
        return;
      }
      case 'end': {
        const open = txs.get(m.tx);
        if (!open) throw new Error(`transaction ${m.tx} is not open`);
        txs.delete(m.tx);
        open.finish(m.commit);
        try {
          await open.done;
        } catch (err) {
          if (err !== ROLLBACK) throw err;
        }
        reply({ id: m.id, ok: true });
        return;
      }
      case 'close':
        for (const open of txs.values()) open.finish(false);
        await db.close();
        reply({ id: m.id, ok: true });
        port.close();
        return;
    }
  }

  port.on('message', (m: WorkerRequest) => {
    handle(m).catch((err: unknown) => fail(m.id, err));
  });
  reply({ id: 0, ok: true });
}

if (parentPort) void serve(parentPort, workerData as WorkerInit);
