/**
 * Publishes a tracker's state to a shared backend, off the audio path: a change schedules one
 * write within `coalesceMs` (a burst of state changes is one write), and every heartbeat writes the
 * state again (which is what keeps the instance in the view). Writes never overlap: a change during
 * a write is written right after it. A failed write is logged once per outage and retried by the
 * next change or heartbeat; nothing here throws or waits on the caller's side.
 */
import type { Logger } from 'pino';
import type { LiveCallTracker } from './tracker.js';
import type { InstanceState } from './types.js';

/** Options of {@link startLivePublisher}. */
export interface LivePublisherOptions {
  tracker: LiveCallTracker;
  /** Writes the whole state of this instance (an upsert of its heartbeat row). */
  write(state: InstanceState): Promise<void>;
  heartbeatMs: number;
  /** Longest delay between a change and its write. Default 200 ms. */
  coalesceMs?: number;
  /** Called after each heartbeat's write (the feed refreshes its readers then). */
  onHeartbeat?: () => void;
  logger: Logger;
}

/** A running publisher. */
export interface LivePublisher {
  /** Writes now (start-up, drain). Resolves when written or failed. */
  flush(): Promise<void>;
  /** Stops the timers and waits for the write in flight. */
  stop(): Promise<void>;
}

/** Starts publishing (see file header); the first write is at once. */
export function startLivePublisher(opts: LivePublisherOptions): LivePublisher {
  const coalesceMs = opts.coalesceMs ?? 200;
  let pending: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let failing = false;
  let stopped = false;

  const writeOnce = async (): Promise<void> => {
    try {
      await opts.write(opts.tracker.state());
      if (failing) opts.logger.info('live calls: publishing again');
      failing = false;
    } catch (err) {
      if (!failing)
        opts.logger.warn(
          { err: String((err as Error)?.message ?? err).slice(0, 200) },
          'live calls: could not publish this instance (retrying on the next heartbeat)',
        );
      failing = true;
    }
  };
  const flush = (): Promise<void> => {
    if (pending) clearTimeout(pending);
    pending = undefined;
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        again = false;
        await writeOnce();
      } while (again && !stopped);
    })().finally(() => (inFlight = null));
    return inFlight;
  };
  const unsubscribe = opts.tracker.onChange(() => {
    if (stopped || pending) return;
    pending = setTimeout(() => void flush(), coalesceMs);
    pending.unref();
  });
  const heartbeat = setInterval(() => {
    void flush().then(() => opts.onHeartbeat?.());
  }, opts.heartbeatMs);
  heartbeat.unref();
  void flush();

  return {
    flush,
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(heartbeat);
      if (pending) clearTimeout(pending);
      pending = undefined;
      await inFlight;
    },
  };
}
