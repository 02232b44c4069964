/**
 * A read-only view of a claim snapshot: what the dialogue needs to decide the next turn
 * (where we are, the goal there, which tools are accepted, what is known, what was refused).
 */
import type { SnapshotFrom } from 'xstate';
import type { ClaimContext, ClaimStateMeta, TurnPolicy } from './claim.machine.js';
import { claimMachine } from './claim.machine.js';
import { claimToolEventTypes, type ClaimToolEventType } from './claim.events.js';

/** Snapshot type of the claim machine. */
export type ClaimSnapshot = SnapshotFrom<typeof claimMachine>;

/** The claim's coarse state as stored in `conversations.state`. */
export type ClaimPhase = 'initial' | 'ongoing' | 'done';

/** Everything the dialogue may know about the claim at a point in time. Serializable. */
export interface ClaimView {
  /** Dotted leaf state path, e.g. `ongoing.collectingDate`. */
  path: string;
  phase: ClaimPhase;
  goal: string;
  turnPolicy: TurnPolicy;
  /** Event types (tools) accepted in this state, in a stable order. */
  acceptedEvents: ClaimToolEventType[];
  context: ClaimContext;
}

/** Dotted path of the deepest active state (`initial`, `ongoing.verifying`, ...). */
export function claimPathOf(snapshot: ClaimSnapshot): string {
  const leaf = snapshot._nodes.filter((n) => n.type === 'atomic' || n.type === 'final').at(-1);
  return leaf ? leaf.path.join('.') : String(snapshot.value);
}

/** Builds the dialogue's view of a claim snapshot. */
export function claimViewOf(snapshot: ClaimSnapshot): ClaimView {
  const path = claimPathOf(snapshot);
  const phase = path.split('.')[0] as ClaimPhase;
  const metas = snapshot.getMeta() as Record<string, ClaimStateMeta | undefined>;
  const meta = metas[`claim.${path}`] ?? {
    goal: '',
    turnPolicy: { interruptible: true, endpointingPatienceMs: 0 },
  };
  const own = new Set(snapshot._nodes.flatMap((n) => n.ownEvents));
  return {
    path,
    phase,
    goal: meta.goal,
    turnPolicy: meta.turnPolicy,
    acceptedEvents: claimToolEventTypes.filter((t) => own.has(t)),
    context: snapshot.context,
  };
}
