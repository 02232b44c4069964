/**
 * The write path to the store: an in-memory FIFO drained by a background loop, so a call never
 * waits on (or fails because of) the database.
 *
 * - `enqueue()` is synchronous, never throws, never does I/O on the caller's stack.
 * - Ops are written in enqueue order. Runs of consecutive appendTransitions / upsertMessages /
 *   upsertMetrics ops (which only depend on the conversation row, never on each other's tables) are
 *   coalesced into one batch per table; createConversation / updateConversation are barriers, so a
 *   conversation row always exists before anything that references it.
 * - Transient failures are retried with exponential backoff and jitter. After `maxAttempts` the
 *   store is considered down: pending ops are appended to a JSONL journal, and so is everything
 *   enqueued while it stays down; every `maxBackoffMs` the journal is replayed (in order) until it
 *   succeeds. `start()` replays a journal left by a previous process. Every store write is
 *   idempotent, so replaying an op that had in fact been written is harmless.
 * - Permanent failures (a taken claim_id; SQLSTATE class 22/23 data errors; malformed requests) are
 *   not retried: ClaimIdConflictError is logged and dropped, other ops are logged and appended to
 *   `<journalPath>.rejected.jsonl` for a human to look at.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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

/** Counters for /healthz. All are cumulative except `pending`, `journalPending` and `degraded`. */
export interface OutboxStats {
  /** Ops enqueued and not yet written, journaled or dropped. */
  pending: number;
  /** Ops written to the store (including ops replayed from the journal). */
  written: number;
  /** Failed write attempts that were retried. */
  retries: number;
  /** Ops appended to the journal. */
  journaled: number;
  /** Ops dropped because the store refused them permanently. */
  dropped: number;
  /** Ops in the journal waiting for the store to come back. */
  journalPending: number;
  /** True while the store is considered down (new ops go to the journal). */
  degraded: boolean;
}

export interface OutboxOptions {
  store: ConversationStore;
  /** JSONL file for ops that could not be written (created with its directory when needed). */
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
  /** Attempts per batch before the store is considered down and ops are journaled (default 6). */
  maxAttempts?: number;
  /** Longest `close()` waits for the store before journaling what is left (default 5 s). */
  closeTimeoutMs?: number;
}

/** Handle returned by {@link createOutbox}. */
export interface Outbox {
  /** Queues a write. Synchronous; never throws. After `close()` the op goes straight to the journal. */
  enqueue(op: OutboxOp): void;
  /** Replays a journal left by a previous run (once; failure leaves it for later), then starts draining. Never rejects. */
  start(): Promise<void>;
  /** Resolves when every op enqueued before the call is written, journaled or dropped. Never rejects. */
  flush(): Promise<void>;
  /** Flushes (bounded by `closeTimeoutMs`), journals anything left, and stops. Does not close the store. */
  close(): Promise<void>;
  stats(): OutboxStats;
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

const isBatchable = (op: OutboxOp) => op.type !== 'createConversation' && op.type !== 'updateConversation';

/** Size of the write group starting at `ops[i]`: a barrier op alone, or a run of batchable ops up to `batchSize` rows. */
function groupAt(ops: readonly OutboxOp[], i: number, batchSize: number): number {
  const head = ops[i];
  if (!head) return 0;
  if (!isBatchable(head)) return 1;
  let n = 0;
  let rows = 0;
  for (let op = ops[i]; op && isBatchable(op); op = ops[i + n]) {
    if (n > 0 && rows + rowCount(op) > batchSize) break;
    n++;
    rows += rowCount(op);
  }
  return n;
}

/** Writes a group of ops: a barrier op alone, or a coalesced run of batchable ops (one write per table). */
async function writeOps(store: ConversationStore, ops: readonly OutboxOp[]): Promise<void> {
  const [first] = ops;
  if (ops.length === 1 && first?.type === 'createConversation') return store.createConversation(first.row);
  if (ops.length === 1 && first?.type === 'updateConversation')
    return store.updateConversation(first.id, first.patch);
  const transitions: TransitionRow[] = [];
  const messages: MessageRow[] = [];
  const metrics = new Map<string, MetricsRow>();
  for (const op of ops) {
    if (op.type === 'appendTransitions') transitions.push(...op.rows);
    else if (op.type === 'upsertMessages') messages.push(...op.rows);
    else if (op.type === 'upsertMetrics') metrics.set(op.row.conversation_id, op.row); // last wins
  }
  if (transitions.length > 0) await store.appendTransitions(transitions);
  if (messages.length > 0) await store.upsertMessages(messages);
  for (const row of metrics.values()) await store.upsertMetrics(row);
}

/**
 * Creates an outbox in front of `store` (which must already be `init()`ed by the caller).
 * Lifecycle: `createOutbox` -> `start()` -> `enqueue()`... -> `close()`. Ops enqueued before
 * `start()` wait for it.
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
  const rejectedPath = journalPath.replace(/\.jsonl$/, '') + '.rejected.jsonl';

  const queue: OutboxOp[] = [];
  const counters = { written: 0, retries: 0, journaled: 0, dropped: 0 };
  let enqueued = 0;
  let settled = 0; // ops that left the queue (written, journaled, dropped), in order
  const waiters: { target: number; resolve: () => void }[] = [];

  let started = false;
  let closing = false;
  let closed = false;
  /** Set when ops had to be journaled in this process (for the "reachable again" log line). */
  let storeWasDown = false;
  let journalPending = 0; // > 0 = degraded: the journal holds ops older than anything in `queue`
  let probeDue = false;
  let isolating = 0; // after a permanent failure of a batch, the next N ops are written one by one
  let generation = 0; // bumped when the queue is force-journaled under a running write

  let running: Promise<void> | undefined;
  let again = false;
  let kickTimer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  let wakeSleep: (() => void) | undefined;

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
      runDrain();
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
          // drain() handles store errors itself; this is a disk failure (journal) or a bug: the ops
          // stay queued, try again later.
          log.error({ err }, 'outbox drain failed');
          retryLater = true;
          probeDue = true; // if it was the journal replay that failed, try it again then
          return;
        }
      } while (again && !closed); // a kick during the run (new ops, a due probe) gets its own pass
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
      kick(0);
    }, maxBackoffMs);
    // The journal is on disk: a pending probe must not keep the process alive on its own.
    probeTimer.unref();
  }

  /** How many ops at the head of the queue form the next write. */
  function nextGroupSize(): number {
    if (queue.length === 0) return 0;
    return isolating > 0 ? 1 : groupAt(queue, 0, batchSize);
  }

  async function appendJournal(ops: readonly OutboxOp[]): Promise<void> {
    await mkdir(dirname(journalPath), { recursive: true });
    await appendFile(journalPath, ops.map((op) => JSON.stringify(op)).join('\n') + '\n');
  }

  /** Moves the whole queue to the journal (the store is down, or we are closing). */
  async function spillQueue(reason: string): Promise<void> {
    if (queue.length === 0) return;
    const ops = queue.splice(0);
    generation++;
    isolating = 0;
    try {
      await appendJournal(ops);
    } catch (err) {
      queue.unshift(...ops); // nothing is lost: keep them in memory and try again later
      log.error({ err, ops: ops.length }, 'outbox could not write its journal');
      throw err;
    }
    journalPending += ops.length;
    storeWasDown = true;
    counters.journaled += ops.length;
    log.warn({ ops: ops.length, journalPending, reason }, 'outbox journaled pending writes');
    settle(ops.length);
  }

  async function reject(op: OutboxOp, err: unknown): Promise<void> {
    counters.dropped++;
    const conversationId = conversationOf(op);
    if (err instanceof ClaimIdConflictError) {
      log.warn({ conversationId, claimId: err.claimId }, 'outbox dropped createConversation: claim_id taken');
      return;
    }
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

  /**
   * Writes `ops` in groups with no retry (journal replay). Permanent failures are isolated and
   * rejected. Returns false at the first transient failure.
   */
  async function writeOnce(ops: readonly OutboxOp[]): Promise<boolean> {
    let i = 0;
    while (i < ops.length) {
      const n = groupAt(ops, i, batchSize);
      const group = ops.slice(i, i + n);
      try {
        await writeOps(store, group);
      } catch (err) {
        if (!isPermanentStoreError(err)) return false;
        for (const op of group) {
          try {
            await writeOps(store, [op]);
          } catch (e) {
            if (!isPermanentStoreError(e)) return false;
            await reject(op, e);
          }
        }
      }
      counters.written += n;
      i += n;
    }
    return true;
  }

  async function replayJournal(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(journalPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        journalPending = 0;
        return true;
      }
      throw err;
    }
    const ops: OutboxOp[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        ops.push(JSON.parse(line) as OutboxOp);
      } catch {
        // A torn last line from a crash mid-append: everything before it is intact.
        log.warn({ journalPath }, 'outbox skipped an unreadable journal line');
      }
    }
    journalPending = ops.length;
    if (ops.length > 0 && !(await writeOnce(ops))) return false;
    await writeFile(journalPath, '');
    if (ops.length > 0) log.info({ ops: ops.length }, 'outbox replayed its journal');
    journalPending = 0;
    return true;
  }

  async function drain(): Promise<void> {
    for (;;) {
      if (closed) return;
      if (journalPending > 0) {
        // Degraded: the journal holds older ops, so new ones must queue behind them on disk.
        if (probeDue && !closing) {
          probeDue = false;
          const wasDown = storeWasDown;
          if (await replayJournal()) {
            storeWasDown = false;
            if (wasDown) log.info({}, 'outbox: store reachable again');
            continue;
          }
        }
        await spillQueue('store unreachable');
        scheduleProbe();
        return;
      }
      const n = nextGroupSize();
      if (n === 0) return;
      const ops = queue.slice(0, n);
      const gen = generation;
      let attempt = 0;
      for (;;) {
        try {
          await writeOps(store, ops);
          if (gen !== generation) return; // force-journaled meanwhile (close timeout): already settled
          queue.splice(0, n);
          counters.written += n;
          if (isolating > 0) isolating--;
          settle(n);
          break;
        } catch (err) {
          if (gen !== generation) return;
          if (isPermanentStoreError(err)) {
            if (n > 1) {
              isolating = n; // retry the members one by one to find the culprit
            } else {
              queue.splice(0, 1);
              if (isolating > 0) isolating--;
              await reject(ops[0] as OutboxOp, err);
              settle(1);
            }
            break;
          }
          attempt++;
          if (attempt >= maxAttempts || closing) {
            log.warn({ err, attempts: attempt }, 'outbox: store unreachable, journaling');
            await spillQueue(closing ? 'closing' : 'store unreachable');
            scheduleProbe();
            return;
          }
          counters.retries++;
          const delay = backoff(attempt);
          log.warn({ err, attempt, delayMs: Math.round(delay) }, 'outbox write failed, retrying');
          await sleep(delay);
          if (gen !== generation || closed) return;
        }
      }
    }
  }

  function flush(): Promise<void> {
    const target = enqueued;
    if (settled >= target) return Promise.resolve();
    return new Promise<void>((resolve) => {
      waiters.push({ target, resolve });
      kick(0);
    });
  }

  return {
    enqueue(op) {
      try {
        if (closed) {
          // Shutdown is over: keep the op for the next start (rare, and off the audio path by then).
          mkdirSync(dirname(journalPath), { recursive: true });
          appendFileSync(journalPath, JSON.stringify(op) + '\n');
          counters.journaled++;
          log.warn({ op: op.type }, 'outbox: write after close went to the journal');
          return;
        }
        queue.push(op);
        enqueued++;
        // A full batch goes now; otherwise wait a little so others can share the write.
        kick(queue.length >= batchSize ? 0 : flushIntervalMs);
      } catch (err) {
        log.error({ err }, 'outbox enqueue failed');
      }
    },

    async start() {
      if (started) return;
      started = true;
      probeDue = true;
      journalPending = 1; // unknown until read: makes the first drain replay the journal, if any
      await runDrain();
      if (queue.length > 0) kick(0);
    },

    flush,

    async close() {
      if (closed || closing) {
        await flush();
        return;
      }
      closing = true;
      started = true; // close() without start(): still try to write what was enqueued
      if (probeTimer) clearTimeout(probeTimer);
      probeTimer = undefined;
      wakeSleep?.(); // a retry wait ends now; with `closing` set, the next failure journals at once
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        flush().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), closeTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        log.warn({ pending: queue.length }, 'outbox close timed out waiting for the store');
        await spillQueue('close timeout').catch(() => {});
      }
      closed = true;
      if (kickTimer) clearTimeout(kickTimer);
      kickTimer = undefined;
      wakeSleep?.();
      // Release anyone still waiting (their ops are journaled or, if the disk failed, logged).
      settle(0);
      for (const w of waiters.splice(0)) w.resolve();
    },

    stats() {
      return {
        pending: enqueued - settled,
        written: counters.written,
        retries: counters.retries,
        journaled: counters.journaled,
        dropped: counters.dropped,
        journalPending,
        degraded: journalPending > 0,
      };
    },
  };
}
