/**
 * `npm run bench`: runs the benchmarks in sequence and prints a short summary (medians).
 *
 *   npm run bench                    # every bench
 *   npm run bench -- store           # one (or several: `-- store audio`)
 *   npm run bench -- --runs 5        # repetitions per bench (default 3); the summary shows medians
 *   npm run bench -- latency --quick # the latency bench's short run (under two minutes)
 *   npm run bench -- latency --quick --capacity-only   # capacity runs only (with BENCH_CPU_PROF)
 *   BENCH_CAPACITY_RUNS=5 npm run bench -- latency     # interleaved capacity rounds (default 3, quick 1)
 *   BENCH_KEEP_SCHEMA=1 ...          # keep the latency bench's PostgreSQL schema (to read its rows)
 *   npm run bench -- --list          # names and descriptions
 *
 * Store: PGlite always; PostgreSQL when `BENCH_DATABASE_URL`, `TEST_DATABASE_URL` or `DATABASE_URL`
 * is set, or when 127.0.0.1:5432 accepts `postgres://postgres@127.0.0.1:5432/postgres`. Every run
 * works in a schema it creates and drops (see bench/store-throughput.ts), so nothing is left behind.
 * `BENCH_TRANSITIONS` sets the transitions per run (default 20 000).
 *
 * Adding a bench is one line in {@link BENCHES}: `{ name, description, run }`, where `run(ctx)`
 * does `ctx.runs` repetitions (see {@link repeat}) and returns summary lines.
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { describeDatabaseUrl } from '../src/store/create-store.js';
import { runAudioBench, type AudioBenchResult } from './audio-bench.js';
import { runLatencyBench } from './call-latency.js';
import { runRecordingBench } from './recording-cost.js';
import {
  formatStoreBench,
  runStoreBench,
  STORE_BENCH_MODES,
  type StoreBenchResult,
} from './store-throughput.js';

/** What every bench gets. */
export interface BenchContext {
  /** Repetitions to do; report the median. */
  runs: number;
  /** `--quick`: a shorter run (the latency bench: 2 calls per delay setting, capacity at 50 calls). */
  quick: boolean;
  /** `--capacity-only`: the latency bench skips its per-turn tables (profiling the capacity runs). */
  capacityOnly?: boolean;
  /** Progress/detail output (the summary comes from the returned lines). */
  log(line: string): void;
}

/** What a bench returns: short lines for the final summary. */
export interface BenchReport {
  summary: string[];
}

/** One registered bench. */
export interface BenchEntry {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchReport>;
}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `fn` `runs` times in sequence and returns every result. */
export async function repeat<T>(runs: number, fn: (i: number) => Promise<T> | T): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn(i));
  return out;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** "median unit (median of n: min–max)" for a summary line. */
function spread(values: number[], unit: string, digits = 0): string {
  const m = `${fmt(median(values), digits)} ${unit}`;
  if (values.length === 1) return m;
  return `${m} (median of ${values.length}: ${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
}

// ---------------------------------------------------------------------------------------------
// store
// ---------------------------------------------------------------------------------------------

function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The PostgreSQL to measure, or why there is none. */
export async function findPostgres(): Promise<{ url: string } | { skipped: string }> {
  const fromEnv =
    process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
  let url = fromEnv;
  if (!url) {
    if (!(await portOpen('127.0.0.1', 5432))) {
      return { skipped: 'no TEST_DATABASE_URL/DATABASE_URL and nothing answers on 127.0.0.1:5432' };
    }
    url = 'postgres://postgres@127.0.0.1:5432/postgres';
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return { url };
  } catch (err) {
    return { skipped: `cannot connect to ${describeDatabaseUrl(url)}: ${(err as Error).message}` };
  } finally {
    await client.end().catch(() => {});
  }
}

async function storeBench(ctx: BenchContext): Promise<BenchReport> {
  const pgTarget = await findPostgres();
  const databaseUrl = 'url' in pgTarget ? pgTarget.url : undefined;
  ctx.log(
    databaseUrl
      ? `PostgreSQL: ${describeDatabaseUrl(databaseUrl)} (throwaway schema per run)`
      : `PostgreSQL skipped: ${'skipped' in pgTarget ? pgTarget.skipped : ''}`,
  );
  const transitions = process.env.BENCH_TRANSITIONS ? Number(process.env.BENCH_TRANSITIONS) : undefined;
  const all: StoreBenchResult[] = [];
  const skipped = new Set<string>();
  await repeat(ctx.runs, async (i) => {
    ctx.log(`run ${i + 1}/${ctx.runs}`);
    // Only PGlite when no PostgreSQL was found: an empty string stops the env fallback in runStoreBench.
    const r = await runStoreBench({ transitions, databaseUrl: databaseUrl ?? '' });
    ctx.log(formatStoreBench(r.results));
    all.push(...r.results);
    for (const s of r.skipped) if (databaseUrl || !s.startsWith('postgres')) skipped.add(s);
  });
  const summary: string[] = [];
  const backends = [...new Set(all.map((r) => r.backend))];
  for (const backend of backends) {
    for (const mode of STORE_BENCH_MODES) {
      const runs = all.filter((r) => r.backend === backend && r.mode === mode);
      if (runs.length === 0) continue;
      const enqueue = runs.map((r) => r.enqueueMicros).filter((x): x is number => x !== undefined);
      summary.push(
        `${backend.padEnd(16)} ${mode.padEnd(13)} ${spread(
          runs.map((r) => r.perSecond),
          'transitions/s',
        )}` +
          (enqueue.length ? `, enqueue ${fmt(median(enqueue), 2)} µs` : '') +
          `, main thread ${fmt(median(runs.map((r) => r.mainMsPer1k)), 1)} ms/1k transitions` +
          `, loop delay p99 ${fmt(median(runs.map((r) => r.loopDelayP99Ms)), 1)} ms`,
      );
    }
  }
  for (const backend of backends) {
    // The journal's durability price: outbox time with fdatasync minus without, per transition.
    const on = all.filter((r) => r.backend === backend && r.mode === 'outbox');
    const off = all.filter((r) => r.backend === backend && r.mode === 'outbox-nosync');
    if (on.length === 0 || off.length === 0) continue;
    const perTransitionUs =
      ((median(on.map((r) => r.ms)) - median(off.map((r) => r.ms))) * 1000) / (on[0]?.transitions ?? 1);
    const perSync = median(on.map((r) => r.transitions / Math.max(1, r.syncs ?? 1)));
    summary.push(
      `${backend.padEnd(16)} journal fsync cost ≈ ${fmt(perTransitionUs, 2)} µs per transition (${fmt(perSync)} transitions per fsync)`,
    );
  }
  if (!databaseUrl && 'skipped' in pgTarget) summary.push(`postgres skipped: ${pgTarget.skipped}`);
  for (const s of skipped) summary.push(`skipped ${s}`);
  return { summary };
}

// ---------------------------------------------------------------------------------------------
// audio
// ---------------------------------------------------------------------------------------------

const AUDIO_LABELS: Record<keyof AudioBenchResult, string> = {
  decodeFrameNs: 'mu-law decode / 20 ms frame',
  encodeFrameNs: 'mu-law encode / 20 ms frame',
  vadPushFrameNs: 'VAD push / 20 ms frame',
  resample48kTo8kFrameNs: 'resample 48k→8k / 20 ms frame',
  resample8kTo48kFrameNs: 'resample 8k→48k / 20 ms frame',
  trackerChunkAndMarkNs: 'playback tracker chunk + mark',
  trackerHeardTextNs: 'playback tracker heardText',
};

async function audioBench(ctx: BenchContext): Promise<BenchReport> {
  const runs = await repeat(ctx.runs, (i) => {
    ctx.log(`run ${i + 1}/${ctx.runs}`);
    return runAudioBench();
  });
  const med = (k: keyof AudioBenchResult) => median(runs.map((r) => r[k]));
  const summary = (Object.keys(AUDIO_LABELS) as (keyof AudioBenchResult)[]).map(
    (k) =>
      `${AUDIO_LABELS[k].padEnd(32)} ${spread(
        runs.map((r) => r[k]),
        'ns',
      )}`,
  );
  const perCall = med('vadPushFrameNs') + med('trackerChunkAndMarkNs');
  summary.push(
    `phone path per frame (VAD + tracked chunk): ${fmt(perCall)} ns → ~${fmt(20e6 / perCall)} calls per core before I/O, STT, LLM, TTS`,
  );
  return { summary };
}

// ---------------------------------------------------------------------------------------------
// registry and runner
// ---------------------------------------------------------------------------------------------

/** Every bench, in the order `npm run bench` runs them. Add one line per new bench. */
/** Engine vs bare pipeline (bench/call-latency.ts): one run, whatever `--runs` says (it is long). */
async function latencyBench(ctx: BenchContext): Promise<BenchReport> {
  const pgTarget = await findPostgres();
  ctx.log(
    'url' in pgTarget
      ? `engine capacity also on PostgreSQL: ${describeDatabaseUrl(pgTarget.url)} (throwaway schema)`
      : `engine capacity on PGlite only: ${pgTarget.skipped}`,
  );
  const databaseUrl = 'url' in pgTarget ? pgTarget.url : undefined;
  return {
    summary: await runLatencyBench({
      quick: ctx.quick,
      log: ctx.log,
      databaseUrl,
      capacityOnly: ctx.capacityOnly === true,
    }),
  };
}

/** Call recording (bench/recording-cost.ts): CPU and disk per call-minute. */
async function recordingBench(ctx: BenchContext): Promise<BenchReport> {
  const runs = await repeat(ctx.runs, () => runRecordingBench({ minutes: ctx.quick ? 1 : 5 }));
  return {
    summary: [
      `recording CPU per call-minute: ${spread(
        runs.map((r) => r.cpuMsPerCallMinute),
        'ms',
        1,
      )} (${fmt(median(runs.map((r) => r.coreShare)) * 100, 3)} % of a core per live call)`,
      `recording size: ${fmt(median(runs.map((r) => r.bytesPerMinute)) / 1e6, 2)} MB per call-minute (16-bit stereo 8 kHz WAV)`,
    ],
  };
}

export const BENCHES: BenchEntry[] = [
  { name: 'store', description: 'transitions/s to PGlite and PostgreSQL, direct vs outbox', run: storeBench },
  {
    name: 'audio',
    description: 'per-frame audio work (mu-law, VAD, resampling, marks), ns/op',
    run: audioBench,
  },
  {
    name: 'latency',
    description:
      'engine vs bare pipeline: caller stops -> first audio per turn type at two delay settings; CPU, event-loop delay, RSS at 50 and 200 calls',
    run: latencyBench,
  },
  { name: 'recording', description: 'call recording: CPU and bytes per call-minute', run: recordingBench },
];

function parseArgs(argv: string[]): {
  names: string[];
  runs: number;
  list: boolean;
  quick: boolean;
  capacityOnly: boolean;
} {
  const names: string[] = [];
  let runs = Number(process.env.BENCH_RUNS ?? 3);
  let list = false;
  let quick = false;
  let capacityOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--list' || a === '-l') list = true;
    else if (a === '--quick') quick = true;
    else if (a === '--capacity-only') capacityOnly = true;
    else if (a === '--runs') runs = Number(argv[++i]);
    else if (a.startsWith('--runs=')) runs = Number(a.slice('--runs='.length));
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else names.push(a);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs must be a positive integer');
  return { names, runs, list, quick, capacityOnly };
}

class UsageError extends Error {}

function usage(): string {
  return [
    'usage: npm run bench -- [name ...] [--runs N] [--quick] [--capacity-only] [--list]',
    ...BENCHES.map((b) => `  ${b.name.padEnd(10)} ${b.description}`),
  ].join('\n');
}

/** Runs the named benches (all when none) and prints details, then the summary. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage()}`);
    return 2;
  }
  if (args.list) {
    console.log(usage());
    return 0;
  }
  const unknown = args.names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`unknown bench: ${unknown.join(', ')}\n${usage()}`);
    return 2;
  }
  const chosen = args.names.length ? BENCHES.filter((b) => args.names.includes(b.name)) : BENCHES;
  const reports: { name: string; lines: string[]; ms: number; failed?: string }[] = [];
  for (const bench of chosen) {
    console.log(`\n== ${bench.name}: ${bench.description} (${args.runs} run${args.runs > 1 ? 's' : ''})`);
    const t0 = performance.now();
    try {
      const r = await bench.run({
        runs: args.runs,
        quick: args.quick,
        capacityOnly: args.capacityOnly,
        log: (line) => console.log(line),
      });
      reports.push({ name: bench.name, lines: r.summary, ms: performance.now() - t0 });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      console.error(`${bench.name} failed: ${message}`);
      reports.push({ name: bench.name, lines: [], ms: performance.now() - t0, failed: message });
    }
  }
  console.log(`\n== summary (node ${process.version}, ${process.platform}/${process.arch})`);
  for (const r of reports) {
    console.log(`${r.name} (${fmt(r.ms / 1000, 1)} s)${r.failed ? ` FAILED: ${r.failed}` : ''}`);
    for (const line of r.lines) console.log(`  ${line}`);
  }
  return reports.some((r) => r.failed) ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
