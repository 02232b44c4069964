/**
 * The local dialogue: a deterministic policy driven by the claim machine's state. No key, no network.
 * It is the zero-config default, the CI workhorse and the fallback when the LLM fails.
 *
 * It follows the same two-step protocol as an LLM with tools: on a caller turn it emits tool calls
 * (claim events) for what it understood; once the engine has applied them and appended the tool
 * results, it is asked again and speaks for the claim's new state (or explains a rejection). That
 * second step is also how every dialogue's tool turn is worded (no second LLM request), and
 * `readAnswer` is the engine's fast path (see `fastAnswerEvents`).
 */
import { claimNumberForSpeech } from '../../../machines/claim/claim-number.js';
import { toolNameOf, type ClaimToolEvent } from '../../../machines/claim/claim.events.js';
import type { AnswerKind } from '../../../machines/claim/claim.machine.js';
import type { ClaimView } from '../../../machines/claim/claim.view.js';
import {
  callTurnWording,
  fillTemplate,
  keypadOfferWording,
  turnWordingFor,
  type TurnWording,
} from '../../../machines/call/call.wording.js';
import type { DialogueChunk, DialogueMessage, DialogueProvider, DialogueRequest } from '../types.js';
import { amountForSpeech, dateForSpeech } from './speech-format.js';
import { understandUtterance, type UnderstandContext, type Understanding } from './understand.js';
import { asksForPerson } from './person-request.js';
import type { CallToolEvent } from '../../../machines/call/call.events.js';

/** The claim values as the local voice says them (`{claimNumber}` etc. in the machines' templates). */
export function spokenValues(claim: ClaimView): Record<string, string | null> {
  const c = claim.context;
  return {
    claimNumber: claimNumberForSpeech(c.claimId),
    claimDate: c.claimDate ? dateForSpeech(c.claimDate) : null,
    claimAmount: c.claimAmount !== null ? amountForSpeech(c.claimAmount) : null,
  };
}

/** The state's question (its meta template) with the claim values filled in. */
export function questionFor(claim: ClaimView): string {
  return fillTemplate(claim.question, spokenValues(claim)) ?? 'How can I help with your claim?';
}

/** How a bare number is read, from the kind of answer the state's question expects. */
export function expectingOf(expects: AnswerKind): UnderstandContext['expecting'] {
  return expects === 'date' || expects === 'amount' ? expects : undefined;
}

/**
 * Maps what was understood to the claim events the current state can take. A date that does not
 * exist is offered as said, so the claim machine refuses it with its reason (never another day);
 * an amount that reads two ways gives no event (the caller is asked which).
 */
export function eventsFor(claim: ClaimView, u: Understanding): ClaimToolEvent[] {
  const accepts = (t: ClaimToolEvent['type']) => claim.acceptedEvents.includes(t);
  const out: ClaimToolEvent[] = [];
  const date = u.date ?? u.impossibleDate;
  if (claim.expects === 'acknowledgement') {
    if ((u.repeat || u.asksClaimNumber || (u.no && !u.yes)) && accepts('claim.number.repeat_requested'))
      return [{ type: 'claim.number.repeat_requested' }];
    if (!(u.yes || date || u.amount !== null) || !accepts('claim.number.acknowledged')) return [];
    out.push({ type: 'claim.number.acknowledged' });
    // The caller may jump ahead ("got it, it happened yesterday"): pass those along too.
    if (date) out.push({ type: 'claim.date.provided', date });
    if (u.amount !== null) out.push({ type: 'claim.amount.provided', amount: u.amount });
    return out;
  }
  const c = claim.context;
  // A correction before the field was given ("the 19th, no sorry, the 20th") is taken once: the
  // claim machine then asks for what is still missing.
  if (u.correction && accepts('claim.field.corrected')) {
    return [{ type: 'claim.field.corrected', field: u.correction.field, value: u.correction.value }];
  }
  if (claim.expects === 'confirmation' && u.yes && !u.no && (u.date || u.amount !== null)) {
    // "Yes, March third and twelve hundred, that's right": the values said back confirm; a value
    // said back differently is a correction of it.
    if (u.date && u.date !== c.claimDate) out.push({ type: 'claim.date.provided', date: u.date });
    if (u.amount !== null && u.amount !== c.claimAmount)
      out.push({ type: 'claim.amount.provided', amount: u.amount });
    if (out.length === 0 && accepts('claim.details.confirmed')) out.push({ type: 'claim.details.confirmed' });
    return out.filter((e) => accepts(e.type));
  }
  if (date && accepts('claim.date.provided')) out.push({ type: 'claim.date.provided', date });
  if (u.amount !== null && accepts('claim.amount.provided')) {
    out.push({ type: 'claim.amount.provided', amount: u.amount });
  }
  if (out.length === 0 && u.yes && !u.no && accepts('claim.details.confirmed')) {
    out.push({ type: 'claim.details.confirmed' });
  }
  // "Which would you like to change?" "The amount." (or "no, the date is wrong"): ask for it.
  if (out.length === 0 && u.field && !(u.yes && !u.no) && !u.amountChoices && !u.asksWhy) {
    if (accepts('claim.field.change_requested'))
      out.push({ type: 'claim.field.change_requested', field: u.field });
  }
  return out;
}

/** Understands a caller utterance in the light of the current state's question and the claim's values. */
export function understandFor(claim: ClaimView, text: string, today: string): Understanding {
  const expecting = expectingOf(claim.expects);
  return understandUtterance(text, {
    today,
    knownDate: claim.context.claimDate,
    ...(expecting ? { expecting } : {}),
  });
}

/**
 * The events of a caller turn, with the caller's goodbye: leaving mid-claim ends the call without
 * filing (`caller.goodbye.said`) and keeps any value said with it; an acknowledgement said with
 * the goodbye ("okay, bye") is dropped, a confirmation ("yes, that's right, bye") files the claim
 * and the final state says goodbye itself.
 */
export function turnEventsFor(claim: ClaimView, u: Understanding): { type: string }[] {
  const events: { type: string }[] = eventsFor(claim, u);
  if (!u.goodbye || events.some((e) => e.type === 'claim.details.confirmed')) return events;
  return [...events.filter((e) => e.type !== 'claim.number.acknowledged'), { type: 'caller.goodbye.said' }];
}

/*
 * The fast path of a caller turn: the answer the claim state's question expects (meta `expects`),
 * read deterministically from the caller's words, so a plain answer ("March 3rd", "twelve hundred
 * fifty dollars", "yes, that's correct", "got it") needs no LLM. Deliberately narrow: anything
 * that may carry more than the answer goes to the dialogue (the LLM keeps full understanding): a
 * question, a hedge ("maybe", "I think", "or"), a goodbye, a yes and a no together, a long
 * utterance, or words in which the state's expected value was not found.
 */

const BACKCHANNEL_ONLY = /^(m+-?h+m+|mhm+|uh-?huh|hmm+)[.!,\s]*$/;

/** Longer replies are left to the dialogue: they rarely hold only the answer. */
export const FAST_ANSWER_MAX_WORDS = 12;

const QUESTION_START =
  /^(why|how|what|when|where|who|which|can|could|do|does|did|is|are|will|would|should|may i|shall)\b/;
const HEDGE =
  /\b(maybe|perhaps|probably|i think|i guess|not sure|unsure|don'?t know|no idea|or|either|roughly|wait|hold on|hang on|but)\b/;

/** A request for a person is read by the fast path at any length up to this many words. */
const PERSON_REQUEST_MAX_WORDS = 30;

/**
 * The claim events a plain answer to the state's question gives, or null when the turn is not
 * one (see file header): then the dialogue decides. A request for a person ("an agent, please")
 * is read here too, before any other rule: it needs no model either. Never throws.
 */
export function fastAnswerEvents(
  claim: ClaimView,
  text: string,
  today: string,
): (ClaimToolEvent | CallToolEvent)[] | null {
  if (typeof text !== 'string') return null;
  if (text.split(/\s+/).length <= PERSON_REQUEST_MAX_WORDS && asksForPerson(text))
    return [{ type: 'caller.transfer.requested' }];
  const line = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (line === '' || line.split(' ').length > FAST_ANSWER_MAX_WORDS) return null;
  if (line.includes('?') || QUESTION_START.test(line) || HEDGE.test(line)) return null;
  if (claim.expects === 'none') return null;
  // A bare "mm-hmm" is a backchannel (often said while the details are still being read), not a
  // confirmation of them: the dialogue decides.
  if (claim.expects === 'confirmation' && BACKCHANNEL_ONLY.test(line)) return null;
  const u = understandFor(claim, text, today);
  if (u.goodbye || (u.yes && u.no) || u.asksClaimNumber || u.asksWhy || u.stall) return null;
  const events = eventsFor(claim, u);
  return events.length > 0 ? events : null;
}

function lastUserText(history: readonly DialogueMessage[]): string {
  for (let i = history.length - 1; i >= 0; i--) {
    const m = history[i];
    if (m?.role === 'user') return m.content;
  }
  return '';
}

/** Names of the tools of the last assistant tool-call message. */
function lastToolNames(history: readonly DialogueMessage[]): string[] {
  for (let i = history.length - 1; i >= 0; i--) {
    const m = history[i];
    if (m?.role === 'assistant' && m.toolCalls?.length) return m.toolCalls.map((t) => t.name);
    if (m?.role === 'user') return [];
  }
  return [];
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

/** Placeholders a turn's template may leave empty. */
const OPTIONAL = ['keypadOffer', 'callerNumber', 'acknowledgement', 'recordingNotice'];

/**
 * Composes what the bot says for a request that calls for speech (not for tool calls), from the
 * machines' wording: the state's meta and the call's turn wording.
 */
export function speechFor(req: DialogueRequest, today: string): string {
  const { claim, reason, history, callInfo } = req;
  const values = spokenValues(claim);
  const question = questionFor(claim);
  const keypadOffer =
    req.keypadOffer && claim.keypad
      ? fillTemplate(keypadOfferWording(req.keypadOffer).say, { hint: claim.keypad.hint })
      : null;
  const say = (w: TurnWording, extra: Record<string, string | null> = {}) =>
    fillTemplate(
      w.say,
      { ...values, question, keypadOffer, companyName: callInfo.companyName, ...extra },
      OPTIONAL,
    ) ?? question;

  if (reason === 'greeting') {
    const last4 = callInfo.fromMasked ? callInfo.fromMasked.replace('…', '') : null;
    const callerNumber = last4
      ? fillTemplate(callTurnWording.callerNumber.say, { callerLast4: last4 })
      : null;
    const recordingNotice = callInfo.recorded ? callTurnWording.recordingNotice.say : null;
    return say(callTurnWording.greeting, { callerNumber, recordingNotice });
  }
  // A caller leaving once there is nothing left to ask hears the state's own closing words.
  if (reason === 'callerGoodbye' && claim.expects === 'none') return question;
  if (reason !== 'user' && reason !== 'dtmf') return say(turnWordingFor(reason));

  const results = trailingToolResults(history);
  const failed = results.find((r) => !r.ok);
  if (failed) return say(callTurnWording.rejected, { error: failed.error ?? 'I could not use that' });
  if (results.length > 0) {
    if (lastToolNames(history).includes(toolNameOf('claim.field.change_requested')))
      return say(callTurnWording.changeRequested);
    const acknowledgement = claim.acknowledgement ? fillTemplate(claim.acknowledgement, values) : null;
    return say(callTurnWording.answer, { acknowledgement });
  }
  // A caller turn that produced nothing the claim could take: a question, a stall, an unclear amount.
  const u = understandFor(claim, lastUserText(history), today);
  if (u.asksClaimNumber) return say(callTurnWording.claimNumber);
  if (u.asksWhy && claim.why) return say(callTurnWording.why, { why: claim.why });
  if (u.amountChoices && u.amountChoices.length > 1) {
    const words = u.amountChoices.map(amountForSpeech);
    const choices = `${words.slice(0, -1).join(', ')} or ${words.at(-1) ?? ''}`;
    return say(callTurnWording.amountUnclear, { choices });
  }
  if (u.stall && claim.stall) return say(callTurnWording.stall, { stall: claim.stall });
  if (u.repeat) return question;
  if (claim.expects === 'confirmation' && u.no) return say(callTurnWording.confirmationDeclined);
  return say(callTurnWording.notUnderstood);
}

const FIRST_CHOICE = /\b(first|former|bigger|larger|higher|more)\b/i;
const SECOND_CHOICE = /\b(second|latter|smaller|lower|less)\b/i;

/**
 * The answer to "is that X or Y?" (an amount that read two ways) when the caller picks by position
 * ("the first one", "the second"): the reading chosen, from the caller's previous turn. Null when
 * the caller's previous turn was not such an amount or the words pick neither.
 */
export function chosenAmount(
  claim: ClaimView,
  history: readonly DialogueMessage[],
  text: string,
  today: string,
): number | null {
  if (typeof text !== 'string' || text.length > 80) return null;
  const first = FIRST_CHOICE.test(text);
  const second = SECOND_CHOICE.test(text);
  if (first === second) return null;
  const users = history.filter((m): m is Extract<DialogueMessage, { role: 'user' }> => m.role === 'user');
  const previous = users.at(-2);
  const choices = previous ? understandFor(claim, previous.content, today).amountChoices : null;
  if (!choices || choices.length < 2) return null;
  return (first ? choices[0] : choices[1]) ?? null;
}

/** A question or stall the local voice answers from the machines' wording (see `speechFor`). */
export function isAside(u: Understanding): boolean {
  return u.asksClaimNumber || u.asksWhy || u.stall || (u.amountChoices?.length ?? 0) > 1;
}

let toolCallCounter = 0;

/** Creates the local dialogue provider. `today()` gives the reference date for relative dates. */
export function createLocalDialogue(
  opts: { today: () => string } = { today: () => new Date().toISOString().slice(0, 10) },
): DialogueProvider {
  return {
    name: 'local',
    readAnswer: (claim, text) => fastAnswerEvents(claim, text, opts.today()),
    readAside: (claim, text) => isAside(understandFor(claim, text, opts.today())),
    async *respond(req: DialogueRequest): AsyncGenerator<DialogueChunk> {
      const last = req.history.at(-1);
      if (req.reason === 'user' && last?.role === 'user') {
        const understood = understandFor(req.claim, last.content, opts.today());
        const chosen = chosenAmount(req.claim, req.history, last.content, opts.today());
        // A caller asking for a person gets one (or hears why not), whatever else they said.
        const events: { type: string }[] = asksForPerson(last.content)
          ? [{ type: 'caller.transfer.requested' }]
          : turnEventsFor(req.claim, chosen === null ? understood : { ...understood, amount: chosen });
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
