/**
 * Pure-transition steps of the call machine for tests: a snapshot plus the actions (spawned
 * actors, emitted notices, delayed events) the step produced, as data.
 */
import { transition, type SnapshotFrom } from 'xstate';
import { callMachine, type CallEvent } from '../../machines/call/call.machine.js';

/** A call machine snapshot. */
export type CallSnap = SnapshotFrom<typeof callMachine>;

/** An action as data. */
export interface StepAction {
  type: string;
  params?: Record<string, unknown>;
}

/** One step: where the machine is, and what it asked to be done. */
export interface CallStep {
  snap: CallSnap;
  actions: StepAction[];
}

/** Sends `event` to `snap` with xstate's pure `transition`. */
export function step(snap: CallSnap, event: CallEvent | { type: string; [k: string]: unknown }): CallStep {
  const [next, actions] = transition(callMachine, snap, event as CallEvent);
  return { snap: next, actions: actions as unknown as StepAction[] };
}
