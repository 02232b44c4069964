/**
 * The load: `calls` simulated callers, started evenly over `rampMs`; each places one call, or,
 * with `durationMs`, calls again as soon as its call ends until the duration is over (so about
 * `calls` calls are in progress for the whole duration). Calls in progress when the duration ends
 * finish normally; `signal` (Ctrl-C) ends them at once as `aborted`. A caller whose call failed
 * waits a second before it redials.
 */
import { placeCall, type CallOutcome, type PlaceCallOptions } from './place-call.js';

/** Progress counters, for the progress bar. */
export interface LoadProgress {
  placed: number;
  active: number;
  completed: number;
  failed: number;
  elapsedMs: number;
}

/** Options of {@link runLoad}. */
export interface RunLoadOptions extends Omit<PlaceCallOptions, 'signal'> {
  calls: number;
  rampMs: number;
  /** Keep placing calls for this long; undefined = one call per caller. */
  durationMs?: number | undefined;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
}

/** What the run produced. */
export interface LoadResult {
  outcomes: CallOutcome[];
  startedAt: Date;
  elapsedMs: number;
}

/** Pause of a caller before it redials after a failed call (with `durationMs`). */
const REDIAL_AFTER_FAILURE_MS = 1_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Runs the load (see file header). */
export async function runLoad(opts: RunLoadOptions): Promise<LoadResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const outcomes: CallOutcome[] = [];
  const progress: LoadProgress = { placed: 0, active: 0, completed: 0, failed: 0, elapsedMs: 0 };
  const report = () => {
    progress.elapsedMs = performance.now() - t0;
    opts.onProgress?.({ ...progress });
  };
  const ticker = opts.onProgress ? setInterval(report, 250) : undefined;
  const keepGoing = () =>
    !opts.signal?.aborted && opts.durationMs !== undefined && performance.now() - t0 < opts.durationMs;

  const caller = async (index: number) => {
    await sleep(opts.calls > 1 ? (opts.rampMs * index) / opts.calls : 0, opts.signal);
    do {
      if (opts.signal?.aborted) return;
      progress.placed++;
      progress.active++;
      report();
      const outcome = await placeCall({ ...opts, ...(opts.signal ? { signal: opts.signal } : {}) });
      progress.active--;
      if (outcome.status === 'completed') progress.completed++;
      else if (outcome.status === 'failed') progress.failed++;
      outcomes.push(outcome);
      report();
      // A call refused at once must not become a tight redial loop against the deployment.
      if (outcome.status === 'failed' && keepGoing()) await sleep(REDIAL_AFTER_FAILURE_MS, opts.signal);
    } while (keepGoing());
  };
  try {
    await Promise.all(Array.from({ length: opts.calls }, (_, i) => caller(i)));
  } finally {
    if (ticker) clearInterval(ticker);
  }
  report();
  return { outcomes, startedAt, elapsedMs: performance.now() - t0 };
}
