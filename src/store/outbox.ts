/**
 * The write path to the store: a durable FIFO drained by a background loop, so a call never waits
 * on (or fails because of) the database, and no accepted write is lost when the process dies.
 *
 * - `enqueue()` is synchronous, never throws, never does I/O on the caller's stack.
 * - Journal first (group commit): ops enqueued in the same tick (or while the previous group was
 *   being synced) are appended to a JSONL journal with ONE write and ONE fdatasync, before any of
 *   them is sent to the store. A store attempt that fails or hangs (TCP blackhole) therefore never
 *   holds the only copy. Once written, a `{"w":n}` mark records progress; whenever everything
 *   journaled is written the journal is truncated, so it stays small.
 * - Writes go out in enqueue order, coalesced per batch (up to `batchSize` rows): the batch's
 *   conversation inserts in one multi-row insert, its updates merged per conversation (in order,
 *   last value per field wins) into one statement, its transitions, messages and metrics (last per
 *   conversation) one write per table. Inserts go first, so a conversation row always exists before rows referencing it;
 *   batches are written one after another, so per-conversation order holds.
 * - Transient failures are retried with exponential backoff and jitter. After `maxAttempts` the
 *   store is considered down (degraded): the ops are already in the journal, so memory lets go of
 *   them, and every `maxBackoffMs` the journal is replayed (in order) until it succeeds; ops
 *   enqueued meanwhile are journaled behind it. `start()` replays a journal left by a previous
 *   process (e.g. after kill -9). Every store write is idempotent, so replaying an op that had in
 *   fact been written is harmless.
 * - Permanent failures (SQLSTATE class 22/23 data errors; malformed requests) are not retried: the
 *   batch is written op by op to find the culprit, which is salvaged where it can be (a taken
 *   claim_id: stored under a suffixed one; a refused conversation row: stored minimal; an update
 *   or a multi-row op: field by field, row by row), so one bad value never loses a call's other
 *   rows. What is still refused is logged and appended to `<journalPath>.rejected.jsonl`.
 * - If the journal itself cannot be written (disk full), ops still go to the store (logged): the
 *   call's data is not held back for a durability the disk cannot give.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createJournalFile, type JournalFile } from './journal-file.js';
import { openJournalWorker } from './journal-worker-client.js';
import {
  ClaimIdConflictError,
  type ConversationPatch,
  type ConversationStore,
  type MessageRow,
  type MetricsRow,
  type NewConversation,
  type TransitionRow,
} from './types.js';

/** One write, mirroring the port's write methods. Ops are not copied: don't mutate rows after enqueueing them. */
export type OutboxOp =
  | { type: 'createConversation'; row: NewConversation }
  | { type: 'updateConversation'; id: string; patch: ConversationPatch }
  | { type: 'appendTransitions'; rows: TransitionRow[] }
  | { type: 'upsertMessages'; rows: MessageRow[] }
  | { type: 'upsertMetrics'; row: MetricsRow };

/** pino-compatible logger subset. */
export interface OutboxLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Counters for /healthz. Cumulative except `pending`, `oldestPendingMs`, `journalPending`, `degraded`. */
export interface OutboxStats {
  /** Ops accepted and not yet written or dropped, in memory (the queue depth). */
  pending: number;
  /** Age in ms of the oldest op not yet written (in memory or, when degraded, in the journal); 0 when none. */
  oldestPendingMs: number;
  /** Ops written to the store (including ops replayed from the journal). */
  written: number;
  /** Failed write attempts that were retried. */
  retries: number;
  /** Ops made durable in the journal (every accepted op, before its first attempt). */
  journaled: number;
  /** Journal group commits (one write + one fdatasync each): `journaled / journalSyncs` ops per sync. */
  journalSyncs: number;
  /** Ops dropped because the store refused them permanently. */
  dropped: number;
  /** Ops in the journal waiting for the store to come back (degraded). */
  journalPending: number;
  /** True while the store is considered down (ops wait in the journal). */
  degraded: boolean;
}

export interface OutboxOptions {
  store: ConversationStore;
  /** JSONL journal (created with its directory when needed). */
  journalPath: string;
  logger?: OutboxLogger;
  /** Soft cap on rows per batch write (default 500). */
  batchSize?: number;
  /** How long an enqueued op may wait for others to share its batch (default 50 ms). */
  flushIntervalMs?: number;
  /** First retry delay (default 200 ms); doubles per attempt, with jitter. */
  initialBackoffMs?: number;
  /** Cap of the retry delay, and the journal replay period while the store is down (default 10 s). */
  maxBackoffMs?: number;
  /** Attempts per batch before the store is considered down (default 6). */
  maxAttempts?: number;
  /** Longest `close()` waits for the store (default 5 s); what is left stays in the journal. */
  closeTimeoutMs?: number;
  /** fdatasync each journal group (default true). Off only for benchmarks of the difference. */
  fsync?: boolean;
  /**
   * Where the journal's JSON, writes and fdatasyncs run: `'worker'` (a worker thread,
   * journal-worker.ts: off the audio path; what the server uses) or `'thread'` (this thread;
   * the default, no thread to start).
   */
  journalIn?: 'worker' | 'thread';
  /**
   * Group-commit window: ops accepted within this many ms share one journal append (default 0:
   * the ops of one tick). A few ms on a busy server turn hundreds of appends (each a thread
   * hand-off and an fdatasync) into a handful; `flush()` and `close()` never wait for it.
   */
  journalGroupMs?: number;
}

/** Handle returned by {@link createOutbox}. */
export interface Outbox {
  /** Queues a write. Synchronous; never throws. After `close()` the op goes straight to the journal. */
  enqueue(op: OutboxOp): void;
  /** Replays a journal left by a previous run (once; failure leaves it for later), then starts draining. Never rejects. */
  start(): Promise<void>;
  /** Resolves when every op enqueued before the call is written, dropped, or (store down) left in the journal. Never rejects. */
  flush(): Promise<void>;
  /** Flushes (bounded by `closeTimeoutMs`) and stops; unwritten ops stay in the journal. Does not close the store. */
  close(): Promise<void>;
  stats(): OutboxStats;
}

/** An accepted op: its journal sequence number and when it was accepted (for the age stat). */
interface Entry {
  n: number;
  op: OutboxOp;
  at: number;
  /** In the journal file (false only when the disk refused it). */
  durable?: boolean;
}

const silent: OutboxLogger = { info() {}, warn() {}, error() {} };

/** True when retrying cannot help: the store refused the data itself. */
export function isPermanentStoreError(err: unknown): boolean {
  if (err instanceof ClaimIdConflictError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  // SQLSTATE 22xxx (data exception) / 23xxx (integrity violation); PostgREST PGRST1xx (malformed request).
  return typeof code === 'string' && /^(22|23)[0-9A-Z]{3}$|^PGRST1\d\d$/.test(code);
}

function rowCount(op: OutboxOp): number {
  return op.type === 'appendTransitions' || op.type === 'upsertMessages' ? op.rows.length : 1;
}

function conversationOf(op: OutboxOp): string | undefined {
  switch (op.type) {
    case 'createConversation':
      return op.row.id;
    case 'updateConversation':
      return op.id;
    case 'upsertMetrics':
      return op.row.conversation_id;
    default:
      return op.rows[0]?.conversation_id;
  }
}

/** Size of the batch starting at `ops[i]`: ops up to `batchSize` rows (at least one op). */
function groupAt(ops: readonly { op: OutboxOp }[], i: number, batchSize: number): number {
  let n = 0;
  let rows = 0;
  for (let e = ops[i]; e; e = ops[i + n]) {
    if (n > 0 && rows + rowCount(e.op) > batchSize) break;
    n++;
    rows += rowCount(e.op);
  }
  return n;
}

/**
 * Writes a batch of ops, coalesced (see file header): conversation inserts, then merged updates,
 * then transitions, messages and metrics. Safe because inside one batch only the conversation row
 * is depended on (foreign keys), and every op of a conversation was enqueued after its insert.
 */
export async function writeBatch(store: ConversationStore, ops: readonly OutboxOp[]): Promise<void> {
  const creates = new Map<string, NewConversation>();
  const updates = new Map<string, ConversationPatch>();
  const transitions: TransitionRow[] = [];
  const messages: MessageRow[] = [];
  const metrics = new Map<string, MetricsRow>();
  for (const op of ops) {
    switch (op.type) {
      case 'createConversation':
        if (!creates.has(op.row.id)) creates.set(op.row.id, op.row); // the first insert wins, as in the database
        break;
      case 'updateConversation': {
        // Merged in enqueue order: later fields overwrite earlier ones, untouched fields stay.
        const merged: Record<string, unknown> = { ...updates.get(op.id) };
        for (const [k, v] of Object.entries(op.patch)) if (v !== undefined) merged[k] = v;
        updates.set(op.id, merged as ConversationPatch);
        break;
      }
      case 'appendTransitions':
        transitions.push(...op.rows);
        break;
      case 'upsertMessages':
        messages.push(...op.rows);
        break;
      case 'upsertMetrics':
        metrics.set(op.row.conversation_id, op.row); // last wins
        break;
    }
  }
  const [onlyCreate] = creates.values();
  if (creates.size === 1 && onlyCreate) await store.createConversation(onlyCreate);
  else if (creates.size > 1) await store.createConversations([...creates.values()]);
  const [onlyUpdate] = updates.entries();
  if (updates.size === 1 && onlyUpdate) await store.updateConversation(onlyUpdate[0], onlyUpdate[1]);
  else if (updates.size > 1)
    await store.updateConversations([...updates].map(([id, patch]) => ({ id, patch })));
  if (transitions.length > 0) await store.appendTransitions(transitions);
  if (messages.length > 0) await store.upsertMessages(messages);
  const [onlyMetrics] = metrics.values();
  if (metrics.size === 1 && onlyMetrics) await store.upsertMetrics(onlyMetrics);
  else if (metrics.size > 1) await store.upsertMetricsBatch([...metrics.values()]);
}

const CHANNELS: readonly string[] = ['phone', 'browser', 'terminal'];

/** A conversation row with only what the schema requires (the refused value is one of the others). */
function minimalConversation(row: NewConversation): NewConversation {
  return {
    ...row,
    call_sid: null,
    stream_sid: null,
    from_number: null,
    to_number: null,
    channel: CHANNELS.includes(row.channel) ? row.channel : 'terminal',
    machine_version: typeof row.machine_version === 'string' ? row.machine_version : 'unknown',
  };
}

/** Parses a journal: ops after the last written mark, in order (old bare-op lines count as unwritten). */
function parseJournal(text: string, onBadLine: () => void): { n?: number; op: OutboxOp }[] {
  const ops: { n?: number; op: OutboxOp }[] = [];
  let writtenThrough = -Infinity;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let rec: { n?: unknown; op?: unknown; w?: unknown; type?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      // A torn last line from a crash mid-append: everything before it is intact.
      onBadLine();
      continue;
    }
    if (typeof rec.w === 'number') writtenThrough = Math.max(writtenThrough, rec.w);
    else if (typeof rec.n === 'number' && rec.op) ops.push({ n: rec.n, op: rec.op as OutboxOp });
    else if (typeof rec.type === 'string')
      ops.push({ op: rec as unknown as OutboxOp }); // format before marks
    else onBadLine();
  }
  return ops.filter((e) => e.n === undefined || e.n > writtenThrough);
}

/**
 * Creates an outbox in front of `store` (which must already be `init()`ed by the caller).
 * Lifecycle: `createOutbox` -> `start()` -> `enqueue()`... -> `close()`. Ops enqueued before
 * `start()` are journaled at once and written after it.
 */
export function createOutbox(opts: OutboxOptions): Outbox {
  const { store, journalPath } = opts;
  const log = opts.logger ?? silent;
  const batchSize = opts.batchSize ?? 500;
  const flushIntervalMs = opts.flushIntervalMs ?? 50;
  const initialBackoffMs = opts.initialBackoffMs ?? 200;
  const maxBackoffMs = opts.maxBackoffMs ?? 10_000;
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 6);
  const closeTimeoutMs = opts.closeTimeoutMs ?? 5_000;
  const fsync = opts.fsync ?? true;
  const journalGroupMs = opts.journalGroupMs ?? 0;
  const rejectedPath = journalPath.replace(/\.jsonl$/, '') + '.rejected.jsonl';
  let journalFile: JournalFile | undefined;
  /** The journal file, opened on first use (and again after close, for a late replay). */
  const journal = (): JournalFile =>
    (journalFile ??=
      opts.journalIn === 'worker'
        ? openJournalWorker(journalPath, { fsync })
        : createJournalFile(journalPath, { fsync }));

  /** Accepted, not yet in the journal. */
  const unjournaled: Entry[] = [];
  /** Journaled (or journal failed), waiting for the store, in order. Empty while degraded. */
  const queue: Entry[] = [];
  const counters = { written: 0, retries: 0, journaled: 0, journalSyncs: 0, dropped: 0 };
  let nextSeq = 1;
  /** Highest sequence number appended to the journal file (0 = none since the last truncation). */
  let journaledThrough = 0;
  /** Every op with a sequence number <= this is written or dropped. */
  let writtenThrough = 0;
  let enqueued = 0;
  let settled = 0; // ops written, dropped, or handed to the degraded journal, in order
  const waiters: { target: number; resolve: () => void }[] = [];

  let started = false;
  let closing = false;
  let closed = false;
  /** Store considered down: ops wait in the journal, replayed every maxBackoffMs. */
  let degraded = false;
  let degradedSince = 0; // accept time of the oldest op waiting in the journal
  let journalPending = 0;
  let storeWasDown = false;
  let probeDue = false;
  let isolating = 0; // after a permanent failure of a batch, the next N ops are written one by one

  let running: Promise<void> | undefined;
  let again = false;
  let kickTimer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  let wakeSleep: (() => void) | undefined;

  /** Journal file operations, strictly one after another (appends, marks, truncations). */
  let fileChain: Promise<unknown> = Promise.resolve();
  let journaling: Promise<void> | undefined;
  let journalScheduled = false;
  let journalTimer: NodeJS.Timeout | undefined;

  function onFile<T>(fn: () => Promise<T>): Promise<T> {
    const p = fileChain.then(fn, fn);
    fileChain = p.catch(() => {});
    return p;
  }

  function settle(n: number): void {
    settled += n;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && w.target <= settled) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  // ---- journal (group commit) ----

  function scheduleJournal(): void {
    if (journalScheduled || journaling) return;
    journalScheduled = true;
    // Every op enqueued in this tick (or window) shares one write and one fdatasync.
    const run = () => {
      journalScheduled = false;
      journalTimer = undefined;
      void journalGroup();
    };
    if (journalGroupMs > 0) journalTimer = setTimeout(run, journalGroupMs);
    else setImmediate(run);
  }

  /** The group being appended to the journal right now (still pending, in neither list). */
  let inJournalWrite: readonly { at: number }[] = [];

  function journalGroup(): Promise<void> {
    if (journaling || unjournaled.length === 0) return journaling ?? Promise.resolve();
    journaling = (async () => {
      while (unjournaled.length > 0) {
        const group = unjournaled.splice(0);
        inJournalWrite = group;
        const entries = group.map((e) => ({ n: e.n, op: e.op }));
        try {
          await onFile(() => journal().append(entries));
          inJournalWrite = []; // the rest of this pass is synchronous: they are counted below
          journaledThrough = group[group.length - 1]?.n ?? journaledThrough;
          for (const e of group) e.durable = true;
          counters.journaled += group.length;
          counters.journalSyncs++;
          if (degraded) {
            // The store is down: the journal holds them; the replay will write them.
            journalPending += group.length;
            if (degradedSince === 0) degradedSince = group[0]?.at ?? Date.now();
            settle(group.length);
            continue;
          }
        } catch (err) {
          inJournalWrite = [];
          if (degraded) {
            // Neither disk nor store: keep them in memory and try the disk again later.
            unjournaled.unshift(...group);
            log.error({ err, ops: group.length }, 'outbox could not write its journal');
            scheduleProbe();
            return;
          }
          log.error({ err, ops: group.length }, 'outbox could not write its journal; writing without it');
        }
        queue.push(...group);
        // A full batch (or one somebody waits for) goes now; otherwise wait a little so others can share the write.
        kick(queue.length >= batchSize || waiters.length > 0 || closing ? 0 : flushIntervalMs);
      }
    })().finally(() => {
      journaling = undefined;
      if (unjournaled.length > 0 && !degraded) scheduleJournal();
    });
    return journaling;
  }

  /** Records progress: truncates the journal when everything in it is written, else appends a mark. */
  function markWritten(n: number): void {
    writtenThrough = Math.max(writtenThrough, n);
    void onFile(async () => {
      if (writtenThrough >= journaledThrough && !journaling) await journal().truncate();
      // No fsync: a lost mark only means replaying ops that were written (idempotent).
      else await journal().mark(writtenThrough);
    }).catch((err: unknown) => log.error({ err }, 'outbox could not record its progress in the journal'));
  }

  // ---- drain ----

  /** Schedules a drain after `delayMs` (an earlier schedule wins). */
  function kick(delayMs: number): void {
    if (!started || closed) return;
    if (running) {
      again = true;
      return;
    }
    if (kickTimer) {
      if (delayMs > 0) return;
      clearTimeout(kickTimer);
    }
    kickTimer = setTimeout(() => {
      kickTimer = undefined;
      void runDrain();
    }, delayMs);
  }

  function runDrain(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    let retryLater = false;
    running = (async () => {
      do {
        again = false;
        try {
          await drain();
        } catch (err) {
          // drain() handles store errors itself; this is a disk failure (journal) or a bug.
          log.error({ err }, 'outbox drain failed');
          retryLater = true;
          probeDue = true;
          return;
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
      if (retryLater) kick(maxBackoffMs);
    });
    return running;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeSleep = undefined;
        resolve();
      }
      wakeSleep = done;
    });
  }

  function backoff(attempt: number): number {
    const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  function scheduleProbe(): void {
    if (probeTimer || closing) return;
    probeTimer = setTimeout(() => {
      probeTimer = undefined;
      probeDue = true;
      if (unjournaled.length > 0) void journalGroup();
      kick(0);
    }, maxBackoffMs);
    // The journal is on disk: a pending probe must not keep the process alive on its own.
    probeTimer.unref();
  }

  /** The store is down: memory lets go of the queue (it is all journaled) and waits for a probe. */
  function enterDegraded(reason: string): void {
    if (!degraded) {
      degraded = true;
      degradedSince = queue[0]?.at ?? Date.now();
    }
    const left = queue.splice(0);
    // Ops the disk refused earlier are only in memory: they go back to the journal stage.
    const volatile = left.filter((e) => !e.durable);
    unjournaled.unshift(...volatile);
    const n = left.length - volatile.length;
    isolating = 0;
    journalPending += n;
    storeWasDown = true;
    log.warn({ ops: n, journalPending, reason }, 'outbox: store unreachable, writes wait in the journal');
    settle(n);
    scheduleProbe();
  }

  async function reject(op: OutboxOp, err: unknown): Promise<void> {
    counters.dropped++;
    const conversationId = conversationOf(op);
    log.error({ err, op: op.type, conversationId }, 'outbox dropped a write the store refused');
    try {
      await mkdir(dirname(rejectedPath), { recursive: true });
      await appendFile(
        rejectedPath,
        JSON.stringify({ at: new Date().toISOString(), error: String(err), op }) + '\n',
      );
    } catch (e) {
      log.error({ err: e }, 'outbox could not record a rejected write');
    }
  }

  /** Writes one op alone; what the store refuses permanently is salvaged or recorded (false). Rejects on a transient failure. */
  async function writeAlone(op: OutboxOp): Promise<boolean> {
    try {
      await writeBatch(store, [op]);
      return true;
    } catch (err) {
      if (!isPermanentStoreError(err)) throw err;
      return salvage(op, err);
    }
  }

  /**
   * One refused op must not lose the call's other rows (they all hang on the conversation row):
   * a conversation is stored under a suffixed claim id when its claim id is taken (an unreserved
   * number, see claim-number-pool.ts) or minimal when a value is refused; an update or a batch of
   * rows is written field by field / row by row so only the refused part is lost (and recorded).
   * Returns true when anything of `op` was stored.
   */
  async function salvage(op: OutboxOp, err: unknown): Promise<boolean> {
    const attempt = async (part: OutboxOp): Promise<unknown> => {
      try {
        await writeBatch(store, [part]);
        return null;
      } catch (e) {
        if (!isPermanentStoreError(e)) throw e;
        return e;
      }
    };
    switch (op.type) {
      case 'createConversation': {
        let row = op.row;
        let last = err;
        if (!(err instanceof ClaimIdConflictError)) {
          row = minimalConversation(row);
          last = await attempt({ type: 'createConversation', row });
          if (last === null) {
            log.error(
              { err, conversationId: row.id },
              'outbox stored a refused conversation row without its optional fields',
            );
            return true;
          }
        }
        for (let k = 2; k < 12 && last instanceof ClaimIdConflictError; k++) {
          const claimId =
            k < 10 ? `${op.row.claim_id}-${k}` : `${op.row.claim_id}-${randomUUID().slice(0, 6)}`;
          row = { ...row, claim_id: claimId };
          last = await attempt({ type: 'createConversation', row });
          if (last === null) {
            // Loud: the caller was told another number (it had not been reserved, the database was down).
            log.error(
              { conversationId: row.id, claimId: op.row.claim_id, storedAs: claimId },
              'outbox: claim_id was taken; conversation stored under a suffixed claim id',
            );
            return true;
          }
        }
        await reject(op, last);
        return false;
      }
      case 'updateConversation': {
        const { updated_at, ...fields } = op.patch;
        let stored = false;
        for (const [k, v] of Object.entries(fields)) {
          const part: OutboxOp = { type: 'updateConversation', id: op.id, patch: { [k]: v, updated_at } };
          const e = await attempt(part);
          if (e === null) stored = true;
          else await reject(part, e);
        }
        return stored;
      }
      case 'appendTransitions':
      case 'upsertMessages': {
        if (op.rows.length < 2) break;
        let stored = false;
        for (const row of op.rows) {
          const part = { type: op.type, rows: [row] } as OutboxOp;
          const e = await attempt(part);
          if (e === null) stored = true;
          else await reject(part, e);
        }
        return stored;
      }
      default:
        break;
    }
    await reject(op, err);
    return false;
  }

  /**
   * Writes `ops` in batches with no retry (journal replay). Permanent failures are isolated and
   * rejected. Returns false at the first transient failure.
   */
  async function writeOnce(ops: readonly OutboxOp[]): Promise<boolean> {
    const wrapped = ops.map((op) => ({ op }));
    let i = 0;
    while (i < ops.length) {
      const n = groupAt(wrapped, i, batchSize);
      const group = ops.slice(i, i + n);
      let written = n;
      try {
        try {
          await writeBatch(store, group);
        } catch (err) {
          if (!isPermanentStoreError(err)) throw err;
          written = 0;
          for (const op of group) if (await writeAlone(op)) written++;
        }
      } catch {
        return false;
      }
      counters.written += written;
      i += n;
    }
    return true;
  }

  /** Replays the journal file (degraded or at start). True when it is empty afterwards. */
  async function replayJournal(): Promise<boolean> {
    for (;;) {
      const through = journaledThrough;
      let text: string;
      try {
        text = await readFile(journalPath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        text = '';
      }
      const entries = parseJournal(text, () =>
        log.warn({ journalPath }, 'outbox skipped an unreadable journal line'),
      );
      const fresh = entries.filter((e) => e.n === undefined || e.n > writtenThrough);
      if (fresh.length > 0 && !(await writeOnce(fresh.map((e) => e.op)))) return false;
      if (fresh.length > 0) log.info({ ops: fresh.length }, 'outbox replayed its journal');
      const last = entries[entries.length - 1]?.n;
      if (last !== undefined) writtenThrough = Math.max(writtenThrough, last);
      // Ops journaled while we were reading or writing: read again. Otherwise it is all written.
      if (journaledThrough === through && !journaling && unjournaled.length === 0) {
        await onFile(() => journal().truncate());
        return true;
      }
    }
  }

  async function drain(): Promise<void> {
    for (;;) {
      if (closed) return;
      if (degraded) {
        if (!probeDue || closing) return;
        probeDue = false;
        if (!(await replayJournal())) {
          scheduleProbe();
          return;
        }
        degraded = false;
        degradedSince = 0;
        journalPending = 0;
        if (storeWasDown) log.info({}, 'outbox: store reachable again');
        storeWasDown = false;
        if (unjournaled.length > 0) void journalGroup();
        continue;
      }
      if (queue.length === 0) return;
      const n = isolating > 0 ? 1 : groupAt(queue, 0, batchSize);
      const batch = queue.slice(0, n);
      const ops = batch.map((e) => e.op);
      let attempt = 0;
      for (;;) {
        try {
          let written = n;
          if (n === 1) written = (await writeAlone(ops[0] as OutboxOp)) ? 1 : 0;
          else await writeBatch(store, ops);
          if (degraded || closed) return; // gave up on it meanwhile (close): it stays in the journal
          queue.splice(0, n);
          counters.written += written;
          if (isolating > 0) isolating--;
          markWritten(batch[n - 1]?.n ?? 0);
          settle(n);
          break;
        } catch (err) {
          if (degraded || closed) return;
          if (isPermanentStoreError(err) && n > 1) {
            isolating = n; // write the members one by one to find the culprit
            break;
          }
          attempt++;
          if (attempt >= maxAttempts || closing) {
            log.warn({ err, attempts: attempt }, 'outbox: store unreachable');
            enterDegraded(closing ? 'closing' : 'store unreachable');
            return;
          }
          counters.retries++;
          const delay = backoff(attempt);
          log.warn({ err, attempt, delayMs: Math.round(delay) }, 'outbox write failed, retrying');
          await sleep(delay);
          if (degraded || closed) return;
        }
      }
    }
  }

  function flush(): Promise<void> {
    const target = enqueued;
    if (settled >= target) return Promise.resolve();
    return new Promise<void>((resolve) => {
      waiters.push({ target, resolve });
      void journalGroup();
      kick(0);
    });
  }

  /** At start: keeps only the unwritten ops of a previous run's journal, renumbered (compaction). */
  async function adoptJournal(): Promise<void> {
    let text: string;
    try {
      text = await readFile(journalPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const left = parseJournal(text, () =>
      log.warn({ journalPath }, 'outbox skipped an unreadable journal line'),
    );
    // Sequence numbers of this run continue after the adopted ops.
    const lines = left.map((e) => JSON.stringify({ n: nextSeq++, op: e.op }) + '\n').join('');
    const tmp = `${journalPath}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.write(lines);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, journalPath);
    journaledThrough = nextSeq - 1;
    if (left.length > 0) {
      degraded = true; // the first drain replays them before anything newer
      degradedSince = Date.now();
      journalPending = left.length;
    }
  }

  let closingDone: Promise<void> | undefined;
  /** Flushes within closeTimeoutMs, then stops; runs once (see Outbox.close). */
  async function closeNow(): Promise<void> {
    closing = true;
    started = true; // close() without start(): still try to write what was enqueued
    if (probeTimer) clearTimeout(probeTimer);
    probeTimer = undefined;
    wakeSleep?.(); // a retry wait ends now; with `closing` set, the next failure gives up at once
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      flush().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      log.warn(
        { pending: queue.length },
        'outbox close timed out waiting for the store; the journal keeps the rest',
      );
      await journalGroup().catch(() => {});
    }
    closed = true;
    if (journalTimer) clearTimeout(journalTimer); // its ops went with the flush above
    journalTimer = undefined;
    journalScheduled = false;
    if (kickTimer) clearTimeout(kickTimer);
    kickTimer = undefined;
    wakeSleep?.();
    await fileChain;
    await journalFile?.close().catch(() => {});
    journalFile = undefined;
    // Release anyone still waiting (their ops are in the journal or, if the disk failed, logged).
    settle(0);
    for (const w of waiters.splice(0)) w.resolve();
  }

  return {
    enqueue(op) {
      try {
        if (closed) {
          // Shutdown is over: keep the op for the next start (rare, and off the audio path by then).
          mkdirSync(dirname(journalPath), { recursive: true });
          appendFileSync(journalPath, JSON.stringify({ n: nextSeq++, op }) + '\n');
          counters.journaled++;
          log.warn({ op: op.type }, 'outbox: write after close went to the journal');
          return;
        }
        unjournaled.push({ n: nextSeq++, op, at: Date.now() });
        enqueued++;
        if (started) scheduleJournal(); // before start() the old journal must be adopted first
      } catch (err) {
        log.error({ err }, 'outbox enqueue failed');
      }
    },

    async start() {
      if (started) return;
      // Ops enqueued before start() must not be numbered before the adopted journal's ops.
      const early = unjournaled.splice(0);
      try {
        await onFile(adoptJournal);
      } catch (err) {
        log.error({ err }, 'outbox could not read its journal; it stays for the next start');
      }
      for (const e of early) e.n = nextSeq++;
      unjournaled.unshift(...early);
      // After the adoption (which replaces the file): a journal worker boots now, not on the first call's write.
      await journal().ready();
      started = true;
      probeDue = true;
      await runDrain();
      void journalGroup();
      if (queue.length > 0) kick(0);
    },

    flush,

    close() {
      closingDone ??= closeNow();
      return closingDone;
    },

    stats() {
      const oldest =
        degraded && degradedSince > 0
          ? degradedSince
          : (queue[0]?.at ?? inJournalWrite[0]?.at ?? unjournaled[0]?.at);
      return {
        pending: queue.length + inJournalWrite.length + unjournaled.length,
        oldestPendingMs: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest),
        written: counters.written,
        retries: counters.retries,
        journaled: counters.journaled,
        journalSyncs: counters.journalSyncs,
        dropped: counters.dropped,
        journalPending,
        degraded,
      };
    },
  };
}
