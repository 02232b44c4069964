/**
 * At most one LLM round trip before the first audio of every turn, through the whole engine (the
 * real server with the OpenAI dialogue pointed at the OpenAI fake, PGlite, `/client/stream` over a
 * real WebSocket). Requests are counted at the fake, turn by turn: plain answers need none (the
 * fast path), everything else exactly one, including a tool turn whose value the claim refuses,
 * and the refused value is never heard as taken.
 */
import type { ChatCompletionRequestBody, OpenAIFakeReply } from '../fakes/openai-server.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-server.js';
import {
  connectBrowserCall,
  fetchConversation,
  startLocalServer,
  waitForStoredEnd,
  type LocalServer,
} from '../support/replay-helper.js';

const SECOND_REQUEST = 'A SECOND REQUEST WAS MADE';

/** A model that calls tools for hedged answers, and (badly) also writes the value as text. */
function model(body: ChatCompletionRequestBody): OpenAIFakeReply {
  const last = body.messages?.at(-1) ?? {};
  if (last.role === 'tool') return { text: SECOND_REQUEST };
  if (last.role !== 'user') return { text: 'Hello, thanks for calling. Your claim number is on its way.' };
  const said = String(last.content).toLowerCase();
  const tool = (name: string, args: object, text?: string): OpenAIFakeReply => ({
    ...(text ? { text } : {}),
    toolCalls: [{ name, arguments: args }],
  });
  if (said.includes('bye')) return tool('caller_goodbye_said', {});
  if (said.includes('why')) return { text: 'We need the date to process your claim. When did it happen?' };
  if (said.includes('2027'))
    return tool('claim_date_provided', { date: '2027-01-01' }, 'Great, January first 2027 is noted.');
  if (said.includes('march')) return tool('claim_date_provided', { date: '2026-03-03' });
  if (said.includes('twelve')) return tool('claim_amount_provided', { amount: 1250 });
  if (said.includes('yes')) return tool('claim_details_confirmed', {});
  return { text: 'Sorry, could you say that again?' };
}

let openai: OpenAIFake;
let server: LocalServer;
beforeAll(async () => {
  openai = await startOpenAIFake({ replies: model });
  server = await startLocalServer({
    env: { OPENAI_API_KEY: 'test-openai-key', OPENAI_BASE_URL: `${openai.url}/v1` },
  });
});
afterAll(async () => {
  await server?.stop();
  await openai?.close();
});

/** Plays the steps and returns how many LLM requests each caller turn made (greeting first). */
async function requestsPerTurn(steps: string[]) {
  const base = openai.requests.length;
  const call = await connectBrowserCall(server.streamUrl);
  const started = await call.waitFor((m) => m.event === 'session.started', 0, 'session.started');
  await call.waitUntilListening(0);
  const counts = [openai.requests.length - base];
  for (const say of steps) {
    const before = openai.requests.length;
    const from = call.messages.length;
    call.say(say);
    if (say !== steps.at(-1)) await call.waitUntilListening(from);
    else await call.closed;
    counts.push(openai.requests.length - before);
  }
  await call.closed;
  await waitForStoredEnd(server, String(started.conversationId));
  const detail = await fetchConversation(server.url, String(started.conversationId));
  const bot = detail.messages.filter((m) => m.role === 'assistant').map((m) => m.text);
  return { counts, bot, detail };
}

describe('one LLM round trip per turn (whole engine, OpenAI dialogue)', () => {
  it('answers plain acknowledgement, date, amount and confirmation turns with no LLM request at all', async () => {
    const { counts, bot, detail } = await requestsPerTurn([
      'got it',
      'March 3rd, 2026',
      'twelve hundred fifty dollars',
      "yes, that's correct",
    ]);
    expect(counts).toEqual([1, 0, 0, 0, 0]);
    expect(detail.conversation).toMatchObject({ state: 'done', claim_date: '2026-03-03' });
    expect(Number(detail.conversation.claim_amount)).toBe(1250);
    expect(bot.join(' ')).not.toContain(SECOND_REQUEST);
  }, 60_000);

  it('makes exactly one request for a free-text question and for each tool turn, and never confirms a refused value', async () => {
    const { counts, bot, detail } = await requestsPerTurn([
      'got it',
      'why do you need the date?',
      'maybe January 1st, 2027', // the LLM's tool; the guard refuses a future date
      'January 1st, 2027', // the fast path; the guard refuses it too
      'hmm, I think it was March third',
      'I think twelve hundred fifty dollars',
      'I think so, yes',
    ]);
    expect(counts).toEqual([1, 0, 1, 1, 0, 1, 1, 1]);
    expect(bot.join(' ')).not.toContain(SECOND_REQUEST);
    // The question was answered with the model's own streamed words.
    expect(bot[2]).toBe('We need the date to process your claim. When did it happen?');
    // Both refusals say why and ask again; the model's "noted" was never spoken.
    for (const refusal of [bot[3], bot[4]]) {
      expect(refusal).toMatch(/future/);
      expect(refusal).toContain('On what date did the incident happen?');
      expect(refusal).not.toMatch(/noted/i);
    }
    expect(bot[5]).toMatch(/How much are you claiming/);
    expect(bot[6]).toMatch(/Is that correct\?/);
    expect(detail.conversation).toMatchObject({
      state: 'done',
      claim_status: 'Pending',
      claim_date: '2026-03-03',
    });
    expect(Number(detail.conversation.claim_amount)).toBe(1250);
  }, 60_000);

  it('makes one request for a goodbye the LLM hears, and words the goodbye turn that follows without one', async () => {
    const { counts, bot, detail } = await requestsPerTurn(['got it', 'sorry, I have to go now, bye']);
    expect(counts).toEqual([1, 0, 1]);
    expect(bot.at(-1)).toMatch(/^Thank you for calling\. Your claim number is .+Goodbye!$/);
    expect(detail.conversation).toMatchObject({ end_reason: 'caller_left', claim_status: 'Open' });
  }, 60_000);
});
