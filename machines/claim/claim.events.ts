/**
 * The claim machine's events. Each one has exactly one zod schema, which gives:
 * - the TypeScript type of the event (`ClaimEvent`),
 * - the dialogue's tool (name + arguments) offered in states that accept it (each vendor builds its
 *   own tool format from the schema, e.g. `src/providers/openai/openai-tools.ts`),
 * - validation of tool-call arguments at the edge (an LLM's JSON is untrusted input).
 *
 * Event names are facts in past tense; the tool name is the event type with dots replaced by
 * underscores (OpenAI tool names allow only `[a-zA-Z0-9_-]`).
 */
import { z } from 'zod';

/** A calendar date as the LLM and the dialogue must send it. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'date must be YYYY-MM-DD')
  .describe('The date of the incident, as YYYY-MM-DD');

/** Argument schemas of the events the dialogue (LLM tools, local policy, DTMF) may send. */
export const claimToolArgSchemas = {
  'claim.number.acknowledged': z
    .object({})
    .describe('The caller has noted or acknowledged their claim number and is ready to continue.'),
  'claim.number.repeat_requested': z.object({}).describe('The caller asked to hear the claim number again.'),
  'claim.date.provided': z
    .object({ date: isoDate })
    .describe('The caller said the date the incident happened.'),
  'claim.amount.provided': z
    .object({
      amount: z.number().describe('The claimed amount in US dollars, e.g. 1250.5'),
    })
    .describe('The caller said the amount they are claiming.'),
  'claim.details.confirmed': z
    .object({})
    .describe('The caller confirmed that the claim details read back to them are all correct.'),
  'claim.field.corrected': z
    .object({
      field: z.enum(['date', 'amount']).describe('Which detail the caller corrected'),
      value: z.string().describe('The new value: YYYY-MM-DD for a date, a decimal number for an amount'),
    })
    .describe('The caller corrected one of the claim details.'),
  'claim.field.change_requested': z
    .object({
      field: z.enum(['date', 'amount']).describe('Which detail the caller wants to change'),
    })
    .describe(
      'At the read-back, the caller wants to change one detail but has not said the new value yet ("the amount").',
    ),
} as const;

/** Type of a dialogue-originated claim event name. */
export type ClaimToolEventType = keyof typeof claimToolArgSchemas;

/** All dialogue-originated events, typed from their schemas. */
export type ClaimToolEvent = {
  [K in ClaimToolEventType]: { type: K } & ArgsOf<K>;
}[ClaimToolEventType];

/** Arguments of an event; an argument-less event is just `{type}`. */
type ArgsOf<K extends ClaimToolEventType> =
  z.infer<(typeof claimToolArgSchemas)[K]> extends Record<string, never>
    ? unknown
    : z.infer<(typeof claimToolArgSchemas)[K]>;

/** Every event the claim machine accepts. */
export type ClaimEvent = ClaimToolEvent;

/** The list of tool event types, in a stable order. */
export const claimToolEventTypes = Object.keys(claimToolArgSchemas) as ClaimToolEventType[];

/** Claim events without arguments (the ones a lone keypad digit can send). */
export type ArglessClaimEventType = {
  [K in ClaimToolEventType]: z.infer<(typeof claimToolArgSchemas)[K]> extends Record<string, never>
    ? K
    : never;
}[ClaimToolEventType];

/** Maps an event type to its tool name (`claim.date.provided` -> `claim_date_provided`). */
export function toolNameOf(eventType: string): string {
  return eventType.replaceAll('.', '_');
}

/** Maps a tool name back to its event type, or null for an unknown tool. */
export function eventTypeOfTool(toolName: string): ClaimToolEventType | null {
  return claimToolEventTypes.find((t) => toolNameOf(t) === toolName) ?? null;
}

/**
 * Validates a tool call (name + raw JSON arguments) into a claim event.
 * Never throws: bad input becomes `{ok:false, error}` which the dialogue sees as the tool result.
 */
export function parseToolCall(
  toolName: string,
  rawArguments: string | Record<string, unknown>,
): { ok: true; event: ClaimToolEvent } | { ok: false; error: string } {
  const type = eventTypeOfTool(toolName);
  if (!type) return { ok: false, error: `unknown tool ${toolName}` };
  let args: unknown = rawArguments;
  if (typeof rawArguments === 'string') {
    try {
      args = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
    } catch {
      return { ok: false, error: 'arguments are not valid JSON' };
    }
  }
  const parsed = claimToolArgSchemas[type].safeParse(args);
  if (!parsed.success) {
    return {
      ok: false,
      error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    };
  }
  return { ok: true, event: { type, ...parsed.data } as ClaimToolEvent };
}
