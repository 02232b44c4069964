/**
 * Compares a replayed claim (the claim actor's final snapshot) with what the call stored: the
 * conversation row's claim columns and the claim output the call machine recorded when the claim
 * child finished (`xstate.done.actor.claim`). Pure; used by replay.
 */
import { claimFinalStateValue } from '../../machines/claim/claim.view.js';
import type { ConversationRow, TransitionRow } from '../store/types.js';

/** The claim columns of a conversation row that replay checks. */
export type StoredClaim = Pick<ConversationRow, 'claim_date' | 'claim_amount' | 'claim_status' | 'state'>;

/** The replayed claim, in the shape of the stored columns. */
export interface ReplayedClaim {
  claim_date: string | null;
  claim_amount: number | null;
  claim_status: string | null;
  /** Top-level state of the claim (its phase), as `conversations.state`. */
  state: string | null;
}

/** A claim field whose replayed value differs from the stored one. */
export interface FieldDivergence {
  field: keyof ReplayedClaim;
  recorded: unknown;
  replayed: unknown;
  /** Where the recorded value comes from: the conversation row or a recorded call step. */
  source: 'conversation' | { actor: 'call'; seq: number; eventType: string };
}

/** The claim's coarse phase: a state value's top-level key. */
export function phaseOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') return Object.keys(value)[0] ?? null;
  return null;
}

/** The stored columns of a replayed claim snapshot (context fields of the claim machine). */
export function replayedClaimOf(snapshot: { value: unknown; context: unknown }): ReplayedClaim {
  const c = (snapshot.context ?? {}) as Record<string, unknown>;
  return {
    claim_date: typeof c.claimDate === 'string' ? c.claimDate : null,
    claim_amount: typeof c.claimAmount === 'number' ? c.claimAmount : null,
    claim_status: typeof c.claimStatus === 'string' ? c.claimStatus : null,
    state: phaseOf(snapshot.value),
  };
}

/** numeric(12,2) comes back as a number or a decimal string: compare in cents. */
function cents(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? Math.round(n * 100) : NaN;
}

function sameField(field: keyof ReplayedClaim, recorded: unknown, replayed: unknown): boolean {
  if (field === 'claim_amount') return Object.is(cents(recorded), cents(replayed));
  return (recorded ?? null) === (replayed ?? null);
}

/** Differences between the stored claim columns and the replayed claim. */
export function compareStoredClaim(stored: StoredClaim, replayed: ReplayedClaim): FieldDivergence[] {
  const fields: (keyof ReplayedClaim)[] = ['claim_date', 'claim_amount', 'claim_status', 'state'];
  return fields
    .filter((f) => !sameField(f, stored[f], replayed[f]))
    .map((f) => ({ field: f, recorded: stored[f], replayed: replayed[f], source: 'conversation' as const }));
}

/**
 * Differences between the claim output recorded in the call's `xstate.done.actor.<claim>` steps and
 * the replayed claim (its fields at the end; the claim is final by then, so they cannot move).
 */
export function compareRecordedOutputs(
  callRows: TransitionRow[],
  replayed: ReplayedClaim,
  claimActorId = 'claim',
): FieldDivergence[] {
  const out: FieldDivergence[] = [];
  for (const row of callRows) {
    if (row.event_type !== `xstate.done.actor.${claimActorId}`) continue;
    const output = (row.event as { output?: unknown }).output;
    if (!output || typeof output !== 'object') continue;
    const recorded = replayedClaimOf({ value: claimFinalStateValue, context: output });
    for (const field of ['claim_date', 'claim_amount', 'claim_status'] as const) {
      if (sameField(field, recorded[field], replayed[field])) continue;
      out.push({
        field,
        recorded: recorded[field],
        replayed: replayed[field],
        source: { actor: 'call', seq: row.seq, eventType: row.event_type },
      });
    }
  }
  return out;
}
