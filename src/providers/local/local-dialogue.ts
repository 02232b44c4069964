/**
 * The local dialogue: a deterministic policy driven by the claim machine's state. No key, no network.
 * It is the zero-config default, the CI workhorse and the fallback when the LLM fails.
 *
 * It follows the same two-step protocol as an LLM with tools: on a caller turn it emits tool calls
 * (claim events) for what it understood; once the engine has applied them and appended the tool
 * results, it is asked again and speaks for the claim's new state (or explains a rejection).
 */
import { claimNumberForSpeech } from '../../../machines/claim-number.js';
import { toolNameOf, type ClaimToolEvent } from '../../../machines/claim.events.js';
import type { ClaimView } from '../../../machines/claim.view.js';
import type { DialogueChunk, DialogueMessage, DialogueProvider, DialogueRequest } from '../types.js';
import { amountForSpeech, dateForSpeech } from './speech-format.js';
import { understandUtterance, type Understanding } from './understand.js';

/** Keypad hint offered after repeated misunderstandings, per claim state. */
const KEYPAD_HINTS: Record<string, string> = {
  initial: 'You can also press 1 when you have it, or 2 to hear it again.',
  'ongoing.collectingDate':
    'You can also type the date on your keypad as two digits for the month, two for the day and four for the year, then press pound.',
  'ongoing.collectingAmount':
    'You can also type the amount on your keypad, using star for the decimal point, then press pound.',
  'ongoing.verifying': 'You can also press 1 if everything is correct.',
};

/** The question that moves each state forward. */
export function questionFor(claim: ClaimView): string {
  const c = claim.context;
  switch (claim.path) {
    case 'initial':
      return `Your claim number is ${claimNumberForSpeech(c.claimId)}. Please note it down, and say "got it" when you're ready, or "repeat" to hear it again.`;
    case 'ongoing.collectingDate':
      return 'On what date did the incident happen?';
    case 'ongoing.collectingAmount':
      return 'How much are you claiming, in dollars?';
    case 'ongoing.verifying':
      return `Let me read that back. The incident happened on ${dateForSpeech(c.claimDate ?? '')}, and you are claiming ${amountForSpeech(c.claimAmount ?? 0)}. Is that correct?`;
    case 'done':
      return `Your claim, number ${claimNumberForSpeech(c.claimId)}, is now filed with status Pending. An adjuster will be in touch within two business days. Thank you for calling, goodbye!`;
    default:
      return 'How can I help with your claim?';
  }
}

/** Maps what was understood to the claim events the current state can take. */
export function eventsFor(claim: ClaimView, u: Understanding): ClaimToolEvent[] {
  const accepts = (t: ClaimToolEvent['type']) => claim.acceptedEvents.includes(t);
  const out: ClaimToolEvent[] = [];
  if (claim.path === 'initial') {
    if (u.repeat || (u.no && !u.yes)) return [{ type: 'claim.number.repeat_requested' }];
    if (u.yes || u.date || u.amount !== null) out.push({ type: 'claim.number.acknowledged' });
    // The caller may jump ahead ("got it, it happened yesterday"): pass those along too.
    if (u.date) out.push({ type: 'claim.date.provided', date: u.date });
    if (u.amount !== null) out.push({ type: 'claim.amount.provided', amount: u.amount });
    return out;
  }
  if (u.correction && accepts('claim.field.corrected')) {
    return [{ type: 'claim.field.corrected', field: u.correction.field, value: u.correction.value }];
  }
  if (u.date && accepts('claim.date.provided')) out.push({ type: 'claim.date.provided', date: u.date });
  if (u.amount !== null && accepts('claim.amount.provided')) {
    out.push({ type: 'claim.amount.provided', amount: u.amount });
  }
  if (out.length === 0 && u.yes && !u.no && accepts('claim.details.confirmed')) {
    out.push({ type: 'claim.details.confirmed' });
  }
  return out;
}

function lastUserText(history: readonly DialogueMessage[]): string {
  for (let i = history.length - 1; i >= 0; i--) {
    const m = history[i];
    if (m?.role === 'user') return m.content;
  }
  return '';
}

/** Tool results appended since the last assistant tool-call message. */
function trailingToolResults(history: readonly DialogueMessage[]): { ok: boolean; error?: string }[] {
  const out: { ok: boolean; error?: string }[] = [];
  for (let i = history.length - 1; i >= 0 && history[i]?.role === 'tool'; i--) {
    const m = history[i] as Extract<DialogueMessage, { role: 'tool' }>;
    try {
      out.unshift(JSON.parse(m.content) as { ok: boolean; error?: string });
    } catch {
      out.unshift({ ok: false, error: 'unreadable result' });
    }
  }
  return out;
}

/** Composes what the bot says for a request that calls for speech (not for tool calls). */
export function speechFor(req: DialogueRequest, today: string): string {
  const { claim, reason, history, callInfo } = req;
  const results = trailingToolResults(history);
  const question = questionFor(claim);
  const hint = req.misunderstandings >= 2 ? ` ${KEYPAD_HINTS[claim.path] ?? ''}`.trimEnd() : '';
  if (reason === 'greeting') {
    const caller = callInfo.fromMasked
      ? ` I see you're calling from the number ending in ${callInfo.fromMasked.replace('…', '')}.`
      : '';
    return `Hello, and thank you for calling ${callInfo.companyName} claims.${caller} I've opened a new claim for you. ${question}`;
  }
  if (reason === 'goodbye') {
    return `I haven't heard from you, so I'll end the call now. Your claim number is ${claimNumberForSpeech(claim.context.claimId)}; you can call back any time to finish it. Goodbye!`;
  }
  if (reason === 'reprompt') return `Are you still there? ${question}${hint}`;
  if (reason === 'recover') return `Sorry about that. ${question}`;
  if (reason === 'unheard') return `Sorry, I didn't catch that. ${question}${hint}`;
  const failed = results.find((r) => !r.ok);
  if (failed) return `Sorry, ${failed.error ?? 'I could not use that'}. ${question}${hint}`;
  if (results.length > 0) {
    if (claim.path === 'ongoing.collectingDate') return `Thank you. ${question}`;
    if (claim.path === 'ongoing.collectingAmount' && claim.context.claimDate) {
      return `Got it, ${dateForSpeech(claim.context.claimDate)}. ${question}`;
    }
    if (claim.path === 'initial') return `Of course. ${question}`;
    return question;
  }
  // A caller turn that produced nothing the claim could take.
  const u = understandUtterance(lastUserText(history), { today });
  if (u.repeat) return question;
  if (claim.path === 'ongoing.verifying' && u.no) {
    return 'No problem. Which would you like to change, the date or the amount?';
  }
  return `Sorry, I didn't catch that. ${question}${hint}`;
}

let toolCallCounter = 0;

/** Creates the local dialogue provider. `today()` gives the reference date for relative dates. */
export function createLocalDialogue(
  opts: { today: () => string } = { today: () => new Date().toISOString().slice(0, 10) },
): DialogueProvider {
  return {
    name: 'local',
    async *respond(req: DialogueRequest): AsyncGenerator<DialogueChunk> {
      const last = req.history.at(-1);
      if (req.reason === 'user' && last?.role === 'user') {
        const events = eventsFor(req.claim, understandUtterance(last.content, { today: opts.today() }));
        if (events.length > 0) {
          for (const e of events) {
            const { type, ...args } = e;
            toolCallCounter += 1;
            yield {
              type: 'tool_call',
              call: {
                id: `local_${toolCallCounter}`,
                name: toolNameOf(type),
                arguments: JSON.stringify(args),
              },
            };
          }
          return;
        }
      }
      if (req.signal.aborted) return;
      yield { type: 'text', text: speechFor(req, opts.today()) };
    },
  };
}
