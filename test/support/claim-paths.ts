/**
 * Shared by the graph tests: a sample of claim events that exercises every guard branch, a state
 * serializer that keeps the graph finite, and the caller utterance that produces each event through
 * the local dialogue (so graph paths can be driven through the whole engine).
 */
import { getShortestPaths } from 'xstate/graph';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import type { ClaimEvent } from '../../machines/claim/claim.events.js';
import type { ClaimSnapshot } from '../../machines/claim/claim.view.js';

export const TODAY = '2026-11-24';
export const claimInput = { claimId: 'CLM-1000-0006', today: TODAY, maxAmount: 50_000 };

/** One event per guard branch (valid and invalid values). */
export const sampleEvents: ClaimEvent[] = [
  { type: 'claim.number.acknowledged' },
  { type: 'claim.number.repeat_requested' },
  { type: 'claim.date.provided', date: '2026-03-03' },
  { type: 'claim.date.provided', date: '2027-01-01' },
  { type: 'claim.amount.provided', amount: 1250.5 },
  { type: 'claim.amount.provided', amount: -5 },
  { type: 'claim.details.confirmed' },
  { type: 'claim.field.corrected', field: 'amount', value: '900' },
  { type: 'claim.field.change_requested', field: 'date' },
  { type: 'claim.field.change_requested', field: 'amount' },
];

/** State identity for traversal: the state value plus which fields are known (not counters). */
export function serializeClaimState(s: ClaimSnapshot): string {
  return JSON.stringify([s.value, s.context.claimDate !== null, s.context.claimAmount !== null]);
}

/** Shortest paths from the initial state to every reachable state. */
export function claimShortestPaths() {
  return getShortestPaths(claimMachine, {
    events: sampleEvents,
    input: claimInput,
    serializeState: (s) => serializeClaimState(s as ClaimSnapshot),
  });
}

/** What a caller says to produce an event through the local dialogue. */
export function utteranceFor(e: ClaimEvent): string {
  switch (e.type) {
    case 'claim.number.acknowledged':
      return 'okay, got it';
    case 'claim.number.repeat_requested':
      return 'sorry, can you repeat that?';
    case 'claim.date.provided':
      return e.date === '2026-03-03' ? 'it happened on March 3rd, 2026' : 'January 1st, 2027';
    case 'claim.amount.provided':
      return e.amount === 1250.5 ? 'twelve hundred fifty dollars and fifty cents' : 'minus five dollars';
    case 'claim.details.confirmed':
      return "yes, that's correct";
    case 'claim.field.corrected':
      return 'no, the amount is 900 dollars';
    case 'claim.field.change_requested':
      return e.field === 'date' ? 'the date is wrong' : 'the amount';
  }
}
