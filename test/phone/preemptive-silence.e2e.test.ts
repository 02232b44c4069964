/**
 * Preemptive generation on VAD silence, through the real server path (simulated Twilio caller, the
 * real Deepgram / Cartesia SDKs against their fakes, the store). Deepgram is asked for a 5 s
 * endpointing, so it never marks `speech_final` before its utterance end (1 s after the last word):
 * what a noisy line does to endpointing. The engine hears the silence first (its VAD, 500 ms) and
 * prepares the reply to the words in hand at once; the utterance end then only confirms the turn.
 *
 * A reply prepared this way synthesizes on its own Cartesia context (`t<turn>-held<n>`); when it is
 * taken over, that context is the turn's audio (no second synthesis); when the caller goes on,
 * none of it reaches the caller.
 */
import { loadAudioFixture, AUDIO_FIXTURE_TEXT, type AudioFixtureName } from '../fakes/fixtures.js';
import type { CartesiaFake } from '../fakes/cartesia-server.js';
import type { TwilioCall } from '../fakes/twilio-caller.js';
import {
  sayAndWait,
  startPhoneHarness,
  waitForBotToFinish,
  type PhoneHarness,
} from '../support/phone-harness.js';
import { scriptedClaimModel } from '../support/scripted-llm.js';

const SPEEDUP = 8;
const TODAY = '2026-11-25';
/**
 * The caller's pause inside the answer, in audio time. With the fixtures' own silence around it
 * (about 360 ms before, 80 ms after) the caller is quiet for about 740 ms: past the VAD's 500 ms
 * hangover, short of Deepgram's 1 s utterance end.
 */
const PAUSE_MS = 300;

const say = (call: TwilioCall, name: AudioFixtureName) =>
  sayAndWait(call, loadAudioFixture(name), { speedup: SPEEDUP });

async function withCall(utterances: string[], body: (h: PhoneHarness, call: TwilioCall) => Promise<void>) {
  const h = await startPhoneHarness({
    today: TODAY,
    env: { DEEPGRAM_ENDPOINTING_MS: '5000' },
    deepgram: { utterances, interimIntervalMs: 100 },
    openai: { replies: scriptedClaimModel({}) },
    cartesia: {},
  });
  try {
    const call = await h.call({ speedup: SPEEDUP });
    await waitForBotToFinish(call, 0);
    await body(h, call);
  } finally {
    await h.close();
  }
}

const spoken = (c: { transcripts: string[] }) => c.transcripts.join(' ').replace(/\s+/g, ' ').trim();

/**
 * The Cartesia contexts whose words are a stored bot line of the same turn: the audio that went
 * to the caller. Every other context was dropped (cancelled, or synthesized and never sent).
 */
function delivered(cartesia: CartesiaFake, d: { messages: { role: string; turn: number; text: string }[] }) {
  return cartesia.contexts.filter((c) => {
    const turn = Number(/^t(\d+)/.exec(c.contextId)?.[1]);
    return d.messages.some((m) => m.role === 'assistant' && m.turn === turn && m.text === spoken(c));
  });
}
const bytes = (cs: { audioBytesSent: number }[]) => cs.reduce((n, c) => n + c.audioBytesSent, 0);
const heldAs = (cs: { contextId: string }[]) => cs.map((c) => c.contextId.replace(/held\d+$/, 'held'));

describe('preemptive generation on VAD silence (whole phone path, no speech_final)', () => {
  it('prepares each reply when the caller falls silent and sends it as the turn: one synthesis per turn, all heard', async () => {
    await withCall(['Okay, got it.', 'March third.'], async (h, call) => {
      const cartesia = h.cartesia!;
      await say(call, 'okay-got-it');
      await say(call, 'march-third');
      await call.hangUp();
      const d = await h.conversationByCallSid(call.callSid);

      // Both caller turns were answered by a reply prepared on silence, taken over as it was (one
      // prepared for an interim that showed fewer words than the flushed final is replaced); no
      // turn was synthesized twice, and the caller got exactly the audio of the stored lines.
      const sent = delivered(cartesia, d);
      expect(heldAs(sent)).toEqual(['t1', 't2-held', 't3-held']);
      expect(cartesia.context('t2')).toBeUndefined();
      expect(cartesia.context('t3')).toBeUndefined();
      expect(call.receivedBytes).toBe(bytes(sent));
      expect(d.messages.filter((m) => m.role === 'user').map((m) => m.text)).toEqual([
        'Okay, got it.',
        'March third.',
      ]);
      expect(d.conversation).toMatchObject({ claim_date: '2026-03-03' });
      expect(d.metrics).toMatchObject({ prepared_turns_committed: 2 });
    });
  }, 120_000);

  it('discards the reply prepared on silence when the caller goes on, and answers the whole utterance once', async () => {
    const script = ['Okay, got it.', 'March third.', AUDIO_FIXTURE_TEXT['twelve-hundred-fifty-dollars']];
    await withCall(script, async (h, call) => {
      const cartesia = h.cartesia!;
      await say(call, 'okay-got-it');
      const since = call.receivedBytes;
      await Promise.all([
        call.sendAudio(loadAudioFixture('march-third'), { speedup: SPEEDUP }),
        call.sendSilence(PAUSE_MS, { speedup: SPEEDUP }),
        call.sendAudio(loadAudioFixture('twelve-hundred-fifty-dollars'), { speedup: SPEEDUP }),
      ]);
      await waitForBotToFinish(call, since);
      await call.hangUp();
      const d = await h.conversationByCallSid(call.callSid);

      // What was prepared for "March third." alone never reached the caller; the reply prepared
      // for the whole utterance is the turn's audio.
      const sent = delivered(cartesia, d);
      expect(heldAs(sent)).toEqual(['t1', 't2-held', 't3-held']);
      expect(cartesia.context('t3')).toBeUndefined();
      expect(call.receivedBytes).toBe(bytes(sent));
      const bot = d.messages.filter((m) => m.role === 'assistant').map((m) => m.text);
      expect(bot.join(' ')).not.toContain('How much are you claiming');
      expect(d.messages.filter((m) => m.role === 'user').map((m) => m.text)).toEqual([
        'Okay, got it.',
        'March third. Twelve hundred fifty dollars.',
      ]);
      expect(d.messages.filter((m) => m.role === 'assistant' && m.turn === 3)).toHaveLength(1);
      const claim = (type: string) =>
        d.transitions.filter((t) => t.actor === 'claim' && t.event_type === type);
      expect(claim('claim.date.provided')).toHaveLength(1);
      expect(claim('claim.amount.provided')).toHaveLength(1);
      expect(d.conversation).toMatchObject({ claim_date: '2026-03-03', claim_amount: 1250 });
      expect(d.metrics).toMatchObject({ prepared_turns_committed: 2 });
      expect(d.metrics?.prepared_turns_discarded).toBeGreaterThanOrEqual(1);
    });
  }, 120_000);
});
