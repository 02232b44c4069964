/**
 * The outbox journal's worker thread: owns the journal file (journal-file.ts), so building the
 * JSON lines, the write and the fdatasync of every op group run off the main event loop (the
 * audio path). Started by journal-worker-client.ts, never imported.
 *
 * Protocol: `workerData` is `{ path, fsync }`. Each request `{ id, op: 'append', entries }`,
 * `{ id, op: 'mark', w }`, `{ id, op: 'truncate' }`, `{ id, op: 'ready' }` (answered once booted)
 * or `{ id, op: 'close' }` is done in arrival
 * order and answered `{ id, ok: true }` or `{ id, ok: false, error: { message, code } }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createJournalFile, type JournalEntry } from './journal-file.js';

/** A request from the outbox's thread. */
export type JournalRequest =
  | { id: number; op: 'append'; entries: JournalEntry[] }
  | { id: number; op: 'mark'; w: number }
  | { id: number; op: 'truncate' }
  | { id: number; op: 'ready' }
  | { id: number; op: 'close' };

/** The answer to one request. */
export type JournalReply =
  { id: number; ok: true } | { id: number; ok: false; error: { message: string; code?: string } };

/** What the worker is started with. */
export interface JournalWorkerInit {
  path: string;
  fsync: boolean;
}

if (parentPort) {
  const port = parentPort;
  const init = workerData as JournalWorkerInit;
  const file = createJournalFile(init.path, { fsync: init.fsync });
  let chain: Promise<unknown> = Promise.resolve();
  const run = (m: JournalRequest): Promise<void> => {
    switch (m.op) {
      case 'append':
        return file.append(m.entries);
      case 'mark':
        return file.mark(m.w);
      case 'truncate':
        return file.truncate();
      case 'ready':
        return file.ready();
      case 'close':
        return file.close();
    }
  };
  port.on('message', (m: JournalRequest) => {
    // Strictly one after another, as the outbox relies on (append, mark, truncate order).
    chain = chain.then(() =>
      run(m).then(
        () => port.postMessage({ id: m.id, ok: true } satisfies JournalReply),
        (err: unknown) => {
          const e = err as NodeJS.ErrnoException;
          port.postMessage({
            id: m.id,
            ok: false,
            error: { message: String(e?.message ?? err), ...(e?.code ? { code: e.code } : {}) },
          } satisfies JournalReply);
        },
      ),
    );
  });
}
