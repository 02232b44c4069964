/**
 * The outbox's journal file (JSONL): op groups appended with one write and one fdatasync, progress
 * marks, truncation. The file stays open between appends (no mkdir/open/close per group), and the
 * JSON is built here, so the thread that runs this (the journal worker, journal-worker.ts) does
 * that work, not the audio path.
 *
 * Lifecycle: `createJournalFile(path, { fsync })`; the directory and file are created on the first
 * append; `truncate()` empties it in place (appends go on at the new end: the file is in append
 * mode); `close()` releases the descriptor (a later append reopens it). Every method rejects with
 * the file system's error and leaves the file usable for the next call.
 */
import { mkdir, open, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One journaled op: its sequence number and the op itself (any JSON value). */
export interface JournalEntry {
  n: number;
  op: unknown;
}

/** The operations the outbox does on its journal, in the order it calls them. */
export interface JournalFile {
  /** Appends `{"n":..,"op":..}` lines with one write, then one fdatasync (when `fsync`). */
  append(entries: readonly JournalEntry[]): Promise<void>;
  /** Appends a `{"w":n}` progress mark (no fdatasync: a lost mark only means an idempotent replay). */
  mark(writtenThrough: number): Promise<void>;
  /** Empties the journal (everything in it is written). A missing file is fine. */
  truncate(): Promise<void>;
  /** Resolves once appends can start without a start-up delay (the worker booted). Never rejects. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** The JSONL text of `entries` (shared with the in-thread fallback and the worker). */
export function journalLines(entries: readonly JournalEntry[]): string {
  let text = '';
  for (const e of entries) text += JSON.stringify({ n: e.n, op: e.op }) + '\n';
  return text;
}

/** Opens (lazily) the journal at `path` in this thread (see file header). */
export function createJournalFile(path: string, opts: { fsync: boolean }): JournalFile {
  let handle: Promise<FileHandle> | undefined;
  const file = (): Promise<FileHandle> => {
    handle ??= mkdir(dirname(path), { recursive: true })
      .then(() => open(path, 'a'))
      .catch((err: unknown) => {
        handle = undefined; // the next call tries again (e.g. the disk came back)
        throw err;
      });
    return handle;
  };
  /** A write that failed may have left the descriptor unusable: reopen next time. */
  const reopenAfter = async <T>(fn: (fh: FileHandle) => Promise<T>): Promise<T> => {
    const fh = await file();
    try {
      return await fn(fh);
    } catch (err) {
      handle = undefined;
      await fh.close().catch(() => {});
      throw err;
    }
  };
  return {
    append: (entries) =>
      reopenAfter(async (fh) => {
        await fh.write(journalLines(entries));
        if (opts.fsync) await fh.datasync();
      }),
    mark: (writtenThrough) =>
      reopenAfter(async (fh) => {
        await fh.write(JSON.stringify({ w: writtenThrough }) + '\n');
      }),
    async truncate() {
      if (!handle) {
        // Nothing appended by this process yet: truncate a file a previous run may have left.
        await truncate(path).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        });
        return;
      }
      await reopenAfter((fh) => fh.truncate(0));
    },
    ready: () => Promise.resolve(),
    async close() {
      const h = handle;
      handle = undefined;
      if (h) await (await h.catch(() => null))?.close();
    },
  };
}
