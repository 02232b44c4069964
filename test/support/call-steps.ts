/**
 * Pure steps through the call machine for decision tests, the xstate-core way: `transition()`
 * returns the next snapshot and its effects as data (spawned actors, emitted notices, timers).
 */
import { transition, type SnapshotFrom } from 'xstate';
import { callMachine, type CallEvent } from '../../machines/call/call.machine.js';

/** A call machine snapshot. */
export type Snap = SnapshotFrom<typeof callMachine>;

/** One effect of a transition, as data. */
export interface Action {
  type: string;
  params?: Record<string, unknown>;
}

/** A snapshot and the effects of the transition that led to it. */
export interface Step {
  snap: Snap;
  actions: Action[];
}

/** Sends one event (a machine event, or an internal one: timers, actor results). */
export function step(snap: Snap, event: CallEvent | { type: string; [k: string]: unknown }): Step {
  const [next, actions] = transition(callMachine, snap, event as CallEvent);
  return { snap: next, actions: actions as unknown as Action[] };
}
