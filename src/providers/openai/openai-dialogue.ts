/**
 * The OpenAI dialogue: chat completions, streaming, with the claim events the current state accepts
 * as tools. Works with any OpenAI-compatible server (`OPENAI_BASE_URL`).
 *
 * Retry policy: none inside the SDK (`maxRetries: 0`). A retried request adds seconds of dead air on
 * a phone line; the engine instead answers the turn with the local dialogue at once. A request
 * that yields no first token within `firstTokenTimeoutMs` is aborted and treated the same way.
 * Cancellation: the caller's AbortSignal aborts the HTTP request (barge-in). Because the SDK ends a
 * stream silently when aborted mid-way, completion is tracked by `finish_reason`, not by loop end.
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { callToolEventTypes } from '../../../machines/call/call.events.js';
import {
  callTurnWording,
  fillTemplate,
  keypadOfferWording,
  turnWordingFor,
} from '../../../machines/call/call.wording.js';
import type { ClaimView } from '../../../machines/claim/claim.view.js';
import { toolDefinitionOf } from './openai-tools.js';
import {
  ProviderError,
  type DialogueChunk,
  type DialogueMessage,
  type DialogueProvider,
  type DialogueRequest,
} from '../types.js';
import { claimNumberForSpeech } from '../../../machines/claim/claim-number.js';
import { amountForSpeech } from '../../../machines/claim/claim-speech.js';

/** Options of the OpenAI dialogue. */
export interface OpenAIDialogueOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  firstTokenTimeoutMs?: number;
  totalTimeoutMs?: number;
  /** Today's date for the prompt (relative dates like "yesterday"). */
  today: () => string;
}

/**
 * The system prompt for a state: persona, rules, what is known, the state's label and goal, and the
 * machines' instruction for this kind of turn (`machines/call/call.wording.ts`). No wording of its own
 * about states or reasons.
 */
export function systemPromptFor(req: DialogueRequest, today: string): string {
  const v: ClaimView = req.claim;
  const c = v.context;
  const facts = [
    `claim number: ${c.claimId} (say it as: ${claimNumberForSpeech(c.claimId)})`,
    `claim date: ${c.claimDate ?? 'unknown'}`,
    `claim amount: ${c.claimAmount === null ? 'unknown' : `${c.claimAmount} USD (say: ${amountForSpeech(c.claimAmount)})`}`,
    `claim status: ${c.claimStatus}`,
  ];
  const last4 = req.callInfo.fromMasked ? req.callInfo.fromMasked.replace('…', '') : null;
  const offer =
    req.keypadOffer && v.keypad
      ? fillTemplate(keypadOfferWording(req.keypadOffer).instruction, { hint: v.keypad.hint })
      : null;
  return [
    `You are the phone claims assistant of ${req.callInfo.companyName}. You are speaking on a phone call: answer in one to three short spoken sentences, no lists, no markdown, no emojis.`,
    `Today is ${today}. Dates you pass to tools are YYYY-MM-DD; amounts are plain numbers in US dollars.`,
    'Call a tool as soon as the caller gives the information it records; never invent values the caller did not say.',
    // One round trip per turn: the engine words a tool turn from the machines' meta itself.
    'When you call a tool, write no text at all: the system then tells the caller what was recorded (or why it was refused) and asks the next question. Write text only when you call no tool (to answer a question or ask again).',
    callTurnWording.rejected.instruction,
    callTurnWording.values.instruction,
    callTurnWording.amountUnclear.instruction,
    callTurnWording.claimNumber.instruction,
    v.why ? (fillTemplate(callTurnWording.why.instruction, { why: v.why }) ?? '') : '',
    v.stall ? (fillTemplate(callTurnWording.stall.instruction, { stall: v.stall }) ?? '') : '',
    v.expects === 'confirmation' ? callTurnWording.confirmationDeclined.instruction : '',
    offer ?? '',
    `Current step: ${v.label}. Goal of this step: ${v.goal}`,
    `Known so far: ${facts.join('; ')}.`,
    last4 ? (fillTemplate(callTurnWording.callerNumber.instruction, { callerLast4: last4 }) ?? '') : '',
    req.callInfo.recorded && req.reason === 'greeting' ? callTurnWording.recordingNotice.instruction : '',
    turnWordingFor(req.reason).instruction,
  ]
    .filter(Boolean)
    .join('\n');
}

/** The tools offered for a request: none while saying goodbye, else the state's and the call's. */
export function toolsFor(req: DialogueRequest): ChatCompletionTool[] {
  if (req.reason === 'goodbye' || req.reason === 'callerGoodbye') return [];
  return [...req.claim.acceptedEvents, ...callToolEventTypes].map((t) =>
    toolDefinitionOf(t),
  ) as ChatCompletionTool[];
}

function toOpenAIMessages(history: readonly DialogueMessage[]): ChatCompletionMessageParam[] {
  return history.map((m): ChatCompletionMessageParam => {
    if (m.role === 'user') return { role: 'user', content: m.content };
    if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    return m.toolCalls?.length
      ? {
          role: 'assistant',
          content: m.content,
          tool_calls: m.toolCalls.map((t) => ({
            id: t.id,
            type: 'function',
            function: { name: t.name, arguments: t.arguments },
          })),
        }
      : { role: 'assistant', content: m.content ?? '' };
  });
}

function mapError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof OpenAI.APIError) {
    const status = err.status;
    const retryable =
      status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
    return new ProviderError('llm', 'openai', err.message, retryable, status);
  }
  return new ProviderError('llm', 'openai', err instanceof Error ? err.message : String(err), true);
}

/** Creates the OpenAI dialogue provider. */
export function createOpenAIDialogue(opts: OpenAIDialogueOptions): DialogueProvider {
  const client = new OpenAI({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL,
    maxRetries: 0,
    timeout: opts.totalTimeoutMs ?? 20_000,
  });
  const firstTokenTimeoutMs = opts.firstTokenTimeoutMs ?? 5_000;

  return {
    name: 'openai',
    async *respond(req: DialogueRequest): AsyncGenerator<DialogueChunk> {
      const ac = new AbortController();
      const onAbort = () => ac.abort();
      req.signal.addEventListener('abort', onAbort, { once: true });
      let gotFirst = false;
      const firstTokenTimer = setTimeout(() => {
        if (!gotFirst) ac.abort();
      }, firstTokenTimeoutMs);
      const tools = toolsFor(req);
      const calls = new Map<number, { id: string; name: string; arguments: string }>();
      let finished = false;
      try {
        const stream = await client.chat.completions.create(
          {
            model: opts.model,
            messages: [
              { role: 'system', content: systemPromptFor(req, opts.today()) },
              ...toOpenAIMessages(req.history),
            ],
            stream: true,
            stream_options: { include_usage: true },
            ...(tools.length ? { tools, tool_choice: 'auto' as const, parallel_tool_calls: true } : {}),
          },
          { signal: ac.signal },
        );
        for await (const chunk of stream) {
          if (chunk.usage) {
            yield {
              type: 'usage',
              promptTokens: chunk.usage.prompt_tokens,
              completionTokens: chunk.usage.completion_tokens,
            };
          }
          const choice = chunk.choices[0];
          if (!choice) continue;
          const d = choice.delta;
          if (d?.content) {
            gotFirst = true;
            yield { type: 'text', text: d.content };
          }
          for (const tc of d?.tool_calls ?? []) {
            if (!calls.has(tc.index)) yield { type: 'tool_call_started' };
            gotFirst = true;
            const cur = calls.get(tc.index) ?? { id: '', name: '', arguments: '' };
            if (tc.id) cur.id = tc.id;
            if (tc.function?.name) cur.name += tc.function.name;
            if (tc.function?.arguments) cur.arguments += tc.function.arguments;
            calls.set(tc.index, cur);
          }
          if (choice.finish_reason) finished = true;
        }
      } catch (err) {
        if (req.signal.aborted) return;
        if (ac.signal.aborted)
          throw new ProviderError('llm', 'openai', `no first token within ${firstTokenTimeoutMs} ms`, true);
        throw mapError(err);
      } finally {
        clearTimeout(firstTokenTimer);
        req.signal.removeEventListener('abort', onAbort);
      }
      if (req.signal.aborted) return;
      if (!finished) {
        if (ac.signal.aborted)
          throw new ProviderError('llm', 'openai', `no first token within ${firstTokenTimeoutMs} ms`, true);
        throw new ProviderError('llm', 'openai', 'stream ended without finish_reason', true);
      }
      for (const [, call] of [...calls.entries()].sort((a, b) => a[0] - b[0])) {
        yield {
          type: 'tool_call',
          call: {
            id: call.id || `call_${Math.random().toString(36).slice(2)}`,
            name: call.name,
            arguments: call.arguments,
          },
        };
      }
    },
  };
}
