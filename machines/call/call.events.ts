/**
 * Call-level events the dialogue may send as tools (facts about the call, not about the claim).
 * Like the claim's (`claim.events.ts`), each has exactly one zod schema: the event type, the tool
 * each vendor builds from it, and validation of tool arguments at the edge.
 */
import { z } from 'zod';
import { toolNameOf } from '../claim/claim.events.js';

/** Argument schemas of the call-level tools. */
export const callToolArgSchemas = {
  'caller.goodbye.said': z
    .object({})
    .describe(
      'The caller is leaving the call before the claim is finished (said goodbye, asked to hang up). ' +
        'Call it and say nothing else: the assistant then says goodbye and ends the call.',
    ),
  'caller.transfer.requested': z
    .object({})
    .describe(
      'The caller asks to speak to a person (an agent, a representative, a human, an operator, someone real). ' +
        'Call it and say nothing else: the assistant then connects them, or says why it cannot.',
    ),
} as const;

/** Type of a call-level tool event name. */
export type CallToolEventType = keyof typeof callToolArgSchemas;

/** A call-level tool event as the dialogue's fast path produces it (none has arguments). */
export type CallToolEvent = { type: CallToolEventType };

/** The call-level tool event types, in a stable order. */
export const callToolEventTypes = Object.keys(callToolArgSchemas) as CallToolEventType[];

/** Maps a tool name back to its call-level event type, or null when it is not a call-level tool. */
export function callEventTypeOfTool(toolName: string): CallToolEventType | null {
  return callToolEventTypes.find((t) => toolNameOf(t) === toolName) ?? null;
}
