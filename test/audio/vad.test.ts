import { encodeMulaw, FRAME_BYTES_20MS, mulawSilence } from '../../src/audio/mulaw.js';
import { createEnergyVad, type Vad, type VadEvent } from '../../src/audio/vad.js';
import { concat, mix, noise, silencePcm, sine, toFrames } from './signals.js';

const FRAME_MS = 20;

/** Feeds PCM through a VAD as Twilio-sized mu-law frames; returns events with the frame time they came out at. */
function run(vad: Vad, pcm: Int16Array, frameBytes = FRAME_BYTES_20MS, t0Ms = 0) {
  const out: { event: VadEvent; emittedAtMs: number }[] = [];
  for (const { frame, atMs } of toFrames(pcm, frameBytes, t0Ms)) {
    for (const event of vad.push(frame, atMs)) out.push({ event, emittedAtMs: atMs + frame.length / 8 });
  }
  return out;
}

describe('energy VAD', () => {
  it('reports no speech in digital silence or in a quiet line noise', () => {
    const vad = createEnergyVad();
    expect(run(vad, silencePcm(3000))).toEqual([]);
    expect(run(vad, noise(5000, -60, 7), FRAME_BYTES_20MS, 3000)).toEqual([]);
    expect(vad.speaking).toBe(false);
    // Twilio's idle frames are all 0xFF.
    for (let t = 8000; t < 9000; t += FRAME_MS) expect(vad.push(mulawSilence(20), t)).toHaveLength(0);
  });

  it('reports a 400 ms 440 Hz tone burst at -20 dBFS as one speech segment with onset and end within a frame', () => {
    const vad = createEnergyVad({ startMs: 60, hangoverMs: 500 });
    const pcm = concat(silencePcm(1000), sine(440, 400, -20), silencePcm(1500));
    const events = run(vad, pcm);
    expect(events.map((e) => e.event.type)).toEqual(['speech.started', 'speech.stopped']);
    const [started, stopped] = events;
    expect(Math.abs(started!.event.atMs - 1000)).toBeLessThanOrEqual(FRAME_MS);
    // Reported as soon as 60 ms of it were heard.
    expect(Math.abs(started!.emittedAtMs - 1060)).toBeLessThanOrEqual(FRAME_MS);
    if (stopped!.event.type !== 'speech.stopped') throw new Error('expected speech.stopped');
    expect(Math.abs(stopped!.event.atMs - 1400)).toBeLessThanOrEqual(FRAME_MS);
    expect(Math.abs(stopped!.event.durationMs - 400)).toBeLessThanOrEqual(FRAME_MS);
    // ...and after the 500 ms hangover.
    expect(Math.abs(stopped!.emittedAtMs - 1900)).toBeLessThanOrEqual(FRAME_MS);
  });

  it('keeps the timing when frames are not 20 ms long or start mid-stream', () => {
    const vad = createEnergyVad();
    const pcm = concat(silencePcm(500), sine(440, 400, -20), silencePcm(1000));
    const events = run(vad, pcm, 100, 12_345); // 12.5 ms frames, stream clock starting at 12 345 ms
    expect(events.map((e) => e.event.type)).toEqual(['speech.started', 'speech.stopped']);
    expect(Math.abs(events[0]!.event.atMs - 12_845)).toBeLessThanOrEqual(FRAME_MS);
    expect(Math.abs(events[1]!.event.atMs - 13_245)).toBeLessThanOrEqual(FRAME_MS);
  });

  it('ignores a 30 ms click, whether aligned to a frame or straddling frame boundaries', () => {
    for (const offsetMs of [0, 5, 10, 15]) {
      const vad = createEnergyVad({ startMs: 60 });
      const click = mix(noise(30, -10, 3), sine(1000, 30, -10));
      const pcm = concat(silencePcm(1000 + offsetMs), click, silencePcm(1000));
      expect(run(vad, pcm)).toEqual([]);
    }
  });

  it('uses the hangover set for the turn: a short one ends speech sooner, and it applies mid-speech', () => {
    const vad = createEnergyVad({ hangoverMs: 500 });
    vad.setHangoverMs(200);
    const events = run(vad, concat(silencePcm(200), sine(300, 400, -20), silencePcm(600)));
    expect(Math.abs(events[1]!.emittedAtMs - 800)).toBeLessThanOrEqual(FRAME_MS);
    vad.setHangoverMs(Number.NaN); // ignored
    vad.setHangoverMs(-1); // ignored
    const later = run(vad, concat(sine(300, 400, -20), silencePcm(600)), FRAME_BYTES_20MS, 1200);
    expect(Math.abs(later[1]!.emittedAtMs - 1800)).toBeLessThanOrEqual(FRAME_MS);
  });

  it('does not end speech on the short pauses between words', () => {
    const vad = createEnergyVad({ hangoverMs: 500 });
    const word = () => sine(220, 250, -22);
    const pcm = concat(
      silencePcm(300),
      word(),
      silencePcm(150),
      word(),
      silencePcm(300),
      word(),
      silencePcm(800),
    );
    const events = run(vad, pcm);
    expect(events.map((e) => e.event.type)).toEqual(['speech.started', 'speech.stopped']);
    const stopped = events[1]!.event;
    expect(stopped.type === 'speech.stopped' && Math.abs(stopped.durationMs - 1200)).toBeLessThanOrEqual(
      FRAME_MS,
    );
  });

  it('learns a steady noise floor from the start and never takes the noise for speech', () => {
    const vad = createEnergyVad();
    expect(run(vad, noise(4000, -35, 11))).toEqual([]);
    expect(vad.noiseFloorDbfs).toBeGreaterThan(-40);
    expect(vad.noiseFloorDbfs).toBeLessThan(-33);
    expect(vad.thresholdDbfs).toBeGreaterThan(-30);
    // Speech well above that noise is still detected.
    const speech = mix(noise(600, -35, 12), sine(440, 600, -15));
    const events = run(vad, concat(speech, noise(1000, -35, 13)), FRAME_BYTES_20MS, 4000);
    expect(events.map((e) => e.event.type)).toEqual(['speech.started', 'speech.stopped']);
    expect(Math.abs(events[0]!.event.atMs - 4000)).toBeLessThanOrEqual(FRAME_MS);
  });

  it('absorbs a noise bed that starts mid-call into the floor within the floor window', () => {
    const vad = createEnergyVad({ floorWindowMs: 3000, hangoverMs: 500 });
    run(vad, noise(2000, -65, 21));
    expect(vad.noiseFloorDbfs).toBeLessThan(-60);
    // A fan switches on at -38 dBFS: at first louder than floor + margin, so it looks like speech...
    const events = run(vad, noise(6000, -38, 22), FRAME_BYTES_20MS, 2000);
    expect(events.map((e) => e.event.type)).toEqual(['speech.started', 'speech.stopped']);
    // ...until the floor window has seen only the fan: then the "speech" ends after the hangover.
    expect(events[1]!.emittedAtMs).toBeLessThanOrEqual(2000 + 3000 + 250 + 500 + FRAME_MS);
    expect(vad.noiseFloorDbfs).toBeGreaterThan(-43);
    expect(vad.speaking).toBe(false);
    // And a talker over the fan is heard.
    const talk = run(vad, mix(noise(500, -38, 23), sine(440, 500, -18)), FRAME_BYTES_20MS, 8000);
    expect(talk.map((e) => e.event.type)).toEqual(['speech.started']);
  });

  it('reset forgets speech in progress and the noise floor, but keeps the hangover set', () => {
    const vad = createEnergyVad({ hangoverMs: 500 });
    vad.setHangoverMs(100);
    run(vad, noise(3500, -35, 5));
    run(vad, sine(440, 200, -15), FRAME_BYTES_20MS, 3500);
    expect(vad.speaking).toBe(true);
    vad.reset();
    expect(vad.speaking).toBe(false);
    expect(vad.noiseFloorDbfs).toBe(-100);
    const events = run(vad, concat(noise(100, -60, 6), sine(440, 200, -20), silencePcm(300)));
    expect(events.map((e) => e.event.type)).toEqual(['speech.started', 'speech.stopped']);
    expect(Math.abs(events[1]!.emittedAtMs - 400)).toBeLessThanOrEqual(FRAME_MS);
  });

  it('detects a caller already talking when the stream starts at the first dip between syllables', () => {
    // The floor is learned from the audio itself, so the very first syllable is taken as the floor;
    // the first pause pulls the floor down and the next syllable counts.
    const vad = createEnergyVad();
    const syllable = () => sine(180, 180, -20);
    const dip = () => noise(80, -55, 9);
    const events = run(vad, concat(syllable(), dip(), syllable(), dip(), syllable(), silencePcm(700)));
    expect(events.map((e) => e.event.type)).toEqual(['speech.started', 'speech.stopped']);
    expect(Math.abs(events[0]!.event.atMs - 260)).toBeLessThanOrEqual(FRAME_MS);
  });

  it('never throws on malformed frames or times', () => {
    const vad = createEnergyVad({ startMs: Number.NaN, hangoverMs: -5, marginDb: Infinity });
    expect(vad.push(new Uint8Array(0), 0)).toEqual([]);
    expect(vad.push(undefined as unknown as Uint8Array, 0)).toEqual([]);
    expect(vad.push(null as unknown as Uint8Array, Number.NaN)).toEqual([]);
    expect(() => vad.push(Uint8Array.of(0x00), Number.NaN)).not.toThrow();
    expect(() => vad.push(encodeMulaw(sine(440, 21.125, -20)), Number.POSITIVE_INFINITY)).not.toThrow();
    expect(() => vad.push([1, 2, 3] as unknown as Uint8Array, 0)).not.toThrow();
    expect(() => vad.push(Buffer.alloc(161, 0x00), 40)).not.toThrow();
    // A non-finite time continues from the previous frame's end.
    const v2 = createEnergyVad();
    run(v2, silencePcm(100));
    const tone = encodeMulaw(sine(440, 20, -20));
    const got: VadEvent[] = [];
    for (let i = 0; i < 5; i++) got.push(...v2.push(tone, Number.NaN));
    expect(got).toEqual([{ type: 'speech.started', atMs: 100 }]);
  });

  it('returns a shared frozen empty array for the common no-event frame', () => {
    const vad = createEnergyVad();
    const a = vad.push(mulawSilence(20), 0);
    const b = vad.push(mulawSilence(20), 20);
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });
});
