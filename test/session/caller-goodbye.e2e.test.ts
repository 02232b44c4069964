/**
 * The call machine decides the call, through the whole engine (local dialogue, `/client/stream`
 * over a real WebSocket, PGlite): a bare "twenty" at the amount question is $20, and a caller who
 * says goodbye mid-claim hears a goodbye with their claim number and the call ends unfiled; a
 * browser call cannot be transferred to a person (no phone line to redirect): a caller asking for
 * one hears so, the client gets `transfer.requested {available:false}`, and the claim goes on.
 */
import {
  expectReplayMatches,
  fetchConversation,
  runScriptedCall,
  useLocalServer,
} from '../support/replay-helper.js';

const local = useLocalServer();

describe('the call machine decides the call (whole engine)', () => {
  it('takes a bare "twenty" as the amount, then ends as caller_left without filing when the caller says goodbye', async () => {
    const call = await runScriptedCall(local.current, [
      { say: 'got it' },
      { say: 'March 3rd, 2026' },
      { say: 'twenty' },
      { say: 'sorry, I have to go now, bye' },
    ]);
    const detail = await fetchConversation(local.current.url, call.conversationId);
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

  it('tells a browser caller asking for a person that transfers are not available, and the claim goes on to done', async () => {
    const call = await runScriptedCall(local.current, [
      { say: 'got it' },
      { say: 'can I speak to a representative please' },
      { press: '0#' }, // collecting the date: 0 starts a value there, 0# asks for a person
      { say: 'March 3rd, 2026' },
      { say: 'twelve hundred dollars' },
      { say: 'yes' },
    ]);
    const detail = await fetchConversation(local.current.url, call.conversationId);
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
