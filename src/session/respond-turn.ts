/**
 * One bot turn: dialogue → sentence splitter → speech → playback, with at most one LLM request
 * before the first audio: a plain answer (keypad entry, or words the fast path reads) is applied
 * without the LLM; an LLM response that calls tools is applied and then worded from the machines'
 * meta by the local dialogue (`fallback`), never by a second request; a free-text response streams.
 *
 * Lifecycle: `runRespondTurn` is called by the call machine's `respond` actor when it enters
 * `responding`; the actor's cleanup aborts `signal` (barge-in, hang-up), which aborts the LLM
 * request and cancels the speech turn. The returned promise never rejects for provider failures:
 * the primary dialogue failing falls back to the local one for this turn (and is reported with
 * `onDialogueFailure`, which the session turns into `provider.failed`).
 *
 * It decides nothing about the call: it reports the turn's outcome (did the claim take, refuse or
 * get nothing; did the caller say goodbye) and the call machine decides what follows.
 */
import type { RespondInput, TurnOutcome } from '../../machines/call/call.machine.js';
import {
  callEventTypeOfTool,
  type CallToolEvent,
  type CallToolEventType,
} from '../../machines/call/call.events.js';
import { isScriptedTurn } from '../../machines/call/call.wording.js';
import type { ClaimToolEvent } from '../../machines/claim/claim.events.js';
import { toolNameOf } from '../../machines/claim/claim.events.js';
import type { ClaimGateway } from './claim-gateway.js';
import { SentenceSplitter } from './sentence-splitter.js';
import { mentionsValue } from './value-mention.js';
import type {
  DialogueCallInfo,
  DialogueMessage,
  DialogueProvider,
  Speaker,
  SpeechResult,
} from '../providers/types.js';
import type { TurnTiming } from '../metrics/conversation-metrics.js';

/** Session state the turn reads and updates (owned by the call session). */
export interface RespondContext {
  gateway: ClaimGateway;
  history: DialogueMessage[];
  dialogue: DialogueProvider;
  fallback: DialogueProvider;
  speaker: Speaker;
  callInfo: DialogueCallInfo;
  /**
   * When the caller stopped speaking before a turn that started at `turnStartedAt`
   * (performance.now()), or null if unknown (typed turns). Read when the turn ends: the VAD's
   * hangover often ends after the transcript already started the turn.
   */
  userStoppedAt(turnStartedAt: number): number | null;
  /** Maps a completed keypad entry to claim events for the current state. */
  dtmfEvents(entry: string): ClaimToolEvent[];
  onFirstAudio(): void;
  onUserMessage(text: string): void;
  onToolCall(name: string, args: string, result: string): void;
  onDialogueFailure(error: unknown, vendor: string): void;
  onBotText(text: string): void;
}

/** What a finished (or interrupted) turn reports. */
export interface RespondResult {
  speech: SpeechResult;
  /**
   * What the claim made of the turn, or what the caller asked of the call (nothing was spoken):
   * `goodbye` (leaving), `transfer` (a person).
   */
  outcome: TurnOutcome | 'goodbye' | 'transfer';
  timing: TurnTiming;
  acceptedEvents: number;
  /** The reply was written to its end (not cut mid-generation): what a resume can say again. */
  generationComplete: boolean;
}

/** The tool result a call-level tool gets (the call machine acts on it after the turn). */
function callToolResult(type: CallToolEventType): string {
  return JSON.stringify({ ok: true, event: type });
}

const MAX_TOOL_ROUNDS = 4;

/** Claim events that record a value the caller said (a refused one must never be heard as taken). */
const recordsValue = (t: string) =>
  t === 'claim.date.provided' || t === 'claim.amount.provided' || t === 'claim.field.corrected';

/** Runs one bot turn (see file header). */
export async function runRespondTurn(
  input: RespondInput,
  ctx: RespondContext,
  signal: AbortSignal,
): Promise<RespondResult> {
  const turnStartedAt = performance.now();
  const answersCaller = input.reason === 'user' || input.reason === 'dtmf' || input.reason === 'unheard';
  const timing: TurnTiming = { turn: input.turn, interrupted: false };
  let accepted = 0;
  let rejected = 0;
  /** The call-level tool of this turn (the caller leaving, or asking for a person), if any. */
  let callLevel: CallToolEventType | null = null;

  if (input.userText) {
    ctx.history.push({ role: 'user', content: input.userText });
    ctx.onUserMessage(input.userText);
  }

  const speech = ctx.speaker.startTurn(input.turn, { onFirstAudio: () => ctx.onFirstAudio() });
  const stopSpeech = () => speech.cancel();
  signal.addEventListener('abort', stopSpeech, { once: true });

  /** Claim tools go to the claim; a call-level tool (goodbye, a person) is noted for the machine. */
  const applyCalls = (calls: readonly { id: string; name: string; arguments: string }[]) => {
    for (const call of calls) {
      const callEvent = callEventTypeOfTool(call.name);
      let content: string;
      if (callEvent) {
        callLevel ??= callEvent;
        content = callToolResult(callEvent);
      } else {
        const outcome = ctx.gateway.apply(call);
        if (outcome.ok) accepted += 1;
        else rejected += 1;
        content = outcome.content;
      }
      ctx.history.push({ role: 'tool', toolCallId: call.id, content });
      ctx.onToolCall(call.name, call.arguments, content);
    }
  };

  /** Applies events the engine read itself (keypad, fast path); true when there were any. */
  const applyEvents = (events: (ClaimToolEvent | CallToolEvent)[], idPrefix: string): boolean => {
    if (events.length === 0) return false;
    const calls = events.map((e, i) => {
      const { type, ...args } = e;
      return {
        id: `${idPrefix}_${input.turn}_${i}`,
        name: toolNameOf(type),
        arguments: JSON.stringify(args),
      };
    });
    ctx.history.push({ role: 'assistant', content: null, toolCalls: calls });
    applyCalls(calls);
    return true;
  };
  // The fast path: a keypad entry, or a plain spoken answer to the state's question, becomes the
  // claim's events here, with no LLM at all; the words then come from the machines' meta.
  const preApplied = input.dtmf
    ? applyEvents(ctx.dtmfEvents(input.dtmf), 'dtmf')
    : input.reason === 'user' && input.userText
      ? applyEvents(ctx.fallback.readAnswer?.(ctx.gateway.view(), input.userText) ?? [], 'fast')
      : false;

  let spokenAny = false;
  // Turns whose events are applied, and the scripted goodbye, are worded by the local voice.
  let dialogue =
    input.dialogue === 'fallback' || preApplied || isScriptedTurn(input.reason) ? ctx.fallback : ctx.dialogue;
  /** The reply was written to its end (not aborted, not broken off): a resume can re-speak it. */
  let generationComplete = false;
  let llmStartedAt: number | null = null;
  const speak = (piece: string) => {
    spokenAny = true;
    speech.push(piece);
    ctx.onBotText(piece);
  };

  // A call-level event read by the fast path: the machine gives what follows its own turn.
  for (let round = 0; round < MAX_TOOL_ROUNDS && !signal.aborted && callLevel === null; round++) {
    const view = ctx.gateway.view();
    const toolCalls: { id: string; name: string; arguments: string }[] = [];
    const splitter = new SentenceSplitter();
    // While tools that record values are offered, text naming a value waits for the end of the
    // response: if the response also calls a tool, the machine's verdict is spoken instead.
    const holdValues = dialogue !== ctx.fallback && answersCaller && view.acceptedEvents.some(recordsValue);
    const held: string[] = [];
    let toolStarted = false;
    let text = '';
    const requestAt = performance.now();
    llmStartedAt ??= requestAt;
    let firstChunk = true;
    try {
      const stream = dialogue.respond({
        claim: view,
        history: ctx.history,
        reason: input.reason,
        callInfo: ctx.callInfo,
        keypadOffer: input.keypadOffer,
        signal,
      });
      for await (const chunk of stream) {
        if (signal.aborted) break;
        if (firstChunk && chunk.type !== 'usage') {
          firstChunk = false;
          if (timing.llmTtfbMs === undefined) {
            timing.llmTtfbMs = performance.now() - requestAt;
            timing.llmProvider = dialogue.name;
          }
        }
        if (chunk.type === 'text') {
          text += chunk.text;
          for (const piece of splitter.push(chunk.text)) {
            if (toolStarted) continue;
            if (held.length > 0 || (holdValues && mentionsValue(piece))) held.push(piece);
            else speak(piece);
          }
        } else if (chunk.type === 'tool_call_started') {
          toolStarted = true;
        } else if (chunk.type === 'tool_call') {
          toolCalls.push(chunk.call);
        } else if (chunk.type === 'usage') {
          timing.promptTokens = (timing.promptTokens ?? 0) + chunk.promptTokens;
          timing.completionTokens = (timing.completionTokens ?? 0) + chunk.completionTokens;
        }
      }
    } catch (err) {
      if (signal.aborted) break;
      ctx.onDialogueFailure(err, dialogue.name);
      if (dialogue !== ctx.fallback && !spokenAny && toolCalls.length === 0) {
        dialogue = ctx.fallback; // the next round's splitter starts empty: nothing of this one is spoken
        round -= 1;
        continue;
      }
      break; // broke off: its unfinished sentence is not spoken
    }
    if (signal.aborted) break;
    if (toolCalls.length > 0) {
      // Held text and the unfinished sentence are dropped: the machine's verdict is spoken instead.
      ctx.history.push({ role: 'assistant', content: text || null, toolCalls });
      applyCalls(toolCalls);
      // The caller is leaving or asks for a person: the machine gives that its own turn.
      if (callLevel) break;
      // One round trip: the words for the applied events come from the machines' meta (the
      // next state's acknowledgement and question, or the refusal and the question again).
      dialogue = ctx.fallback;
      continue;
    }
    for (const piece of [...held, ...splitter.flush()]) speak(piece);
    generationComplete = !signal.aborted;
    break;
  }
  if (llmStartedAt !== null) timing.llmProcessingMs = performance.now() - llmStartedAt;

  speech.end();
  const result = await speech.done;
  signal.removeEventListener('abort', stopSpeech);

  if (result.spokenText || result.heardText) {
    ctx.history.push({
      role: 'assistant',
      content: result.interrupted ? result.heardText : result.spokenText,
    });
  }

  const t = speech.timings;
  timing.interrupted = result.interrupted;
  const stoppedAt = answersCaller ? ctx.userStoppedAt(turnStartedAt) : null;
  const latencyFrom = stoppedAt !== null && stoppedAt <= turnStartedAt ? stoppedAt : turnStartedAt;
  if (t.firstAudioAt !== null) timing.latencyMs = t.firstAudioAt - latencyFrom;
  if (t.firstHeardAt !== null) timing.heardLatencyMs = t.firstHeardAt - latencyFrom;
  // A held turn's first audio is sent at its release: the voice's own TTFB is when it arrived.
  const synthesizedAt = t.firstSynthesizedAt ?? t.firstAudioAt;
  if (t.firstTextAt !== null && synthesizedAt !== null) timing.ttsTtfbMs = synthesizedAt - t.firstTextAt;
  if (t.firstTextAt !== null && t.doneAt !== null) timing.ttsProcessingMs = t.doneAt - t.firstTextAt;

  const aside = !!input.userText && !!ctx.fallback.readAside?.(ctx.gateway.view(), input.userText);
  const outcome =
    callLevel === 'caller.goodbye.said'
      ? 'goodbye'
      : callLevel === 'caller.transfer.requested'
        ? 'transfer'
        : accepted > 0
          ? 'accepted'
          : rejected > 0
            ? 'rejected'
            : aside
              ? 'answered'
              : 'none';
  return { speech: result, outcome, timing, acceptedEvents: accepted, generationComplete };
}
