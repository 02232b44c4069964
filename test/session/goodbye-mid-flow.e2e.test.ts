/**
 * A caller leaving mid-claim, through the whole engine (the real server, `/client/stream` over a
 * real WebSocket, PGlite), with the OpenAI dialogue in front (pointed at the OpenAI fake): plain
 * answers take the fast path, a goodbye never does. When the model calls `caller_goodbye_said` and
 * when the model fails on the goodbye turn (the local dialogue answers it), the bot says goodbye
 * with the claim number and the call ends unfiled, `end_reason` `caller_left`.
 */
import type { ChatCompletionRequestBody, OpenAIFakeReply } from '../fakes/openai-server.js';
import { startOpenAIFake, type OpenAIFake } from '../fakes/openai-server.js';
import {
  expectReplayMatches,
  fetchConversation,
  runScriptedCall,
  startLocalServer,
  type LocalServer,
} from '../support/replay-helper.js';

/** A model that takes its goodbye tool for "bye", and is down for "have to go". */
function model(body: ChatCompletionRequestBody): OpenAIFakeReply {
  const last = body.messages?.at(-1) ?? {};
  if (last.role !== 'user') return { text: 'Hello, thanks for calling.' };
  const said = String(last.content).toLowerCase();
  if (said.includes('have to go')) return { status: 500 };
  if (said.includes('bye')) return { toolCalls: [{ name: 'caller_goodbye_said', arguments: {} }] };
  return { text: 'Sorry, could you say that again?' };
}

let openai: OpenAIFake;
let server: LocalServer;
beforeAll(async () => {
  openai = await startOpenAIFake({ replies: model });
  server = await startLocalServer({
    env: { OPENAI_API_KEY: 'test-openai-key', OPENAI_BASE_URL: `${openai.url}/v1` },
  });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await openai?.close();
});

describe('goodbye mid-flow with the fast path in front of the LLM', () => {
  it.each([
    ['the model calls its goodbye tool', 'okay, bye'],
    ['the model fails and the local dialogue answers', 'sorry, I have to go'],
  ])(
    '%s: goodbye with the claim number, nothing filed, caller_left',
    async (_, goodbye) => {
      const before = openai.requests.length;
      const call = await runScriptedCall(server, [
        { say: 'got it' },
        { say: 'March 3rd, 2026' },
        { say: goodbye },
      ]);
      const detail = await fetchConversation(server.url, call.conversationId);
      expect(detail.conversation).toMatchObject({
        end_reason: 'caller_left',
        state: 'ongoing',
        claim_status: 'Open',
        claim_date: '2026-03-03',
      });
      const said = detail.messages.filter((m) => m.role === 'assistant').map((m) => m.text);
      expect(said.at(-1)).toMatch(/Your claim number is .+Goodbye!$/);
      // The two plain answers took the fast path; the goodbye went to the model.
      const userTurns = openai.requests
        .slice(before)
        .filter((r) => r.body?.messages?.at(-1)?.role === 'user');
      expect(userTurns.map((r) => String(r.body?.messages?.at(-1)?.content))).toEqual([goodbye]);
      expectReplayMatches(detail);
    },
    120_000,
  );
});
