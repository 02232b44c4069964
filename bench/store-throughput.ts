/**
 * Store throughput: transitions/s written directly (one awaited call per transition, as a naive
 * engine would) versus through the outbox (enqueue + batched background writes), on PGlite and,
 * when `BENCH_DATABASE_URL` or `TEST_DATABASE_URL` is set, on PostgreSQL (in a throwaway schema).
 *
 *   npx tsx bench/store-throughput.ts            # 20k transitions per run
 *   BENCH_TRANSITIONS=50000 npx tsx bench/store-throughput.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { createOutbox } from '../src/store/outbox.js';
import { createSqlStore, type SqlStoreOptions } from '../src/store/sql-store.js';
import type { ConversationStore, TransitionRow } from '../src/store/types.js';

/** One measured run. */
export interface StoreBenchResult {
  backend: 'pglite' | 'postgres';
  mode: 'direct' | 'outbox';
  transitions: number;
  ms: number;
  perSecond: number;
  /** Outbox only: mean synchronous cost of `enqueue()` (what the audio path pays), in microseconds. */
  enqueueMicros?: number;
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
  }[] = [{ backend: 'pglite', options: () => ({ kind: 'pglite' }), cleanup: async () => {} }];
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
        for (const mode of ['direct', 'outbox'] as const) {
          // A fresh database per run, so the second run does not measure a bigger index.
          const store = createSqlStore(options());
          await store.init();
          try {
            const rows = await seed(store, transitions, conversations);
            const result =
              mode === 'direct'
                ? await runDirect(store, rows)
                : await runOutbox(store, rows, join(dir, `${backend}.jsonl`), batchSize);
            results.push({ backend, mode, transitions, ...result });
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

/** Creates the conversations and returns the transitions to write (round-robin over them). */
async function seed(store: ConversationStore, n: number, conversations: number): Promise<TransitionRow[]> {
  const ids = Array.from({ length: conversations }, () => randomUUID());
  for (const [i, id] of ids.entries()) {
    await store.createConversation({
      id,
      call_sid: null,
      stream_sid: null,
      from_number: null,
      to_number: null,
      channel: 'terminal',
      claim_id: `BENCH-${id.slice(0, 8)}-${i}`,
      machine_version: 'bench',
      created_at: new Date().toISOString(),
    });
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
) {
  const outbox = createOutbox({ store, journalPath, batchSize, flushIntervalMs: 5 });
  await outbox.start();
  const start = performance.now();
  let enqueueTotal = 0;
  for (const row of rows) {
    const t = performance.now();
    outbox.enqueue({ type: 'appendTransitions', rows: [row] });
    enqueueTotal += performance.now() - t;
  }
  await outbox.flush();
  const ms = performance.now() - start;
  const stats = outbox.stats();
  await outbox.close();
  if (stats.written !== rows.length) throw new Error(`outbox wrote ${stats.written} of ${rows.length} ops`);
  return { ms, perSecond: (rows.length / ms) * 1000, enqueueMicros: (enqueueTotal / rows.length) * 1000 };
}

/** Formats results as a small fixed-width table. */
export function formatStoreBench(results: StoreBenchResult[]): string {
  const header = ['backend', 'mode', 'transitions', 'ms', 'transitions/s', 'enqueue µs'];
  const lines = results.map((r) => [
    r.backend,
    r.mode,
    String(r.transitions),
    r.ms.toFixed(0),
    r.perSecond.toFixed(0),
    r.enqueueMicros === undefined ? '-' : r.enqueueMicros.toFixed(2),
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
