/**
 * A pool of claim numbers reserved in the database ahead of calls, so a call can read its claim
 * number out in the greeting without waiting for the database (the number must be unique, and the
 * conversation insert that would prove it goes through the outbox, in the background).
 *
 * Lifecycle: `createClaimNumberPool()` -> `start()` (fills in the background) -> `take()`... ->
 * `stop()`. `take()` is synchronous and never fails: from the pool when it has numbers (refilled in
 * the background once below half), else -- the database has been unreachable since start -- a
 * locally generated number marked `reserved: false` (logged). Such a number may collide; the
 * outbox then stores the conversation under a suffixed claim id rather than drop it.
 * Reserved numbers still in the pool at `stop()` are simply never used.
 */
import type { ConversationStore } from './types.js';

/** pino-compatible logger subset. */
export interface ClaimNumberPoolLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ClaimNumberPoolOptions {
  store: Pick<ConversationStore, 'reserveClaimNumbers'>;
  /** A fresh random claim number (e.g. CLM-4821-0937). */
  generate: () => string;
  instanceId: string;
  /** Numbers kept reserved (default 16); refilled when fewer than half are left. */
  size?: number;
  logger?: ClaimNumberPoolLogger;
  /** Delay before trying again after a failed refill (default 5 s). */
  retryMs?: number;
  /** Longest `start()` waits for the first fill before resolving anyway (default 1 s). */
  startWaitMs?: number;
}

/** A claim number and whether the database reserved it (false = generated locally, unchecked). */
export interface TakenClaimNumber {
  claimId: string;
  reserved: boolean;
}

export interface ClaimNumberPool {
  /** Starts filling. Resolves after the first fill or `startWaitMs`, whichever is first; never rejects. */
  start(): Promise<void>;
  /** A claim number now (see file header). Synchronous; never throws. */
  take(): TakenClaimNumber;
  /** Reserved numbers ready to hand out. */
  available(): number;
  /** Stops refilling (a refill in flight is discarded). */
  stop(): void;
}

const silent: ClaimNumberPoolLogger = { info() {}, warn() {} };
/** Rounds of candidates per fill before giving up until the next take (collisions are rare). */
const MAX_ROUNDS = 4;

/** Creates a pool (see file header). */
export function createClaimNumberPool(opts: ClaimNumberPoolOptions): ClaimNumberPool {
  const size = Math.max(1, opts.size ?? 16);
  const retryMs = opts.retryMs ?? 5_000;
  const startWaitMs = opts.startWaitMs ?? 1_000;
  const log = opts.logger ?? silent;
  const ready: string[] = [];
  let filling: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;

  async function fillOnce(): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS && ready.length < size && !stopped; round++) {
      const have = new Set(ready);
      const candidates = new Set<string>();
      for (let i = 0; i < (size - ready.length) * 2 && candidates.size < size - ready.length; i++) {
        const c = opts.generate();
        if (!have.has(c)) candidates.add(c);
      }
      const granted = await opts.store.reserveClaimNumbers([...candidates], opts.instanceId);
      if (stopped) return;
      for (const c of granted) if (ready.length < size && !have.has(c)) ready.push(c);
    }
  }

  function refill(): Promise<void> {
    if (stopped || filling || retryTimer) return filling ?? Promise.resolve();
    filling = fillOnce()
      .catch((err: unknown) => {
        if (stopped) return;
        log.warn(
          { err: err instanceof Error ? err.message : String(err), available: ready.length },
          'claim number pool: refill failed, retrying later',
        );
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          void refill();
        }, retryMs);
        // The pool must never keep the process alive on its own.
        retryTimer.unref();
      })
      .finally(() => {
        filling = undefined;
      });
    return filling;
  }

  return {
    async start() {
      if (started) return;
      started = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        refill(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, startWaitMs);
        }),
      ]);
      clearTimeout(timer);
    },

    take() {
      const claimId = ready.shift();
      if (started && ready.length < size / 2) void refill();
      if (claimId !== undefined) return { claimId, reserved: true };
      const local = opts.generate();
      log.warn(
        { claimId: local },
        'claim number pool empty (database unreachable?): using an unreserved number',
      );
      return { claimId: local, reserved: false };
    },

    available: () => ready.length,

    stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
    },
  };
}
