/**
 * End-to-end phone calls: a simulated Twilio caller on /twilio/stream, the real Deepgram and
 * Cartesia SDKs against their protocol fakes, the real store (PGlite).
 */
import { loadAudioFixture, AUDIO_FIXTURE_TEXT, type AudioFixtureName } from '../fakes/fixtures.js';
import {
  sayAndWait,
  startPhoneHarness,
  waitForBotToFinish,
  type PhoneHarness,
} from '../support/phone-harness.js';
import type { TwilioCall } from '../fakes/twilio-caller.js';

const SPEEDUP = 4;

const say = (call: TwilioCall, name: AudioFixtureName, waitForAnswer = true) =>
  sayAndWait(call, loadAudioFixture(name), { speedup: SPEEDUP, waitForAnswer });

describe('a phone call over the Twilio media stream', () => {
  let h: PhoneHarness;
  const script: AudioFixtureName[] = [
    'okay-got-it',
    'march-third',
    'twelve-hundred-fifty-dollars',
    'yes-thats-correct',
  ];

  beforeAll(async () => {
    h = await startPhoneHarness({
      deepgram: { utterances: script.map((n) => AUDIO_FIXTURE_TEXT[n]) },
      cartesia: {},
      today: '2026-11-25',
    });
  });
  afterAll(async () => h?.close());

  it('files a claim by voice and hangs up through the REST API', async () => {
    const call = await h.call({ speedup: SPEEDUP });
    await waitForBotToFinish(call, 0);
    for (const name of script) await say(call, name, name !== 'yes-thats-correct');
    await h.rest!.waitForHangUp(call.callSid, 60_000);
    await call.waitForClosed(10_000);
    const d = await h.conversationByCallSid(call.callSid);
    if (d.conversation.state !== 'done')
      console.log(
        JSON.stringify(
          d.messages.map((m) => [m.role, m.text, m.heard_text]),
          null,
          1,
        ),
        d.transitions
          .filter((t) => t.actor === 'call')
          .map((t) => t.event_type + ' ' + JSON.stringify(t.state_value))
          .join('\n'),
      );
    expect(d.conversation.state).toBe('done');
    expect(d.conversation.claim_date).toBe('2026-03-03');
    expect(d.conversation.claim_amount).toBe(1250);
    expect(call.protocolErrors).toEqual([]);
  }, 120_000);
});
