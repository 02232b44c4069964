/**
 * Applies dialogue tool calls to the live claim actor and turns the outcome into the tool result
 * the dialogue sees. A rejected value is a result (`{ok:false, error}`), never an exception.
 */
import type { ActorRefFrom } from 'xstate';
import type { claimMachine } from '../../machines/claim/claim.machine.js';
import { parseToolCall, type ClaimToolEvent } from '../../machines/claim/claim.events.js';
import { claimViewOf, type ClaimView } from '../../machines/claim/claim.view.js';
import type { DialogueToolCall } from '../providers/types.js';

/** Outcome of one tool call. `content` is the JSON text handed back to the dialogue. */
export interface ToolOutcome {
  ok: boolean;
  event: ClaimToolEvent | null;
  content: string;
}

/** Wraps the claim actor for the respond loop. */
export class ClaimGateway {
  /**
   * @param ref the claim actor events are applied to.
   * @param onSent called with every event sent to `ref` (a held turn applies events to a copy of
   *   the claim and forwards them to the live claim once the turn is committed).
   */
  constructor(
    private readonly ref: ActorRefFrom<typeof claimMachine>,
    private readonly onSent: (event: ClaimToolEvent) => void = () => {},
  ) {}

  /** The dialogue's view of the current claim state. */
  view(): ClaimView {
    return claimViewOf(this.ref.getSnapshot());
  }

  /** Validates and applies a tool call; reports acceptance, rejection reason or misuse. */
  apply(call: DialogueToolCall): ToolOutcome {
    const parsed = parseToolCall(call.name, call.arguments);
    if (!parsed.ok)
      return { ok: false, event: null, content: JSON.stringify({ ok: false, error: parsed.error }) };
    return this.applyEvent(parsed.event);
  }

  /** Applies an already-typed claim event (DTMF path). */
  applyEvent(event: ClaimToolEvent): ToolOutcome {
    const before = this.ref.getSnapshot();
    const view = claimViewOf(before);
    if (before.status !== 'active' || !view.acceptedEvents.includes(event.type)) {
      return {
        ok: false,
        event,
        content: JSON.stringify({
          ok: false,
          error: `${event.type} is not expected now (state ${view.path})`,
        }),
      };
    }
    this.ref.send(event);
    this.onSent(event);
    const after = this.ref.getSnapshot();
    const rejection = after.context.lastRejection;
    if (rejection && rejection !== before.context.lastRejection) {
      return { ok: false, event, content: JSON.stringify({ ok: false, error: rejection.reason }) };
    }
    const next = claimViewOf(after);
    return {
      ok: true,
      event,
      content: JSON.stringify({ ok: true, state: next.path, next_goal: next.goal }),
    };
  }
}
