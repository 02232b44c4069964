/**
 * A read-only view of a claim snapshot: what the dialogue needs to decide the next turn
 * (where we are, the state's meta, which tools are accepted, what is known, what was refused).
 */
import { initialTransition, type SnapshotFrom, type StateValue } from 'xstate';
import type { ClaimContext, ClaimStateMeta, TurnPolicy } from './claim.machine.js';
import { claimMachine } from './claim.machine.js';
import { claimToolEventTypes, type ClaimToolEventType } from './claim.events.js';

/** Snapshot type of the claim machine. */
export type ClaimSnapshot = SnapshotFrom<typeof claimMachine>;

/** The claim's coarse states (its top-level states), as stored in `conversations.state`. */
export const claimPhases = ['initial', 'ongoing', 'done'] as const;

/** The claim's coarse state as stored in `conversations.state`. */
export type ClaimPhase = (typeof claimPhases)[number];

/** Everything the dialogue may know about the claim at a point in time. Serializable. */
export interface ClaimView extends Omit<ClaimStateMeta, 'turnPolicy'> {
  /** Dotted leaf state path, e.g. `ongoing.collectingDate`. An identifier: never compare it in code. */
  path: string;
  phase: ClaimPhase;
  /** The state's turn policy with its keypad mode. */
  turnPolicy: TurnPolicy;
  /** Event types (tools) accepted in this state, in a stable order. */
  acceptedEvents: ClaimToolEventType[];
  context: ClaimContext;
}

/** Meta of a state that has none (never in this machine; keeps the view total). */
const NO_META: ClaimStateMeta = {
  label: '',
  goal: '',
  question: '',
  expects: 'none',
  keypad: null,
  acknowledgement: null,
  why: '',
  stall: '',
  turnPolicy: { interruptible: true, endpointingPatienceMs: 0 },
};

/** Dotted path of the deepest active state of a (serializable) state value. */
export function claimPathOfValue(value: StateValue): string {
  const parts: string[] = [];
  let v: StateValue | undefined = value;
  while (v !== undefined) {
    if (typeof v === 'string') {
      parts.push(v);
      break;
    }
    const key: string | undefined = Object.keys(v)[0];
    if (key === undefined) break;
    parts.push(key);
    v = v[key] as StateValue | undefined;
  }
  return parts.join('.');
}

/** Dotted path of the deepest active state (`initial`, `ongoing.verifying`, ...). */
export function claimPathOf(snapshot: ClaimSnapshot): string {
  const leaf = snapshot._nodes.filter((n) => n.type === 'atomic' || n.type === 'final').at(-1);
  return leaf ? leaf.path.join('.') : claimPathOfValue(snapshot.value);
}

/** The meta of the claim state at a dotted path. */
export function claimMetaOfPath(path: string): ClaimStateMeta {
  let meta = metaByPath.get(path);
  if (meta) return meta;
  try {
    meta = (claimMachine.getStateNodeById(`claim.${path}`).meta as ClaimStateMeta | undefined) ?? NO_META;
  } catch {
    meta = NO_META;
  }
  // The claim machine is a module constant: its meta never changes; only real paths are kept.
  if (meta !== NO_META) metaByPath.set(path, meta);
  return meta;
}
const metaByPath = new Map<string, ClaimStateMeta>();

/** The call machine's turn policy for a state's meta: its policy plus its keypad mode. */
export function turnPolicyOfMeta(meta: ClaimStateMeta): TurnPolicy {
  return { ...meta.turnPolicy, keypad: meta.keypad?.mode ?? 'answer', expects: meta.expects };
}

/**
 * The turn policy of a claim state value. Reads only the value (serializable), so the call machine
 * can sync it from a child snapshot event in a live call and in a replay alike.
 */
export function claimTurnPolicyOf(value: StateValue): TurnPolicy {
  return turnPolicyOfMeta(claimMetaOfPath(claimPathOfValue(value)));
}

/** The turn policy of the claim's first state (the call machine starts with it). */
export const initialClaimTurnPolicy: TurnPolicy = claimTurnPolicyOf(
  initialTransition(claimMachine, { claimId: '', today: '1970-01-01' })[0].value,
);

/** The state value of the claim's final state (the claim's output is its context there). */
export const claimFinalStateValue: string =
  Object.values(claimMachine.root.states).find((n) => n.type === 'final')?.key ?? 'done';

/** The turn policy of the claim's final state (the call machine switches to it when the claim is done). */
export const finalClaimTurnPolicy: TurnPolicy = turnPolicyOfMeta(
  (Object.values(claimMachine.root.states).find((n) => n.type === 'final')?.meta as
    ClaimStateMeta | undefined) ?? NO_META,
);

/** The part of a view that depends only on the state (the claim has no parallel states). */
type StateView = Omit<ClaimView, 'context'>;

/** State views by machine and path: a state's meta and accepted events never change. */
const stateViews = new WeakMap<object, Map<string, StateView>>();

function stateViewOf(snapshot: ClaimSnapshot, path: string): StateView {
  let byPath = stateViews.get(snapshot.machine);
  if (!byPath) stateViews.set(snapshot.machine, (byPath = new Map()));
  let view = byPath.get(path);
  if (view) return view;
  const meta = claimMetaOfPath(path);
  const own = new Set(snapshot._nodes.flatMap((n) => n.ownEvents));
  view = Object.freeze({
    path,
    phase: path.split('.')[0] as ClaimPhase,
    label: meta.label,
    goal: meta.goal,
    question: meta.question,
    expects: meta.expects,
    keypad: meta.keypad,
    acknowledgement: meta.acknowledgement,
    why: meta.why,
    stall: meta.stall,
    turnPolicy: Object.freeze(turnPolicyOfMeta(meta)),
    acceptedEvents: Object.freeze(claimToolEventTypes.filter((t) => own.has(t))) as ClaimToolEventType[],
  });
  byPath.set(path, view);
  return view;
}

/**
 * Builds the dialogue's view of a claim snapshot. The state's part is built once per state and
 * shared (frozen); only the context is the snapshot's own.
 */
export function claimViewOf(snapshot: ClaimSnapshot): ClaimView {
  return { ...stateViewOf(snapshot, claimPathOf(snapshot)), context: snapshot.context };
}
