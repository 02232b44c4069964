/**
 * Store throughput: transitions/s written directly (one awaited call per transition, as a naive
 * engine would) versus through the outbox (enqueue + journal group commit + batched background
 * writes), with the journal's fdatasync on and off (the difference is the durability cost per
 * transition), and a `calls` mix shaped like live calls (conversation inserts, claim updates,
 * transitions, messages, metrics over many conversations: the barrier-heavy load that used to fall
 * behind). On PGlite and, when `BENCH_DATABASE_URL` or `TEST_DATABASE_URL` is set, on PostgreSQL
 * (in a throwaway schema). PGlite runs twice: in its worker thread (the default) and in process
 * (`PGLITE_WORKER=off`); every run reports the main thread's busy time per 1,000 transitions
 * (event-loop utilization: what the audio path loses to the store) and the main event loop's delay
 * p99 during the run.
 *
 *   npx tsx bench/store-throughput.ts            # 20k transitions per run
 *   BENCH_TRANSITIONS=50000 npx tsx bench/store-throughput.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { createOutbox } from '../src/store/outbox.js';
import { createSqlStore, type SqlStoreOptions } from '../src/store/sql-store.js';
import { METRICS_COLUMNS } from '../src/store/rows.js';
import type { ConversationStore, MetricsRow, NewConversation, TransitionRow } from '../src/store/types.js';

/** `outbox-nosync`: the outbox with the journal's fdatasync off (to price it); `calls`: the mixed load. */
export type StoreBenchMode = 'direct' | 'outbox' | 'outbox-nosync' | 'calls';

/** Every mode, in report order. */
export const STORE_BENCH_MODES: readonly StoreBenchMode[] = ['direct', 'outbox', 'outbox-nosync', 'calls'];

/** One measured run. */
export interface StoreBenchResult {
  /** `pglite`: in its worker thread (default); `pglite-inprocess`: PGLITE_WORKER=off. */
  backend: 'pglite' | 'pglite-inprocess' | 'postgres';
  mode: StoreBenchMode;
  transitions: number;
  /** Outbox ops enqueued (calls mix: all op kinds; otherwise one per transition). */
  ops?: number;
  /** Journal group commits (fdatasync) the run needed. */
  syncs?: number;
  ms: number;
  perSecond: number;
  /** Outbox only: mean synchronous cost of `enqueue()` (what the audio path pays), in microseconds. */
  enqueueMicros?: number;
  /**
   * Main thread CPU ms per 1,000 transitions, from first write to drained (Linux: the thread's own
   * utime+stime, 10 ms ticks; elsewhere event-loop utilization's active time, which also counts
   * time the thread was runnable but descheduled).
   */
  mainMsPer1k: number;
  /** Main event loop delay p99 during the run, ms. */
  loopDelayP99Ms: number;
}

export interface StoreBenchOptions {
  /** Transitions per run (default 20 000). */
  transitions?: number;
  /** Conversations they are spread over, round-robin like concurrent calls (default 20). */
  conversations?: number;
  /** PostgreSQL URL; default BENCH_DATABASE_URL or TEST_DATABASE_URL; none = PostgreSQL skipped. */
  databaseUrl?: string | undefined;
  /** Outbox batch size (default 500). */
  batchSize?: number;
}

/** Runs every benchmark and returns the numbers; `skipped` says why a backend was not measured. */
export async function runStoreBench(
  opts: StoreBenchOptions = {},
): Promise<{ results: StoreBenchResult[]; skipped: string[] }> {
  const transitions = opts.transitions ?? 20_000;
  const conversations = opts.conversations ?? 20;
  const batchSize = opts.batchSize ?? 500;
  const databaseUrl = opts.databaseUrl ?? process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const results: StoreBenchResult[] = [];
  const skipped: string[] = [];

  const backends: {
    backend: StoreBenchResult['backend'];
    options: () => SqlStoreOptions;
    cleanup: () => Promise<void>;
  }[] = [
    { backend: 'pglite', options: () => ({ kind: 'pglite' }), cleanup: async () => {} },
    {
      backend: 'pglite-inprocess',
      options: () => ({ kind: 'pglite', worker: false }),
      cleanup: async () => {},
    },
  ];
  let schema: string | undefined;
  if (databaseUrl) {
    schema = `statecall_bench_${randomBytes(4).toString('hex')}`;
    const s = schema;
    backends.push({
      backend: 'postgres',
      options: () => ({ kind: 'postgres', connectionString: databaseUrl, schema: s }),
      cleanup: async () => {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`drop schema if exists "${s}" cascade`);
        await client.end();
      },
    });
  } else {
    skipped.push('postgres: set BENCH_DATABASE_URL or TEST_DATABASE_URL');
  }

  const dir = await mkdtemp(join(tmpdir(), 'statecall-bench-'));
  try {
    for (const { backend, options, cleanup } of backends) {
      try {
        for (const mode of STORE_BENCH_MODES) {
          // A fresh database per run, so the second run does not measure a bigger index.
          const store = createSqlStore(options());
          await store.init();
          try {
            const journal = join(dir, `${backend}-${mode}.jsonl`);
            const { activeMs, ...result } = await mainThreadCost<{
              ms: number;
              perSecond: number;
              transitions?: number;
            }>(async () =>
              mode === 'calls'
                ? await runCalls(store, transitions, journal, batchSize)
                : mode === 'direct'
                  ? await runDirect(store, await seed(store, transitions, conversations))
                  : await runOutbox(
                      store,
                      await seed(store, transitions, conversations),
                      journal,
                      batchSize,
                      mode === 'outbox',
                    ),
            );
            results.push({
              backend,
              mode,
              transitions,
              ...result,
              mainMsPer1k: (activeMs / (result.transitions ?? transitions)) * 1000,
            });
          } finally {
            await store.close();
            await cleanup();
          }
        }
      } catch (err) {
        skipped.push(`${backend}: ${(err as Error).message}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { results, skipped };
}

/** CPU ms the main thread used so far (Linux /proc), or undefined elsewhere. */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the parenthesised name: state is 3rd, utime 14th, stime 15th (clock ticks, 100/s).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` and adds what it cost the main thread: its CPU time (or event-loop utilization's active
 * time where per-thread CPU is not readable) and the loop delay p99. Seeding is inside, but it is
 * the same for every backend.
 */
async function mainThreadCost<T extends { ms: number; transitions?: number }>(
  fn: () => Promise<T>,
): Promise<T & { activeMs: number; loopDelayP99Ms: number }> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const before = performance.eventLoopUtilization();
  const cpuBefore = mainThreadCpuMs();
  const result = await fn();
  const cpuAfter = mainThreadCpuMs();
  const { active } = performance.eventLoopUtilization(before);
  delay.disable();
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : active;
  // No sample at all: the loop never turned during the run (in-process PGlite resolving one
  // statement after another without yielding), so its delay was the whole run.
  const p99 = delay.count === 0 ? result.ms : delay.percentile(99) / 1e6;
  return { ...result, activeMs: cpu, loopDelayP99Ms: p99 };
}

/** A terminal conversation row for the benches. */
function benchConversation(id: string, i: number, createdAt: string): NewConversation {
  return {
    id,
    call_sid: null,
    stream_sid: null,
    from_number: null,
    to_number: null,
    channel: 'terminal',
    claim_id: `BENCH-${id.slice(0, 8)}-${i}`,
    machine_version: 'bench',
    created_at: createdAt,
  };
}

/** Creates the conversations and returns the transitions to write (round-robin over them). */
async function seed(store: ConversationStore, n: number, conversations: number): Promise<TransitionRow[]> {
  const ids = Array.from({ length: conversations }, () => randomUUID());
  for (const [i, id] of ids.entries()) {
    await store.createConversation(benchConversation(id, i, new Date().toISOString()));
  }
  const t0 = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    conversation_id: ids[i % conversations] as string,
    actor: i % 3 === 0 ? 'claim' : 'call',
    seq: Math.floor(i / conversations),
    event_type: 'stt.transcript.final',
    event: { type: 'stt.transcript.final', text: 'my claim was on the fourth of march', confidence: 0.97 },
    state_value: { active: { responding: 'speaking' } },
    created_at: new Date(t0 + i).toISOString(),
  }));
}

/** How many conversations `rows` spreads over (seed() cycles through them). */
function conversationsOf(rows: TransitionRow[]): number {
  return Math.max(1, new Set(rows.slice(0, 1000).map((r) => r.conversation_id)).size);
}

async function runDirect(store: ConversationStore, rows: TransitionRow[]) {
  const start = performance.now();
  for (const row of rows) await store.appendTransitions([row]);
  const ms = performance.now() - start;
  return { ms, perSecond: (rows.length / ms) * 1000 };
}

async function runOutbox(
  store: ConversationStore,
  rows: TransitionRow[],
  journalPath: string,
  batchSize: number,
  fsync: boolean,
) {
  const outbox = createOutbox({ store, journalPath, batchSize, flushIntervalMs: 5, fsync });
  await outbox.start();
  const start = performance.now();
  let enqueueTotal = 0;
  for (const [i, row] of rows.entries()) {
    const t = performance.now();
    outbox.enqueue({ type: 'appendTransitions', rows: [row] });
    enqueueTotal += performance.now() - t;
    // One transition per conversation, then the event loop turns (as with live calls): each turn's
    // transitions form one journal group, so the fsync count is realistic.
    if (i % conversationsOf(rows) === conversationsOf(rows) - 1) await new Promise((r) => setImmediate(r));
  }
  await outbox.flush();
  const ms = performance.now() - start;
  const stats = outbox.stats();
  await outbox.close();
  if (stats.written !== rows.length) throw new Error(`outbox wrote ${stats.written} of ${rows.length} ops`);
  return {
    ms,
    perSecond: (rows.length / ms) * 1000,
    enqueueMicros: (enqueueTotal / rows.length) * 1000,
    ops: rows.length,
    syncs: stats.journalSyncs,
  };
}

/**
 * Live-call-shaped load: 200 calls interleaved turn by turn; each call is an insert, then per turn
 * a claim update, 4 transitions (2 per actor), a message and a metrics upsert. Enqueued in bursts of
 * one turn for every call (as a loaded server produces them), measured until the outbox drained.
 */
async function runCalls(
  store: ConversationStore,
  transitions: number,
  journalPath: string,
  batchSize: number,
) {
  const calls = 200;
  const turns = Math.max(1, Math.round(transitions / calls / 4));
  const ids = Array.from({ length: calls }, () => randomUUID());
  const outbox = createOutbox({ store, journalPath, batchSize, flushIntervalMs: 5 });
  await outbox.start();
  const start = performance.now();
  let ops = 0;
  let enqueueTotal = 0;
  const enqueue = (op: Parameters<typeof outbox.enqueue>[0]) => {
    const t = performance.now();
    outbox.enqueue(op);
    enqueueTotal += performance.now() - t;
    ops++;
  };
  const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms).toISOString();
  for (const [i, id] of ids.entries()) {
    enqueue({ type: 'createConversation', row: benchConversation(id, i, at(0)) });
  }
  for (let turn = 0; turn < turns; turn++) {
    for (const id of ids) {
      enqueue({
        type: 'updateConversation',
        id,
        patch: { state: 'ongoing', claim_amount: turn, updated_at: at(turn) },
      });
      enqueue({
        type: 'appendTransitions',
        rows: [0, 1, 2, 3].map((k) => ({
          conversation_id: id,
          actor: k < 2 ? 'call' : 'claim',
          seq: turn * 2 + (k % 2),
          event_type: 'stt.transcript.final',
          event: { type: 'stt.transcript.final', text: 'my claim was on the fourth of march' },
          state_value: { active: 'listening' },
          created_at: at(turn),
        })),
      });
      enqueue({
        type: 'upsertMessages',
        rows: [
          {
            conversation_id: id,
            seq: turn,
            role: 'user',
            text: 'it was on the fourth of march',
            heard_text: null,
            interrupted: false,
            turn,
            created_at: at(turn),
          },
        ],
      });
      enqueue({
        type: 'upsertMetrics',
        row: { ...emptyMetrics(id), turns: turn + 1, updated_at: at(turn) },
      });
    }
    // Let the loop breathe between turns, as live calls do (and let the journal group commit).
    await new Promise((r) => setImmediate(r));
  }
  await outbox.flush();
  const ms = performance.now() - start;
  const stats = outbox.stats();
  await outbox.close();
  if (stats.written !== ops) throw new Error(`outbox wrote ${stats.written} of ${ops} ops`);
  const n = calls * turns * 4;
  return {
    ms,
    perSecond: (n / ms) * 1000,
    enqueueMicros: (enqueueTotal / ops) * 1000,
    ops,
    syncs: stats.journalSyncs,
    transitions: n,
  };
}

function emptyMetrics(conversationId: string): MetricsRow {
  const row: Record<string, unknown> = { conversation_id: conversationId };
  for (const c of METRICS_COLUMNS) if (!(c in row)) row[c] = null;
  return {
    ...(row as unknown as MetricsRow),
    turns: 0,
    interruptions: 0,
    llm_prompt_tokens: 0,
    llm_completion_tokens: 0,
  };
}

/** Formats results as a small fixed-width table. */
export function formatStoreBench(results: StoreBenchResult[]): string {
  const header = [
    'backend',
    'mode',
    'transitions',
    'ops',
    'ms',
    'transitions/s',
    'enqueue µs',
    'fsyncs',
    'main ms/1k',
    'loop p99 ms',
  ];
  const lines = results.map((r) => [
    r.backend,
    r.mode,
    String(r.transitions),
    String(r.ops ?? r.transitions),
    r.ms.toFixed(0),
    r.perSecond.toFixed(0),
    r.enqueueMicros === undefined ? '-' : r.enqueueMicros.toFixed(2),
    r.syncs === undefined ? '-' : String(r.syncs),
    r.mainMsPer1k.toFixed(1),
    r.loopDelayP99Ms.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const transitions = process.env.BENCH_TRANSITIONS ? Number(process.env.BENCH_TRANSITIONS) : undefined;
  const { results, skipped } = await runStoreBench({ transitions });
  console.log(formatStoreBench(results));
  for (const s of skipped) console.log(`skipped ${s}`);
}
