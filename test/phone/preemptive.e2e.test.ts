/**
 * Preemptive generation through the real server path: a simulated Twilio caller, the real
 * Deepgram / OpenAI / Cartesia SDKs against their fakes, the store. The caller says the first part
 * of an answer that looks unfinished and pauses long enough for Deepgram to end the segment
 * (`speech_final`); in the split cases the caller goes on within the claim state's endpointing
 * patience, and Deepgram sends a second final for the rest.
 *
 * A reply prepared during the patience synthesizes on its own Cartesia context (`t<turn>-held<n>`).
 * The caller never gets a byte of a discarded one (every byte it received is accounted for by the
 * other contexts), and nothing of it reaches the transcript, the LLM context or the claim. When the
 * caller does not go on, the held reply itself is what the caller hears.
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
/** The Cartesia context of the first reply prepared in a call (turn 3: the date answer). */
const HELD = 't3-held1';
/**
 * The caller's pause inside the answer, in audio time: longer than the 300 ms Deepgram needs to
 * end the segment (`speech_final`), and at the caller's 8x pace (75 ms) well inside the patience.
 */
const PAUSE_MS = 600;
/**
 * What the scripted model answers to the unfinished "It was on": long, streamed slowly, and worded
 * unlike anything the prompt or the machines say (a leak of it anywhere is the discarded reply's).
 */
const PREPARED_MARK = 'Held-reply marker';
const PREPARED_REPLY =
  `Sorry? ${PREPARED_MARK}. I only need the day the incident happened, for example the fifth of June. `.repeat(
    3,
  );

const say = (call: TwilioCall, name: AudioFixtureName) =>
  sayAndWait(call, loadAudioFixture(name), { speedup: SPEEDUP });

async function withCall(utterances: string[], body: (h: PhoneHarness, call: TwilioCall) => Promise<void>) {
  const h = await startPhoneHarness({
    today: TODAY,
    // The state's 400 ms patience, stretched tenfold: on a loaded machine a stall of the one event
    // loop (server, fakes and caller share it) must not outlast it before the caller goes on.
    timings: { endpointingPatienceScale: 10 },
    // Interim results every 100 ms of audio: the engine learns quickly that the caller went on.
    deepgram: { utterances, interimIntervalMs: 100 },
    openai: {
      replies: scriptedClaimModel({
        tweak: (_i, b) => {
          const last = b.messages?.at(-1);
          return last?.role === 'user' && String(last.content) === 'It was on'
            ? { text: PREPARED_REPLY, interTokenMs: 25 }
            : {};
        },
      }),
    },
    cartesia: {},
  });
  try {
    const call = await h.call({ speedup: SPEEDUP });
    await waitForBotToFinish(call, 0);
    await say(call, 'okay-got-it');
    await body(h, call);
  } finally {
    await h.close();
  }
}

/**
 * The caller's answer in two parts, queued back to back on the line: the first part, a pause that
 * ends Deepgram's segment (speech_final), then (unless `second` is null) more words.
 */
async function sayInTwoParts(call: TwilioCall, second: AudioFixtureName | null) {
  const since = call.receivedBytes;
  await Promise.all([
    call.sendAudio(loadAudioFixture('march-third'), { speedup: SPEEDUP }),
    call.sendSilence(PAUSE_MS, { speedup: SPEEDUP }),
    ...(second ? [call.sendAudio(loadAudioFixture(second), { speedup: SPEEDUP })] : []),
  ]);
  await waitForBotToFinish(call, since);
}

/** Bytes of audio Cartesia produced for the contexts whose audio may reach the caller. */
const deliverable = (cartesia: CartesiaFake, except: string[] = []) =>
  cartesia.contexts.filter((c) => !except.includes(c.contextId)).reduce((n, c) => n + c.audioBytesSent, 0);

/** The first reply prepared in the call was dropped (or the caller went on before it was voiced). */
function expectDiscarded(cartesia: CartesiaFake) {
  const held = cartesia.context(HELD);
  if (held) expect(held.cancelled || held.done).toBe(true);
}

const claimEvents = (d: { transitions: { actor: string; event_type: string }[] }, type: string) =>
  d.transitions.filter((t) => t.actor === 'claim' && t.event_type === type);

describe('preemptive generation (whole phone path)', () => {
  it('discards the reply prepared for "It was on" when the caller goes on, and answers the whole utterance once', async () => {
    const script = [
      'Okay, got it.',
      'It was on',
      'March third.',
      AUDIO_FIXTURE_TEXT['twelve-hundred-fifty-dollars'],
    ];
    await withCall(script, async (h, call) => {
      const cartesia = h.cartesia!;
      const openai = h.openai!;
      const before = call.receivedBytes;
      await sayInTwoParts(call, 'march-third');
      await say(call, 'twelve-hundred-fifty-dollars');
      await call.hangUp();
      const d = await h.conversationByCallSid(call.callSid);

      // The prepared reply was dropped: its LLM request (a long, slow stream) aborted, its TTS
      // context cancelled (or never opened, if the caller went on before its first sentence).
      const prepared = openai.requests.filter(
        (r) => String(r.body?.messages?.at(-1)?.content) === 'It was on',
      );
      expect(prepared.length).toBeLessThanOrEqual(1);
      expect(prepared.every((r) => r.aborted && !r.completed)).toBe(true);
      expectDiscarded(cartesia);
      // Not a byte of it reached the caller: everything received is the other contexts' audio.
      expect(call.receivedBytes).toBe(deliverable(cartesia, [HELD]));
      expect(call.receivedBytes).toBeGreaterThan(before);

      // One reply, for the whole utterance; nothing of the discarded one in the transcript or the
      // LLM context.
      expect(d.messages.filter((m) => m.role === 'user').map((m) => m.text)).toEqual([
        'Okay, got it.',
        'It was on March third.',
        'Twelve hundred fifty dollars.',
      ]);
      const bot = d.messages.filter((m) => m.role === 'assistant');
      expect(bot.filter((m) => m.turn === 3)).toHaveLength(1);
      expect(bot.map((m) => m.text).join(' ')).not.toContain(PREPARED_MARK);
      for (const r of openai.requests) expect(JSON.stringify(r.body?.messages)).not.toContain(PREPARED_MARK);
      expect(claimEvents(d, 'claim.date.provided')).toHaveLength(1);
      expect(d.conversation).toMatchObject({ claim_date: '2026-03-03', claim_amount: 1250 });
      expect(d.metrics).toMatchObject({ prepared_turns_committed: 0, prepared_turns_discarded: 1 });
    });
  }, 120_000);

  it('never applies the claim events of a discarded prepared reply, and those of the full answer once', async () => {
    await withCall(['Okay, got it.', 'March third and', 'twelve hundred fifty dollars.'], async (h, call) => {
      const cartesia = h.cartesia!;
      // The fast path reads a date from "March third and" (applied to a copy of the claim) and the
      // reply synthesizes, held, while the caller goes on with the amount.
      await sayInTwoParts(call, 'twelve-hundred-fifty-dollars');
      await call.hangUp();
      const d = await h.conversationByCallSid(call.callSid);

      expectDiscarded(cartesia);
      expect(call.receivedBytes).toBe(deliverable(cartesia, [HELD]));
      expect(claimEvents(d, 'claim.date.provided')).toHaveLength(1);
      expect(claimEvents(d, 'claim.amount.provided')).toHaveLength(1);
      const tools = d.messages.filter((m) => m.role === 'tool').map((m) => /^\w+/.exec(m.text)?.[0]);
      expect(tools).toEqual(['claim_number_acknowledged', 'claim_date_provided', 'claim_amount_provided']);
      expect(d.messages.filter((m) => m.role === 'user').map((m) => m.text)).toEqual([
        'Okay, got it.',
        'March third and twelve hundred fifty dollars.',
      ]);
      expect(d.conversation).toMatchObject({ claim_date: '2026-03-03', claim_amount: 1250 });
      expect(d.metrics).toMatchObject({ prepared_turns_committed: 0, prepared_turns_discarded: 1 });
    });
  }, 120_000);

  it('sends the held reply itself when the caller says nothing more: one generation, all of it heard', async () => {
    await withCall(['Okay, got it.', 'March third and'], async (h, call) => {
      const cartesia = h.cartesia!;
      await sayInTwoParts(call, null);
      await call.hangUp();
      const d = await h.conversationByCallSid(call.callSid);

      // The turn's audio is the prepared context's (started before the turn was confirmed); no
      // second synthesis of the same turn, and every byte of it went out.
      expect(cartesia.context(HELD)).toMatchObject({ cancelled: false, done: true });
      expect(cartesia.context('t3')).toBeUndefined();
      expect(call.receivedBytes).toBe(deliverable(cartesia));
      expect(claimEvents(d, 'claim.date.provided')).toHaveLength(1);
      const turn3 = d.messages.filter((m) => m.role === 'assistant' && m.turn === 3);
      expect(turn3.map((m) => m.text)).toEqual([
        cartesia.context(HELD)!.transcripts.join(' ').replace(/\s+/g, ' ').trim(),
      ]);
      expect(d.messages.filter((m) => m.role === 'user').map((m) => m.text)).toEqual([
        'Okay, got it.',
        'March third and',
      ]);
      expect(d.conversation).toMatchObject({ claim_date: '2026-03-03' });
      expect(d.metrics).toMatchObject({ prepared_turns_committed: 1, prepared_turns_discarded: 0 });
    });
  }, 120_000);
});
