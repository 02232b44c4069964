/**
 * Graceful drain (SIGTERM): live calls may finish; the ones still going when DRAIN_TIMEOUT_S runs
 * out hear a goodbye in Twilio's voice (REST `Twiml` with `<Say>` + `<Hangup/>`) and end as
 * `server_shutdown`; no new call is admitted meanwhile. Keypad-only calls, so no provider fakes.
 */
import {
  pressKeys,
  startPhoneHarness,
  waitForBotToFinish,
  type PhoneHarness,
} from '../support/phone-harness.js';

const SPEEDUP = 8;

describe('draining the server', () => {
  let h: PhoneHarness;
  beforeEach(async () => {
    h = await startPhoneHarness({ deepgram: false, cartesia: false });
  });
  afterEach(async () => h?.close());

  it('lets a call that finishes within the drain time end by itself, normally', async () => {
    const call = await h.call({ speedup: SPEEDUP });
    const press = (digits: string, wait = true) => pressKeys(call, digits, wait);
    await waitForBotToFinish(call, 0);
    const drained = h.server.drain({ timeoutMs: 60_000 });
    await press('1');
    await press('03032026#');
    await press('1250#');
    await press('1', false);
    const report = await drained;
    expect(report).toEqual({ live: 1, finished: 1, hungUp: 0 });
    const d = await h.conversationByCallSid(call.callSid);
    expect(d.conversation).toMatchObject({ state: 'done', end_reason: 'completed', claim_amount: 1250 });
    expect(h.rest!.twimlUpdates).toHaveLength(0); // a plain hang-up, no shutdown message
  }, 120_000);

  it('says goodbye in Twilio’s voice and hangs up the calls still live when the drain time is up', async () => {
    const call = await h.call({ speedup: SPEEDUP });
    await waitForBotToFinish(call, 0);
    const report = await h.server.drain({ timeoutMs: 100 });
    expect(report).toEqual({ live: 1, finished: 0, hungUp: 1 });
    const [update] = h.rest!.twimlUpdates;
    expect(update!.callSid).toBe(call.callSid);
    expect(update!.twiml).toContain('<Say>We are sorry, we have to end this call now for a system update.');
    expect(update!.twiml).toContain('Your claim number is C. L. M.');
    expect(update!.twiml).toContain('<Hangup/>');
    const d = await h.conversationByCallSid(call.callSid);
    expect(d.conversation.end_reason).toBe('server_shutdown');
    expect(d.conversation.ended_at).not.toBeNull();
  }, 60_000);

  it('admits no new call once a drain has started', async () => {
    await h.server.drain({ timeoutMs: 0 });
    await expect(h.call({ speedup: SPEEDUP })).rejects.toThrow();
  }, 30_000);
});
