/**
 * Synthetic test signals for the audio tests (deterministic: no Math.random).
 * Levels are RMS dBFS relative to a full-scale square wave (32768), the VAD's convention:
 * a sine at -20 dBFS RMS has a peak of 0.1 * sqrt(2) full scale.
 */
import { encodeMulaw, FRAME_BYTES_20MS } from '../../src/audio/mulaw.js';

export const FS = 32768;

export function dbToAmplitude(dbfsRms: number): number {
  return FS * 10 ** (dbfsRms / 20);
}

/** A sine of `ms` at `dbfsRms` (RMS), as Int16 PCM. */
export function sine(freqHz: number, ms: number, dbfsRms: number, rateHz = 8000, phase = 0): Int16Array {
  const n = Math.round((ms * rateHz) / 1000);
  const peak = dbToAmplitude(dbfsRms) * Math.SQRT2;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.round(peak * Math.sin(phase + (2 * Math.PI * freqHz * i) / rateHz));
  return out;
}

/** Same as {@link sine} but Float32 in Web Audio scale (1.0 = full scale). */
export function sineF32(freqHz: number, ms: number, peak: number, rateHz: number): Float32Array {
  const n = Math.round((ms * rateHz) / 1000);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = peak * Math.sin((2 * Math.PI * freqHz * i) / rateHz);
  return out;
}

/** Deterministic uniform white noise at `dbfsRms` (RMS), as Int16 PCM. */
export function noise(ms: number, dbfsRms: number, seed = 1, rateHz = 8000): Int16Array {
  const n = Math.round((ms * rateHz) / 1000);
  // Uniform on [-a, a] has RMS a / sqrt(3).
  const a = dbToAmplitude(dbfsRms) * Math.sqrt(3);
  let s = seed >>> 0 || 1;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = Math.max(-32768, Math.min(32767, Math.round((s / 0xffffffff) * 2 * a - a)));
  }
  return out;
}

export function silencePcm(ms: number, rateHz = 8000): Int16Array {
  return new Int16Array(Math.round((ms * rateHz) / 1000));
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Sample-wise sum (clamped). */
export function mix(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-32768, Math.min(32767, (a[i] ?? 0) + (b[i] ?? 0)));
  return out;
}

/** Splits mu-law audio into frames of `frameBytes`, with their start time (ms), like Twilio media. */
export function toFrames(
  pcm: Int16Array,
  frameBytes = FRAME_BYTES_20MS,
  t0Ms = 0,
): { frame: Uint8Array; atMs: number }[] {
  const mu = encodeMulaw(pcm);
  const frames: { frame: Uint8Array; atMs: number }[] = [];
  for (let o = 0; o < mu.length; o += frameBytes) {
    frames.push({ frame: mu.subarray(o, Math.min(mu.length, o + frameBytes)), atMs: t0Ms + o / 8 });
  }
  return frames;
}

export function rmsDbfs(pcm: ArrayLike<number>, scale = FS): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += (pcm[i]! / scale) ** 2;
  return 10 * Math.log10(sum / Math.max(1, pcm.length));
}
