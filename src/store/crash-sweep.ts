/**
 * The start-up sweep for calls a crashed process left open: conversations of this instance with
 * no `ended_at`, created before this process started, are closed as `server_crashed` (other
 * instances sharing the database are never touched).
 *
 * It waits until the outbox has replayed any journal the crashed process left (so the rows it
 * wrote last exist and keep their order), and retries on a timer while the database is down;
 * running late is harmless because only rows older than this process are closed.
 */
import type { Outbox } from './outbox.js';
import type { ConversationStore } from './types.js';

/** pino-compatible logger subset. */
export interface CrashSweepLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Options of {@link startCrashSweep}. */
export interface CrashSweepOptions {
  store: Pick<ConversationStore, 'closeCrashedConversations'>;
  outbox: Pick<Outbox, 'stats'>;
  instanceId: string;
  /** When this process started (ISO); only older conversations are closed. */
  startedAt: string;
  logger: CrashSweepLogger;
  /** Delay between attempts while the journal is pending or the database is down (default 5 s). */
  retryMs?: number;
}

/** Runs the sweep in the background until it succeeds once. `stop()` cancels a pending retry. */
export function startCrashSweep(opts: CrashSweepOptions): { done: Promise<number>; stop(): void } {
  const retryMs = opts.retryMs ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let resolveDone!: (closed: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const attempt = async () => {
    timer = undefined;
    if (stopped) return;
    if (opts.outbox.stats().journalPending > 0) return later();
    try {
      const closed = await opts.store.closeCrashedConversations(opts.instanceId, opts.startedAt);
      if (closed > 0)
        opts.logger.warn(
          { closed },
          'closed calls a crashed run of this instance left open (server_crashed)',
        );
      resolveDone(closed);
    } catch (err) {
      opts.logger.warn({ err: (err as Error).message }, 'crashed-call sweep failed; retrying');
      later();
    }
  };
  const later = () => {
    if (stopped) return;
    timer = setTimeout(() => void attempt(), retryMs);
    timer.unref(); // never keeps the process alive on its own
  };

  void attempt();
  return {
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
