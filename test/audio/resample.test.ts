import { createLinearResampler, resampleLinear } from '../../src/audio/resample.js';
import { rmsDbfs, sine, sineF32 } from './signals.js';

/** Zero crossings per second, a cheap frequency estimate. */
function estimateHz(x: ArrayLike<number>, rateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < x.length; i++)
    if ((x[i - 1]! < 0 && x[i]! >= 0) || (x[i - 1]! >= 0 && x[i]! < 0)) crossings++;
  return (crossings / 2) * (rateHz / x.length);
}

describe('resampleLinear', () => {
  it('turns 20 ms at 48 kHz into 160 samples at 8 kHz and keeps a 440 Hz tone', () => {
    const x = sineF32(440, 20, 0.5, 48000);
    expect(resampleLinear(x, 48000, 8000).length).toBe(160);
    const long = sineF32(440, 1000, 0.5, 48000);
    const y = resampleLinear(long, 48000, 8000);
    expect(y).toBeInstanceOf(Float32Array);
    expect(y.length).toBe(8000);
    expect(Math.abs(rmsDbfs(y, 1) - rmsDbfs(long, 1))).toBeLessThan(0.2);
    expect(estimateHz(y, 8000)).toBeCloseTo(440, -1);
  });

  it('suppresses tones above the 8 kHz Nyquist instead of folding them into the speech band', () => {
    for (const f of [5000, 6000, 10000]) {
      const x = sineF32(f, 500, 0.5, 48000);
      const y = resampleLinear(x, 48000, 8000);
      expect(rmsDbfs(y.subarray(100, -100), 1) - rmsDbfs(x, 1)).toBeLessThan(-60);
    }
    const x16 = sine(6000, 500, -10, 16000);
    const y8 = resampleLinear(x16, 16000, 8000);
    expect(rmsDbfs(y8.subarray(100, -100)) - rmsDbfs(x16)).toBeLessThan(-60);
  });

  it('upsamples 8 kHz Int16 speech-band audio to 16 and 48 kHz with the tone intact', () => {
    const x = sine(1000, 500, -20);
    for (const to of [16000, 48000]) {
      const y = resampleLinear(x, 8000, to);
      expect(y).toBeInstanceOf(Int16Array);
      expect(y.length).toBe((x.length * to) / 8000);
      expect(Math.abs(rmsDbfs(y) - rmsDbfs(x))).toBeLessThan(0.5);
      expect(estimateHz(y, to)).toBeCloseTo(1000, -1);
    }
  });

  it('clamps Int16 output and returns a copy for equal, invalid or missing rates and empty input', () => {
    const x = Int16Array.of(32767, -32768, 32767, -32768, 32767, -32768);
    for (const v of resampleLinear(x, 8000, 48000)) expect(v >= -32768 && v <= 32767).toBe(true);
    const same = resampleLinear(x, 8000, 8000);
    expect(same).not.toBe(x);
    expect(Array.from(same)).toEqual(Array.from(x));
    expect(Array.from(resampleLinear(x, Number.NaN, 8000))).toEqual(Array.from(x));
    expect(Array.from(resampleLinear(x, 0, 8000))).toEqual(Array.from(x));
    expect(resampleLinear(new Int16Array(0), 48000, 8000).length).toBe(0);
    expect(resampleLinear(Int16Array.of(5), 48000, 8000).length).toBe(0);
    expect(resampleLinear(undefined as unknown as Int16Array, 48000, 8000).length).toBe(0);
  });
});

describe('createLinearResampler', () => {
  it('streams 48 kHz chunks to 8 kHz with no clicks at chunk boundaries', () => {
    const whole = sineF32(440, 1000, 0.5, 48000);
    const r = createLinearResampler({ fromHz: 48000, toHz: 8000 });
    const parts: Float32Array[] = [];
    // Uneven chunk sizes, like a browser's AudioWorklet (128) and MediaRecorder slices.
    const sizes = [128, 960, 333, 1, 4096, 7];
    for (let o = 0, k = 0; o < whole.length; k++) {
      const n = sizes[k % sizes.length]!;
      parts.push(r.push(whole.subarray(o, o + n)));
      o += n;
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    expect(Math.abs(total - 8000)).toBeLessThanOrEqual(20); // the filter's look-ahead is held back
    const y = new Float32Array(total);
    let o = 0;
    for (const p of parts) {
      y.set(p, o);
      o += p.length;
    }
    // Streamed output equals the one-shot output away from the edges.
    const oneShot = resampleLinear(whole, 48000, 8000);
    let maxDiff = 0;
    for (let i = 50; i < total - 50; i++) maxDiff = Math.max(maxDiff, Math.abs(y[i]! - oneShot[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    // A smooth sine: no sample-to-sample jump bigger than the sine's own slope allows.
    const maxStep = 0.5 * 2 * Math.PI * (440 / 8000) * 1.05;
    for (let i = 20; i < total; i++) expect(Math.abs(y[i]! - y[i - 1]!)).toBeLessThan(maxStep);
  });

  it('streams 8 kHz Int16 frames up to 16 kHz at twice the length, and resets cleanly', () => {
    const r = createLinearResampler({ fromHz: 8000, toHz: 16000 });
    let total = 0;
    const tone = sine(500, 1000, -20);
    for (let o = 0; o < tone.length; o += 160) {
      const out = r.push(tone.subarray(o, o + 160));
      expect(out).toBeInstanceOf(Int16Array);
      total += out.length;
    }
    expect(Math.abs(total - 16000)).toBeLessThanOrEqual(2);
    r.reset();
    expect(r.push(new Int16Array(0)).length).toBe(0);
    expect(r.push(new Int16Array(160)).length).toBeGreaterThanOrEqual(318);
  });

  it('passes audio through unchanged when the rates are equal or invalid', () => {
    const x = Int16Array.of(1, 2, 3);
    expect(Array.from(createLinearResampler({ fromHz: 8000, toHz: 8000 }).push(x))).toEqual([1, 2, 3]);
    expect(Array.from(createLinearResampler({ fromHz: -1, toHz: 8000 }).push(x))).toEqual([1, 2, 3]);
  });
});
