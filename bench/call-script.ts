/**
 * What one simulated caller does in the latency bench, and how its turns are timed. The same
 * caller code drives the engine and the bare pipeline.
 *
 * The call: greeting; "okay, got it" (acknowledgement); "March third" (date); "twelve hundred
 * fifty dollars" (amount, answered by a long read-back); "no, the amount is nine hundred" once
 * the read-back finished (correction); the same again one second into the next read-back
 * (barge-in recovery); "yes, that's correct" (confirmation). The short capacity call stops after
 * the amount turn; the warm-up call after the acknowledgement. The patience call answers the date
 * in two parts, "It was on" and, after a pause longer than Deepgram's endpointing (so the first part
 * ends with `speech_final`), "March third" (unfinished date): what semantic endpointing and the
 * endpointing patience are for. Its turn is timed from the end of the second part.
 *
 * Timing: "caller stops speaking" is the moment the simulated caller sent the last frame of its
 * utterance; the fixtures are trimmed of trailing silence (the Deepgram fake's 400 RMS threshold),
 * so that is the end of the voiced audio. First bot audio is the first `media` message the caller
 * receives after it (for barge-in recovery: after the last `clear` as well, so the tail of the
 * interrupted read-back does not count). The greeting is timed from the `start` message. Each turn
 * also records the last non-empty final transcript the Deepgram fake wrote before that audio, for
 * "STT final -> first audio" (what the pipeline adds once the transcript is known).
 */
import type { DeepgramSessionRecord } from '../test/fakes/deepgram-server.js';
import { AUDIO_FIXTURE_TEXT, loadAudioFixture, type AudioFixtureName } from '../test/fakes/fixtures.js';
import { trimTrailingSilence } from '../src/loadtest/caller-script.js';
import type { ChatCompletionRequestBody, OpenAIFakeReply } from '../test/fakes/openai-server.js';
import type { TwilioCall } from '../test/fakes/twilio-caller.js';
import { waitForBotToFinish } from '../test/support/phone-harness.js';
import { scriptedClaimModel } from '../test/support/scripted-llm.js';
import { BASELINE_MODEL } from './bench-servers.js';

/** The turn types the bench reports, in call order. */
export const TURN_TYPES = [
  'greeting',
  'acknowledgement',
  'date',
  'unfinished date',
  'amount',
  'correction',
  'barge-in recovery',
  'confirmation',
] as const;
export type TurnType = (typeof TURN_TYPES)[number];

interface CallerTurn {
  turn: Exclude<TurnType, 'greeting'>;
  fixture: AudioFixtureName;
  /** What Deepgram hears (default: the fixture's own text); one entry per part. */
  texts?: string[];
  /** A second part, said after a pause (the turn is timed from its end). */
  then?: { fixture: AudioFixtureName; pauseMs: number };
  /** Say it {@link BARGE_IN_AFTER_MS} into the bot's answer to the previous turn. */
  bargeIn?: boolean;
}

/**
 * The pause inside the unfinished date: longer than either delay setting's endpointing (120 /
 * 300 ms, so Deepgram ends the first part with `speech_final`), and short enough that the caller
 * is heard going on (VAD onset: 60 ms) before a patient engine answers: its patience (the date
 * question's 400 ms) starts at that `speech_final`, so it tolerates 120 + 400 - 60 = 460 ms of
 * silence at the shorter endpointing.
 */
export const UNFINISHED_PAUSE_MS = 350;

/**
 * How much of the bot's answer (the read-back, ≈ 2.9 s at the bench's 20 ms of audio per
 * character) the caller hears before barging in. It must stay shorter than the read-back: past its
 * end the caller waits and barges into whatever the bot says next (the no-input reprompt, 8 s on).
 */
export const BARGE_IN_AFTER_MS = 1000;

const FULL_CALL: CallerTurn[] = [
  { turn: 'acknowledgement', fixture: 'okay-got-it' },
  { turn: 'date', fixture: 'march-third' },
  { turn: 'amount', fixture: 'twelve-hundred-fifty-dollars' },
  { turn: 'correction', fixture: 'no-the-amount-is-nine-hundred' },
  { turn: 'barge-in recovery', fixture: 'no-the-amount-is-nine-hundred', bargeIn: true },
  { turn: 'confirmation', fixture: 'yes-thats-correct' },
];
const PATIENCE_CALL: CallerTurn[] = [
  FULL_CALL[0]!,
  {
    turn: 'unfinished date',
    // Any voiced audio: the fake transcribes by script. "Hello." is about as long as "It was on".
    fixture: 'hello',
    texts: ['It was on', AUDIO_FIXTURE_TEXT['march-third']],
    then: { fixture: 'march-third', pauseMs: UNFINISHED_PAUSE_MS },
  },
];
const CALLS = {
  full: FULL_CALL,
  short: FULL_CALL.slice(0, 3),
  warmup: FULL_CALL.slice(0, 1),
  patience: PATIENCE_CALL,
};

/**
 * Which call a caller places: the whole claim, up to the amount (capacity), one turn (warm-up), or
 * the acknowledgement and an unfinished date (patience).
 */
export type CallLength = keyof typeof CALLS;

/** What Deepgram hears in a call, segment by segment. */
export function callTexts(length: CallLength): string[] {
  return CALLS[length].flatMap((t) => t.texts ?? [AUDIO_FIXTURE_TEXT[t.fixture]]);
}

/**
 * The Deepgram fake's script: each connection hears its call's utterances in order (`lengthOf`
 * its call, by connection index: the bench tells the fakes which call each connection carries).
 */
export function deepgramScript(lengthOf: (session: number) => CallLength) {
  const texts = new Map<CallLength, string[]>();
  return (_global: number, session: DeepgramSessionRecord, inSession: number) => {
    const length = lengthOf(session.id);
    if (!texts.has(length)) texts.set(length, callTexts(length));
    return texts.get(length)![inSession] ?? '';
  };
}

/** How a caller's words key the engine's reply in {@link EngineWords} (case and punctuation aside). */
export function wordsKey(callerText: string): string {
  return callerText
    .toLowerCase()
    .replace(/[^a-z0-9 ]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * What the engine said, learned from one rehearsal call (bench/call-latency.ts): its greeting
 * (key `''`) and its reply to each caller utterance (key: {@link wordsKey} of the utterance).
 */
export type EngineWords = Record<string, string>;

/**
 * The OpenAI fake's script for both pipelines, every reply after `ttfbMs`. The engine's requests go
 * to the scripted claim model (tool calls, then words). The bare pipeline's (no tools) get the
 * words the engine spoke for the same caller words (`engineWords`, from the rehearsal), so both
 * pipelines speak the same audio per call and the CPU and memory per call compare like for like;
 * without them (or for words the rehearsal did not hear), the scripted model's words for the state
 * the engine reaches.
 */
export function llmScript(ttfbMs: number, engineWords: EngineWords = {}) {
  const model = scriptedClaimModel({ longReadBack: true, tweak: () => ({ ttfbMs }) });
  const stateAfter = (text: string): string => {
    const t = text.toLowerCase();
    if (/got it|okay/.test(t)) return 'claim.collectingDate';
    if (/march third/.test(t)) return 'claim.collectingAmount';
    if (/twelve hundred fifty|nine hundred/.test(t)) return 'claim.verifying';
    if (/yes|correct/.test(t)) return 'done';
    return 'unknown';
  };
  return (body: ChatCompletionRequestBody, index: number): OpenAIFakeReply => {
    if (body.model !== BASELINE_MODEL) return model(body, index);
    const lastUser = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
    const learned = engineWords[lastUser ? wordsKey(String(lastUser.content)) : ''];
    if (learned) return { text: learned, ttfbMs };
    // Ask the scripted model for the words it would speak: after a tool result, or the greeting.
    const asked: ChatCompletionRequestBody = lastUser
      ? {
          messages: [
            { role: 'tool', content: JSON.stringify({ state: stateAfter(String(lastUser.content)) }) },
          ],
        }
      : { messages: [{ role: 'system', content: 'Current step: initial. Goal' }] };
    return { text: model(asked, index).text ?? '', ttfbMs };
  };
}

const trimmed = new Map<AudioFixtureName, Buffer>();
/** A fixture without its trailing silence (see file header), as the load tester trims its audio. */
export function voicedFixture(name: AudioFixtureName): Buffer {
  let buf = trimmed.get(name);
  if (!buf) {
    buf = trimTrailingSilence(loadAudioFixture(name));
    trimmed.set(name, buf);
  }
  return buf;
}

/** One timed turn. */
export interface TurnSample {
  turn: TurnType;
  /** Caller stops speaking (or `start` sent) -> first bot audio, ms. */
  latencyMs: number;
  /** Last final transcript written -> first bot audio, ms (NaN for the greeting or when none). */
  sttFinalToAudioMs: number;
  /** Barge-in recovery only: a `clear` arrived after the caller started. */
  cleared?: boolean;
  /** Two-part turns only: bot audio reached the caller during the pause (it answered half an answer). */
  spokeInPause?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Epoch ms with sub-ms precision: the clock the callers and the fakes process share. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** Plays one call (already connected at `startedAt`, epoch ms) and returns its timed turns. */
export async function driveCall(
  call: TwilioCall,
  opts: {
    startedAt: number;
    /** Epoch ms of every non-empty final transcript the Deepgram fake sent this call (asked once it ended). */
    finals: () => Promise<number[]>;
    length: CallLength;
    /**
     * Epoch ms of every `media` message the call received, recorded from its start by whoever
     * placed it (the greeting may arrive before the call is handed over). Default: from now on.
     */
    media?: number[];
    /** Told when each caller turn ends (epoch ms), with what the caller said (all parts). */
    onTurnEnd?: (callerText: string, endAt: number) => void;
  },
): Promise<TurnSample[]> {
  const media: number[] = opts.media ?? [];
  if (!opts.media) call.on('media', () => media.push(epochNow()));
  const firstMediaAfter = (t: number) => media.find((m) => m > t);
  /** The last final sent in (from, to], or NaN. */
  const finalBetween = (finals: number[], from: number, to: number): number =>
    finals.filter((at) => at > from && at <= to).at(-1) ?? NaN;
  const timed: Array<Omit<TurnSample, 'sttFinalToAudioMs'> & { startedAt: number; first: number }> = [];
  await call.waitForMedia(1, 60_000);
  const samples: TurnSample[] = [
    { turn: 'greeting', latencyMs: media[0]! - opts.startedAt, sttFinalToAudioMs: NaN },
  ];

  const turns = CALLS[opts.length];
  let answerPlayedFrom = 0;
  for (const [i, t] of turns.entries()) {
    const last = i === turns.length - 1;
    if (t.bargeIn) {
      // BARGE_IN_AFTER_MS of the answer to the previous turn has played (8 bytes per ms).
      await call.waitFor(
        () => (call.playedBytes >= answerPlayedFrom + BARGE_IN_AFTER_MS * 8 ? true : undefined),
        30_000,
        'the read-back',
      );
    } else {
      await waitForBotToFinish(call, 0, 60_000);
    }
    const startedAt = epochNow();
    const since = call.receivedBytes;
    let firstPartEnd: number | null = null;
    if (t.then) {
      // Both parts and the pause queued on the line clock, back to back.
      await Promise.all([
        call.sendAudio(voicedFixture(t.fixture)).then(() => (firstPartEnd = epochNow())),
        call.sendSilence(t.then.pauseMs),
        call.sendAudio(voicedFixture(t.then.fixture)),
      ]);
    } else await call.sendAudio(voicedFixture(t.fixture));
    const endAt = epochNow();
    opts.onTurnEnd?.((t.texts ?? [AUDIO_FIXTURE_TEXT[t.fixture]]).join(' '), endAt);
    if (last) {
      // The engine hangs up after its goodbye; the bare pipeline doesn't: hang up once it answered.
      await call.waitForMedia(since + 1, 60_000).catch(() => {});
      await Promise.race([call.waitForClosed(60_000), waitForBotToFinish(call, since, 60_000)]).catch(
        () => {},
      );
    } else if (turns[i + 1]?.bargeIn) {
      await call.waitForMedia(since + 1, 60_000);
      answerPlayedFrom = call.playedBytes;
    } else {
      await waitForBotToFinish(call, since, 60_000);
    }
    const clears = call.clears.map((c) => performance.timeOrigin + c.at).filter((at) => at > startedAt);
    const anchor = t.bargeIn && clears.length ? Math.max(endAt, ...clears) : endAt;
    const first = firstMediaAfter(anchor);
    if (first === undefined) continue;
    timed.push({
      turn: t.turn,
      latencyMs: first - endAt,
      startedAt,
      first,
      ...(t.bargeIn ? { cleared: clears.length > 0 } : {}),
      ...(firstPartEnd !== null ? { spokeInPause: media.some((m) => m > firstPartEnd! && m <= endAt) } : {}),
    });
  }
  await call.hangUp();
  const finals = await opts.finals();
  for (const { startedAt, first, ...sample } of timed) {
    samples.push({ ...sample, sttFinalToAudioMs: first - finalBetween(finals, startedAt, first) });
  }
  return samples;
}

/** Waits `ms` (between staggered call starts). */
export const pause = sleep;
