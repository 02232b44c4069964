/**
 * End-to-end phone calls: a simulated Twilio caller (signed webhook and upgrade, real-time-paced
 * media, marks echoed only after playback) on /twilio/stream; the real Deepgram, OpenAI and
 * Cartesia SDKs against their protocol fakes; the Twilio REST fake for the hang-up; the real store
 * (PGlite). Each scenario asserts the rows the API would return.
 */
import { AUDIO_FIXTURE_TEXT, loadAudioFixture, type AudioFixtureName } from '../fakes/fixtures.js';
import type { TwilioCall } from '../fakes/twilio-caller.js';
import {
  sayAndWait,
  pressKeys,
  waitForBotToFinish,
  withPhoneHarness,
  type PhoneHarness,
  type PhoneHarnessOptions,
} from '../support/phone-harness.js';
import { scriptedClaimModel } from '../support/scripted-llm.js';
import { createLocalTts } from '../../src/providers/local/local-tts.js';
import { createToneTts } from '../fakes/tone-tts.js';
import { keypadTurnText, unheardTurnText } from '../../src/session/caller-turn-text.js';

const SPEEDUP = 8;
const TODAY = '2026-11-25';

const say = (call: TwilioCall, name: AudioFixtureName, waitForAnswer = true) =>
  sayAndWait(call, loadAudioFixture(name), { speedup: SPEEDUP, waitForAnswer });

/** What the caller says to file a claim by voice: acknowledge, date, amount, confirm. */
const FULL_CLAIM: AudioFixtureName[] = [
  'okay-got-it',
  'march-third',
  'twelve-hundred-fifty-dollars',
  'yes-thats-correct',
];
/** The same up to the read-back (the bot then reads the claim back). */
const UP_TO_READ_BACK = FULL_CLAIM.slice(0, 3);

const scriptOf = (names: AudioFixtureName[]) => names.map((n) => AUDIO_FIXTURE_TEXT[n]);

/** Runs `body` against a fresh stack. */
const withStack = (opts: PhoneHarnessOptions, body: (h: PhoneHarness) => Promise<void>) =>
  withPhoneHarness({ today: TODAY, ...opts }, body);

/** Says each fixture in turn, waiting for the bot's answer (the last one ends the call). */
async function talk(call: TwilioCall, names: AudioFixtureName[]) {
  await waitForBotToFinish(call, 0);
  for (const [i, name] of names.entries()) await say(call, name, i < names.length - 1);
}

describe('a phone call over the Twilio media stream', () => {
  it('files a claim by voice with Deepgram, OpenAI and Cartesia, records metrics and hangs up through the REST API', async () => {
    const names = FULL_CLAIM;
    await withStack(
      { deepgram: { utterances: scriptOf(names) }, openai: { replies: scriptedClaimModel() }, cartesia: {} },
      async (h) => {
        const call = await h.call({ speedup: SPEEDUP });
        await talk(call, names);
        await h.rest!.waitForHangUp(call.callSid, 60_000);
        await call.waitForClosed();
        const d = await h.conversationByCallSid(call.callSid);

        expect(d.conversation).toMatchObject({
          state: 'done',
          claim_status: 'Pending',
          claim_date: '2026-03-03',
          claim_amount: 1250,
          channel: 'phone',
          end_reason: 'completed',
        });
        expect(d.conversation.from_number).not.toContain('555123');
        expect(d.metrics).toMatchObject({
          stt_provider: 'deepgram',
          llm_provider: 'openai',
          tts_provider: 'cartesia',
        });
        expect(d.metrics!.turns).toBeGreaterThanOrEqual(5);
        for (const k of ['latency', 'llm_ttfb', 'tts_ttfb', 'stt_processing'] as const) {
          expect(d.metrics![`${k}_avg_ms`]).toEqual(expect.any(Number));
          expect(d.metrics![`${k}_min_ms`]!).toBeLessThanOrEqual(d.metrics![`${k}_max_ms`]!);
        }
        const userTexts = d.messages.filter((m) => m.role === 'user').map((m) => m.text);
        expect(userTexts).toEqual(scriptOf(names));
        // The greeting used the call info (the caller's number, masked).
        expect(h.openai!.requests[0]!.body!.messages![0]!.content).toContain('4567');
        expect(call.protocolErrors).toEqual([]);
        expect(h.cartesia!.contexts.length).toBeGreaterThanOrEqual(5);
      },
    );
  }, 120_000);

  it('stops talking when the caller barges in: clear sent, LLM aborted, TTS cancelled, only heard text kept', async () => {
    const QUESTION = 'Why do you need the date of the incident?';
    const ANSWER =
      'We need the date of the incident so the adjuster can match your claim with the records of your policy. ';
    let answerRequest = -1;
    await withStack(
      {
        deepgram: {
          utterances: [
            AUDIO_FIXTURE_TEXT['okay-got-it'],
            QUESTION,
            AUDIO_FIXTURE_TEXT['march-third'],
            AUDIO_FIXTURE_TEXT['twelve-hundred-fifty-dollars'],
            AUDIO_FIXTURE_TEXT['yes-thats-correct'],
          ],
        },
        openai: {
          replies: scriptedClaimModel({
            // The free-text answer streams slowly, so the LLM is still generating when the caller cuts in.
            tweak: (i, body) => {
              const last = body.messages?.at(-1);
              if (last?.role === 'user' && String(last.content) === QUESTION) {
                answerRequest = i;
                return { text: ANSWER.repeat(4), interTokenMs: 40 };
              }
              return {};
            },
          }),
        },
        cartesia: {},
      },
      async (h) => {
        const call = await h.call({ speedup: SPEEDUP });
        await waitForBotToFinish(call, 0);
        await say(call, 'okay-got-it');
        const before = call.marksEchoed.length;
        await say(call, 'no-the-amount-is-nine-hundred', false); // heard as the question
        // The answer is playing: wait until the caller has heard some of it, then interrupt.
        await call.waitFor(
          () => (call.marksEchoed.length > before + 2 ? true : undefined),
          20_000,
          'the answer audio',
        );
        await say(call, 'march-third');
        await say(call, 'twelve-hundred-fifty-dollars');
        await say(call, 'yes-thats-correct', false);
        await h.rest!.waitForHangUp(call.callSid, 60_000);
        const d = await h.conversationByCallSid(call.callSid);

        expect(call.clears.length).toBeGreaterThanOrEqual(1);
        expect(answerRequest).toBeGreaterThan(0);
        expect(h.openai!.requests[answerRequest]!.aborted).toBe(true);
        expect(h.cartesia!.cancelledContextIds.length).toBeGreaterThanOrEqual(1);
        const cut = d.messages.find((m) => m.role === 'assistant' && m.interrupted);
        expect(cut).toBeDefined();
        expect(cut!.heard_text!.length).toBeLessThan(cut!.text.length);
        expect(cut!.text.startsWith(cut!.heard_text!)).toBe(true);
        expect(d.metrics!.interruptions).toBeGreaterThanOrEqual(1);
        expect(d.conversation).toMatchObject({ state: 'done', claim_date: '2026-03-03', claim_amount: 1250 });
      },
    );
  }, 120_000);

  it('files a claim with the keypad alone when no provider key is set', async () => {
    await withStack({ deepgram: false, cartesia: false }, async (h) => {
      const call = await h.call({ speedup: SPEEDUP });
      const press = (digits: string, wait = true) => pressKeys(call, digits, wait);
      await waitForBotToFinish(call, 0);
      await press('1'); // acknowledge the claim number
      await press('03032026#'); // March 3rd, 2026
      await press('1250*50#'); // $1,250.50
      await press('1', false); // confirm
      await h.rest!.waitForHangUp(call.callSid, 60_000);
      const d = await h.conversationByCallSid(call.callSid);
      expect(d.conversation).toMatchObject({
        state: 'done',
        claim_status: 'Pending',
        claim_date: '2026-03-03',
        claim_amount: 1250.5,
      });
      expect(d.metrics).toMatchObject({ stt_provider: null, llm_provider: 'local' });
      expect(['espeak-ng', 'silence']).toContain(d.metrics!.tts_provider);
      expect(call.receivedBytes).toBeGreaterThan(0);
    });
  }, 120_000);

  it('without speech-to-text: an unheard utterance is a caller turn in the transcript, and the keypad is offered at once', async () => {
    await withStack({ deepgram: false, cartesia: false }, async (h) => {
      const call = await h.call({ speedup: SPEEDUP });
      await waitForBotToFinish(call, 0);
      await say(call, 'okay-got-it'); // heard as speech, never as words
      await pressKeys(call, '1', true); // the keypad still works
      await call.hangUp();
      const d = await h.conversationByCallSid(call.callSid, { ended: true });
      const turns = d.messages.map((m) => ({ role: m.role, text: m.text }));
      const unheard = turns.findIndex((m) => m.text === unheardTurnText(false));
      expect(turns[unheard]?.role).toBe('user');
      // The very next bot turn (the first miss) offers the keypad.
      const reply = turns.slice(unheard + 1).find((m) => m.role === 'assistant');
      expect(reply?.text).toMatch(/press 1/i);
      expect(turns).toContainEqual({ role: 'user', text: keypadTurnText('1') });
    });
  }, 120_000);

  it('still understands the caller when the Deepgram socket drops mid-call', async () => {
    const names = FULL_CLAIM;
    await withStack({ deepgram: { utterances: scriptOf(names) }, cartesia: {} }, async (h) => {
      const call = await h.call({ speedup: SPEEDUP });
      await waitForBotToFinish(call, 0);
      await say(call, 'okay-got-it');
      h.deepgram!.dropConnections(1011, 'simulated network drop');
      await say(call, 'march-third');
      await say(call, 'twelve-hundred-fifty-dollars');
      await say(call, 'yes-thats-correct', false);
      await h.rest!.waitForHangUp(call.callSid, 60_000);
      const d = await h.conversationByCallSid(call.callSid);
      expect(h.deepgram!.sessions.length).toBeGreaterThanOrEqual(2);
      expect(d.conversation).toMatchObject({ state: 'done', claim_date: '2026-03-03', claim_amount: 1250 });
      expect(d.messages.filter((m) => m.role === 'user').map((m) => m.text)).toEqual(scriptOf(names));
    });
  }, 120_000);

  it('answers a turn with the local dialogue when OpenAI fails with a 500', async () => {
    const names = FULL_CLAIM;
    let failed = -1;
    // Hedged answers are not plain ones: they go to OpenAI (a plain one needs no LLM at all).
    const utterances = scriptOf(names).map((t) => (/March|hundred/.test(t) ? `I think ${t}` : t));
    await withStack(
      {
        deepgram: { utterances },
        cartesia: {},
        openai: {
          replies: scriptedClaimModel({
            tweak: (i, body) => {
              const last = body.messages?.at(-1);
              if (failed < 0 && last?.role === 'user' && String(last.content).includes('March')) {
                failed = i;
                return { status: 500, error: { message: 'The server had an error' } };
              }
              return {};
            },
          }),
        },
      },
      async (h) => {
        const call = await h.call({ speedup: SPEEDUP });
        await talk(call, names);
        await h.rest!.waitForHangUp(call.callSid, 60_000);
        const d = await h.conversationByCallSid(call.callSid);
        expect(failed).toBeGreaterThan(0);
        expect(h.openai!.requests[failed]!.status).toBe(500);
        // The local dialogue recorded the date from the caller's words in that turn.
        expect(d.messages.some((m) => m.role === 'tool' && m.text.startsWith('claim_date_provided'))).toBe(
          true,
        );
        expect(d.conversation).toMatchObject({ state: 'done', claim_date: '2026-03-03', claim_amount: 1250 });
        // Later turns went back to OpenAI.
        expect(h.openai!.requests.length).toBeGreaterThan(failed + 1);
      },
    );
  }, 120_000);

  it('does not stop for a backchannel ("mm-hmm") while it reads the claim back', async () => {
    const names = UP_TO_READ_BACK;
    await withStack(
      {
        deepgram: {
          utterances: [
            ...scriptOf(names),
            AUDIO_FIXTURE_TEXT['mm-hmm'],
            AUDIO_FIXTURE_TEXT['yes-thats-correct'],
          ],
        },
        openai: { replies: scriptedClaimModel({ longReadBack: true }) },
        cartesia: {},
      },
      async (h) => {
        const call = await h.call({ speedup: SPEEDUP });
        await talk(call, names);
        const before = call.marksEchoed.length;
        await call.waitFor(
          () => (call.marksEchoed.length > before + 2 ? true : undefined),
          20_000,
          'read-back',
        );
        await say(call, 'mm-hmm');
        // The read-back played to its end: nothing was cleared while (or after) the caller said "mm-hmm".
        expect(call.clears).toEqual([]);
        await say(call, 'yes-thats-correct', false);
        await h.rest!.waitForHangUp(call.callSid, 60_000);
        const d = await h.conversationByCallSid(call.callSid);
        const readBack = d.messages.find(
          (m) => m.role === 'assistant' && m.text.includes('Let me read that back'),
        );
        expect(readBack).toMatchObject({ interrupted: false, heard_text: null });
        expect(d.conversation.state).toBe('done');
      },
    );
  }, 120_000);

  it('finishes a turn with the local voice when Cartesia fails, and records both providers', async () => {
    const names = FULL_CLAIM;
    // An audible local voice whether or not espeak-ng is installed (without it the real local
    // voice is silence, and the call is rightly ended with an apology: the next test).
    const localTts = createToneTts();
    await withStack(
      { deepgram: { utterances: scriptOf(names) }, cartesia: {}, overrides: { providers: { localTts } } },
      async (h) => {
        const call = await h.call({ speedup: SPEEDUP });
        await waitForBotToFinish(call, 0);
        await say(call, 'okay-got-it');
        h.cartesia!.failNextContext({
          status_code: 500,
          title: 'Internal error',
          message: 'synthesis failed',
        });
        await say(call, 'march-third');
        await say(call, 'twelve-hundred-fifty-dollars');
        await say(call, 'yes-thats-correct', false);
        await h.rest!.waitForHangUp(call.callSid, 60_000);
        const d = await h.conversationByCallSid(call.callSid);
        expect(d.conversation).toMatchObject({ state: 'done', claim_date: '2026-03-03', claim_amount: 1250 });
        expect(d.metrics!.tts_provider).toBe('cartesia+tone');
        expect(h.cartesia!.contexts.some((c) => c.error !== null)).toBe(true);
      },
    );
  }, 120_000);

  it("ends the call with an apology in Twilio's voice when Cartesia is down and no local voice is installed", async () => {
    await withStack(
      {
        deepgram: { utterances: [] },
        cartesia: { apiKey: 'a-key-the-server-does-not-have' }, // every synthesis fails (401)
        overrides: { providers: { localTts: createLocalTts({ espeakPath: null }) } },
      },
      async (h) => {
        const call = await h.call({ speedup: SPEEDUP });
        await h.rest!.waitForHangUp(call.callSid, 30_000);
        await call.waitForClosed();
        const [update] = h.rest!.twimlUpdates;
        expect(update!.twiml).toContain('<Say>We are sorry');
        expect(update!.twiml).toContain('<Hangup/>');
        const d = await h.conversationByCallSid(call.callSid);
        expect(d.conversation.end_reason).toBe('tts_failed');
      },
    );
  }, 60_000);

  it('keeps the call going on the keypad when Deepgram refuses the key', async () => {
    await withStack({ deepgram: { apiKey: 'a-key-the-server-does-not-have' }, cartesia: {} }, async (h) => {
      const call = await h.call({ speedup: SPEEDUP });
      await waitForBotToFinish(call, 0);
      const since = call.receivedBytes;
      call.sendDtmf('1');
      await waitForBotToFinish(call, since);
      const d = await h.conversationByCallSid(call.callSid, { ended: false });
      expect(d.conversation.state).toBe('ongoing');
      expect(h.deepgram!.rejectedUpgrades.some((r) => r.status === 401)).toBe(true);
      expect(call.closed).toBeNull();
      await call.hangUp();
    });
  }, 60_000);
});
