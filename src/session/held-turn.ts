/**
 * The pieces that let a bot turn run "held" (preemptive generation): prepared while the call
 * machine's endpointing patience runs, with every effect it would have on the call kept back until
 * the turn is committed, and dropped if it is discarded.
 *
 * - {@link TurnEffects}: side effects (notices, transcript lines, claim events, machine events) run
 *   at once on a live turn; a held turn queues them, `commit()` runs them in order, `drop()` forgets them.
 * - {@link forkClaim}: a private copy of the claim actor from its persisted snapshot, so the held
 *   turn sees the claim its events would produce while the live claim (and its recorded
 *   transitions) sees them only once, at commit; `unchanged()` tells whether the live claim moved
 *   since the fork (then the held turn is stale).
 *
 * Pure bookkeeping: no I/O, no timers.
 */
import { createActor, type ActorRefFrom } from 'xstate';
import { claimMachine } from '../../machines/claim/claim.machine.js';

/** Side effects of one turn: immediate when live, queued while held (see file header). */
export class TurnEffects {
  private queue: (() => void)[] | null;
  private dropped = false;

  /** @param held queue effects until {@link commit}. */
  constructor(held: boolean) {
    this.queue = held ? [] : null;
  }

  /** True until the turn is committed (or dropped). */
  get held(): boolean {
    return this.queue !== null && !this.dropped;
  }

  /** Runs `effect` now on a live turn; queues it on a held one; ignores it on a dropped one. */
  run(effect: () => void): void {
    if (this.dropped) return;
    if (this.queue) this.queue.push(effect);
    else effect();
  }

  /** Runs the queued effects in order; later ones run at once. Idempotent. */
  commit(): void {
    if (this.dropped || !this.queue) return;
    const queued = this.queue;
    this.queue = null;
    for (const effect of queued) effect();
  }

  /** Forgets the queued effects and every later one (the turn was discarded). */
  drop(): void {
    this.dropped = true;
    this.queue = [];
  }
}

type ClaimRef = ActorRefFrom<typeof claimMachine>;

/** A private copy of a claim actor (see {@link forkClaim}). */
export interface ClaimFork {
  /** The copy: apply the held turn's events here. */
  readonly ref: ClaimRef;
  /** The live claim is still where the copy started (nothing else changed it meanwhile). */
  unchanged(): boolean;
  /** Stops the copy. Idempotent. */
  stop(): void;
}

const persisted = (ref: ClaimRef) => JSON.stringify(ref.getPersistedSnapshot());

/**
 * Copies the live claim actor from its persisted snapshot. The claim machine has no invoke and no
 * delays, so the copy behaves exactly as the original would for the same events.
 */
export function forkClaim(live: ClaimRef): ClaimFork {
  const at = persisted(live);
  const { claimId, today, maxAmount } = live.getSnapshot().context;
  // The input is what the live claim started with; the snapshot restores everything anyway.
  const ref = createActor(claimMachine, {
    snapshot: live.getPersistedSnapshot(),
    input: { claimId, today, maxAmount },
  }).start();
  return {
    ref,
    unchanged: () => persisted(live) === at,
    stop: () => ref.stop(),
  };
}
