/**
 * A browser call cannot be transferred (no phone line to redirect): a caller who asks for a person
 * over `/client/stream` hears that transfers are not available, the client gets a
 * `transfer.requested {available:false}` frame, and the claim goes on to done (whole engine, local
 * dialogue, PGlite).
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
}, 120_000);
afterAll(async () => {
  await server.stop();
});

describe('asking for a person on a browser call', () => {
  it('says transfers are not available, tells the client, and the claim goes on to done', async () => {
    const call = await runScriptedCall(server, [
      { say: 'got it' },
      { say: 'can I speak to a representative please' },
      { press: '0#' }, // collecting the date: 0 starts a value there, 0# asks for a person
      { say: 'March 3rd, 2026' },
      { say: 'twelve hundred dollars' },
      { say: 'yes' },
    ]);
    const detail = await fetchConversation(server.url, call.conversationId);
    expect(detail.conversation).toMatchObject({
      end_reason: 'completed',
      state: 'done',
      claim_date: '2026-03-03',
    });
    const said = detail.messages.filter((m) => m.role === 'assistant').map((m) => m.text);
    const refusals = said.filter((t) =>
      t.startsWith("I'm sorry, I can't transfer you to a person on this line"),
    );
    expect(refusals).toHaveLength(2); // the spoken request and the keypad's 0
    expect(refusals[0]).toContain('On what date did the incident happen?');
    const frames = call.messages.filter((m) => m.event === 'transfer.requested');
    expect(frames).toEqual([
      expect.objectContaining({ cause: 'caller', available: false }),
      expect.objectContaining({ cause: 'keypad', available: false }),
    ]);
    expectReplayMatches(detail);
  }, 120_000);
});
