/**
 * The call machine decides the call, through the whole engine (local dialogue, `/client/stream`
 * over a real WebSocket, PGlite): a bare "twenty" at the amount question is $20, and a caller who
 * says goodbye mid-claim hears a goodbye with their claim number and the call ends unfiled.
 */
import {
  expectReplayMatches,
  fetchConversation,
  runScriptedCall,
  startLocalServer,
  type LocalServer,
} from '../support/replay-helper.js';

let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(async () => {
  await server.stop();
});

describe('the call machine decides the call (whole engine)', () => {
  it('takes a bare "twenty" as the amount, then ends as caller_left without filing when the caller says goodbye', async () => {
    const call = await runScriptedCall(server, [
      { say: 'got it' },
      { say: 'March 3rd, 2026' },
      { say: 'twenty' },
      { say: 'sorry, I have to go now, bye' },
    ]);
    const detail = await fetchConversation(server.url, call.conversationId);
    expect(detail.conversation).toMatchObject({
      end_reason: 'caller_left',
      state: 'ongoing',
      claim_status: 'Open',
      claim_date: '2026-03-03',
    });
    expect(Number(detail.conversation.claim_amount)).toBe(20);
    const said = detail.messages.filter((m) => m.role === 'assistant').map((m) => m.text);
    expect(said.at(-2)).toContain('you are claiming twenty dollars');
    expect(said.at(-1)).toMatch(/^Thank you for calling\. Your claim number is .+Goodbye!$/);
    expect(detail.messages.some((m) => m.role === 'tool' && m.text.startsWith('caller_goodbye_said'))).toBe(
      true,
    );
    expectReplayMatches(detail);
  }, 60_000);
});
