/**
 * A scripted "model" for the OpenAI fake: it reads the request the engine sent (messages and the
 * tools offered for the current claim state) and answers like a well-behaved model would, with a
 * tool call when the caller's words fit one of the offered tools and a short spoken reply
 * otherwise. Deterministic, so end-to-end tests can assert the claim that results.
 */
import type { ChatCompletionRequestBody, OpenAIFakeReply } from '../fakes/openai-server.js';

/** Options of {@link scriptedClaimModel}. */
export interface ScriptedModelOptions {
  /** Applied to every reply (delays, errors...). Return extra fields for request `index`. */
  tweak?: (index: number, body: ChatCompletionRequestBody) => Partial<OpenAIFakeReply>;
  /** Words per spoken reply are padded with this sentence repeated (long turns for barge-in tests). */
  longReadBack?: boolean;
}

const offered = (body: ChatCompletionRequestBody, name: string) =>
  (body.tools ?? []).some((t) => t.function.name === name);

function toolFor(body: ChatCompletionRequestBody, text: string): OpenAIFakeReply | null {
  const t = text.toLowerCase();
  const call = (name: string, args: object = {}): OpenAIFakeReply | null =>
    offered(body, name) ? { toolCalls: [{ name, arguments: args }] } : null;
  if (/nine hundred/.test(t)) return call('claim_field_corrected', { field: 'amount', value: '900' });
  if (/repeat/.test(t)) return call('claim_number_repeat_requested');
  if (/got it|okay/.test(t)) return call('claim_number_acknowledged');
  if (/march third/.test(t)) return call('claim_date_provided', { date: '2026-03-03' });
  if (/twelve hundred fifty/.test(t)) return call('claim_amount_provided', { amount: 1250 });
  if (/yes|correct/.test(t)) return call('claim_details_confirmed');
  return null;
}

const READ_BACK =
  'Let me read that back. The incident happened on March third, and you are claiming one thousand two hundred fifty dollars. Is that correct?';

function speechFor(state: string, longReadBack: boolean): string {
  if (state === 'initial') return 'Your claim number is C. L. M. 1 2 3 4, 5 6 7 8. Say got it when ready.';
  if (state.endsWith('collectingDate')) return 'Thank you. On what date did the incident happen?';
  if (state.endsWith('collectingAmount')) return 'Got it. How much are you claiming?';
  if (state.endsWith('verifying')) return longReadBack ? `${READ_BACK} ${READ_BACK} ${READ_BACK}` : READ_BACK;
  if (state === 'done') return 'Your claim is filed with status Pending. Goodbye!';
  return 'Sorry, could you say that again?';
}

/** The script function to pass as `replies` to the OpenAI fake. */
export function scriptedClaimModel(opts: ScriptedModelOptions = {}) {
  return (body: ChatCompletionRequestBody, index: number): OpenAIFakeReply => {
    const messages = body.messages ?? [];
    const last = messages[messages.length - 1] ?? {};
    const system = String(messages[0]?.content ?? '');
    let reply: OpenAIFakeReply;
    if (last.role === 'user') {
      reply = toolFor(body, String(last.content ?? '')) ?? { text: 'Sorry, could you say that again?' };
    } else if (last.role === 'tool') {
      const content = JSON.parse(String(last.content ?? '{}')) as { state?: string };
      reply = { text: speechFor(content.state ?? '', opts.longReadBack ?? false) };
    } else {
      const state = /Current step: (\S+?)\. Goal/.exec(system)?.[1] ?? 'initial';
      reply = { text: `Hello, thanks for calling. ${speechFor(state, false)}` };
    }
    return { ...reply, ...opts.tweak?.(index, body) };
  };
}
