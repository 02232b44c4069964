/**
 * False-interruption resume through the real phone path (simulated Twilio caller, the real SDKs
 * against the Deepgram / OpenAI / Cartesia fakes, the store): while the bot reads the claim back,
 * the caller makes a sound that Deepgram first guesses as a word ("Wait", an interim result) and
 * then finalizes as nothing. The bot stops at once (Twilio `clear`), and when no real word follows
 * it says again, without a new LLM request, what the caller did not hear of the read-back.
 */
import { AUDIO_FIXTURE_TEXT, loadAudioFixture, type AudioFixtureName } from '../fakes/fixtures.js';
import type { TwilioCall } from '../fakes/twilio-caller.js';
import { sayAndWait, startPhoneHarness, waitForBotToFinish } from '../support/phone-harness.js';
import { scriptedClaimModel } from '../support/scripted-llm.js';

const SPEEDUP = 8;
const ANSWERS: AudioFixtureName[] = ['okay-got-it', 'march-third', 'twelve-hundred-fifty-dollars'];

const say = (call: TwilioCall, name: AudioFixtureName, wait = true) =>
  sayAndWait(call, loadAudioFixture(name), { speedup: SPEEDUP, waitForAnswer: wait });

describe('a false interruption (whole phone path)', () => {
  it('stops for a sound Deepgram first took for a word, then resumes the read-back where the caller stopped hearing it', async () => {
    const h = await startPhoneHarness({
      today: '2026-11-25',
      deepgram: {
        utterances: [
          ...ANSWERS.map((n) => AUDIO_FIXTURE_TEXT[n]),
          { interim: 'Wait', text: '' }, // noise: an interim guess, an empty final
          AUDIO_FIXTURE_TEXT['yes-thats-correct'],
        ],
        interimIntervalMs: 100,
      },
      openai: { replies: scriptedClaimModel({ longReadBack: true }) },
      cartesia: {},
    });
    try {
      const call = await h.call({ speedup: SPEEDUP });
      await waitForBotToFinish(call, 0);
      const beforeReadBack = call.receivedBytes;
      for (const [i, name] of ANSWERS.entries()) await say(call, name, i < ANSWERS.length - 1);
      // The read-back is playing: let the caller hear some of it, then make the noise.
      await call.waitForMedia(beforeReadBack + 1, 20_000);
      const marks = call.marksEchoed.length;
      await call.waitFor(() => (call.marksEchoed.length > marks + 2 ? true : undefined), 20_000, 'read-back');
      const requests = h.openai!.requests.length;
      await say(call, 'mm-hmm', false);
      await call.waitFor(() => (call.clears.length > 0 ? true : undefined), 20_000, 'the bot stopping');
      // No real word follows: the bot resumes (turn 5) once the false-interruption window passed;
      // the resumed read-back plays to its end, then the caller confirms.
      await h.cartesia!.waitForContext('t5', 20_000);
      await waitForBotToFinish(call, call.receivedBytes);
      await say(call, 'yes-thats-correct', false);
      await h.rest!.waitForHangUp(call.callSid, 60_000);
      const d = await h.conversationByCallSid(call.callSid);

      const bot = d.messages.filter((m) => m.role === 'assistant');
      const cut = bot.find((m) => m.interrupted)!;
      expect(cut).toBeDefined();
      expect(cut.text).toContain('Let me read that back');
      expect(cut.text.startsWith(cut.heard_text!)).toBe(true);
      expect(cut.heard_text!.length).toBeLessThan(cut.text.length);
      // The next bot turn is the unheard rest of that read-back, not a new reply.
      const resumed = bot[bot.indexOf(cut) + 1]!;
      expect(resumed.interrupted).toBe(false);
      expect(resumed.text.length).toBeGreaterThan(0);
      const words = (t: string) => t.replace(/\s+/g, ' ').trim();
      expect(words(cut.text).endsWith(words(resumed.text))).toBe(true);
      expect(cut.text.length - cut.heard_text!.length).toBeGreaterThanOrEqual(resumed.text.length);
      // No LLM request from the noise on (the resume, the plain "yes" and the goodbye need none);
      // the noise is not a caller turn.
      expect(h.openai!.requests.length).toBe(requests);
      expect(d.messages.filter((m) => m.role === 'user').map((m) => m.text)).toEqual([
        ...ANSWERS.map((n) => AUDIO_FIXTURE_TEXT[n]),
        AUDIO_FIXTURE_TEXT['yes-thats-correct'],
      ]);
      expect(d.conversation).toMatchObject({ state: 'done', claim_status: 'Pending' });
    } finally {
      await h.close();
    }
  }, 180_000);
});
