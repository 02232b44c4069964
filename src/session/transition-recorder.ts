/**
 * Turns XState inspection events into the replay log: one `conversation_transitions` row per
 * processed event of the call machine and of its claim child, with a sanitized payload.
 * It also reports claim snapshots so their fields are persisted the moment they are accepted.
 */
import type { InspectionEvent } from 'xstate';
import type { TransitionRow } from '../store/types.js';
import { sanitizeEvent } from '../inspect/sanitize.js';

/** Which of our actors an inspection event is about. */
export type RecordedActor = 'call' | 'claim';

/** Receives recorded rows and snapshots. */
export interface TransitionSink {
  transition(row: TransitionRow): void;
  claimSnapshot?(snapshot: unknown): void;
  callSnapshot?(snapshot: unknown): void;
}

/**
 * What is kept of an event. A child's snapshot event (`xstate.snapshot.claim`, from `onSnapshot`)
 * keeps only the child's state value: that is all the call machine reads from it, and the child's
 * own rows already hold its context.
 */
function recordedEvent(event: { type: string; snapshot?: unknown }): unknown {
  if (!event.type.startsWith('xstate.snapshot.')) return event;
  const snap = event.snapshot as { value?: unknown } | undefined;
  return { type: event.type, snapshot: { value: snap?.value ?? null } };
}

/** Creates an `inspect` callback for `createActor(callMachine, { inspect })`. */
export function createTransitionRecorder(
  conversationId: string,
  sink: TransitionSink,
  now = () => new Date(),
) {
  const seq: Record<RecordedActor, number> = { call: 0, claim: 0 };
  return (ev: InspectionEvent): void => {
    if (ev.type !== '@xstate.snapshot') return;
    const ref = ev.actorRef as unknown as { sessionId: string; id: string };
    const actor: RecordedActor | null =
      ref.sessionId === ev.rootId ? 'call' : ref.id === 'claim' ? 'claim' : null;
    if (!actor) return;
    const snapshot = ev.snapshot as { value?: unknown; status?: string };
    const event = ev.event as { type: string };
    sink.transition({
      conversation_id: conversationId,
      actor,
      seq: seq[actor]++,
      event_type: event.type,
      event: sanitizeEvent(recordedEvent(event)),
      state_value: snapshot.value ?? null,
      created_at: now().toISOString(),
    });
    if (actor === 'claim') sink.claimSnapshot?.(ev.snapshot);
    else sink.callSnapshot?.(ev.snapshot);
  };
}
