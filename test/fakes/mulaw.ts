/**
 * G.711 mu-law helpers for the test fakes (decode for energy detection, encode for generated
 * "speech"). Kept local to the fakes on purpose: a fake must not share code with the engine it
 * checks, or a bug in the shared code would hide on both sides.
 */

/** mu-law byte -> linear 16-bit sample (ITU-T G.711), precomputed. */
export const MULAW_DECODE_TABLE: Int16Array = (() => {
  const table = new Int16Array(256);
  for (let i = 0; i < 256; i++) {
    const u = ~i & 0xff;
    const sign = u & 0x80;
    const exponent = (u >> 4) & 0x07;
    const mantissa = u & 0x0f;
    let sample = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if (sign) sample = -sample;
    table[i] = sample;
  }
  return table;
})();

/** mu-law silence (decodes to 0). */
export const MULAW_SILENCE = 0xff;

/** Encodes one linear 16-bit sample to mu-law (ITU-T G.711). */
export function encodeMulawSample(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Root-mean-square level of a run of mu-law bytes, on the 16-bit linear scale (0..32767). */
export function mulawRms(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (end <= start) return 0;
  let sum = 0;
  for (let i = start; i < end; i++) {
    const v = MULAW_DECODE_TABLE[bytes[i] ?? MULAW_SILENCE] ?? 0;
    sum += v * v;
  }
  return Math.sqrt(sum / (end - start));
}

/** Root-mean-square level of little-endian signed 16-bit PCM. */
export function pcm16Rms(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const n = Math.floor((end - start) / 2);
  if (n <= 0) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = view.getInt16(start + i * 2, true);
    sum += v * v;
  }
  return Math.sqrt(sum / n);
}

/** `ms` of mu-law silence at 8000 Hz (8 bytes per ms). */
export function mulawSilence(ms: number): Buffer {
  return Buffer.alloc(Math.round(ms * 8), MULAW_SILENCE);
}

/**
 * A deterministic mu-law tone at 8000 Hz: `durationMs` long, with 5 ms fades so it has clean
 * edges. Used as stand-in "speech" (for energy detectors, a tone is speech).
 */
export function mulawTone(
  durationMs: number,
  opts: { frequencyHz?: number; amplitude?: number } = {},
): Buffer {
  const frequency = opts.frequencyHz ?? 440;
  const amplitude = opts.amplitude ?? 8000;
  const n = Math.round(durationMs * 8);
  const fade = 40;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    const edge = Math.min(1, i / fade, (n - 1 - i) / fade);
    out[i] = encodeMulawSample(
      Math.sin((2 * Math.PI * frequency * i) / 8000) * amplitude * Math.max(0, edge),
    );
  }
  return out;
}
