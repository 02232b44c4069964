/**
 * G.711 mu-law (PCMU) codec by lookup tables.
 *
 * The phone path never transcodes: Twilio's mu-law goes to the STT as is and the TTS's mu-law goes
 * to Twilio as is. Decoding exists for the VAD (which mostly reads {@link MULAW_ENERGY} directly)
 * and for the browser client; encoding exists for the browser client only.
 *
 * Convention: the classic Sun/CCITT reference (`g711.c`, bias 0x84, clip 32635, no zero trap),
 * the same as the `alawmulaw` package: decode is bit-exact over all 256 codes and encode is
 * bit-exact over all 65536 sample values (see test/audio/mulaw.test.ts).
 *
 * Both tables are built once at module load (about 1 ms). Nothing here allocates per sample or
 * throws: malformed input (empty buffers, odd lengths, too-short `out` arrays) is handled as
 * documented on each function.
 */

/** The mu-law code of digital silence (decodes to 0). Twilio and Cartesia pad with it. */
export const MULAW_SILENCE = 0xff;
/** Sample rate of phone audio (Twilio Media Streams, Deepgram `mulaw`, Cartesia `pcm_mulaw`). */
export const SAMPLE_RATE_HZ = 8000;
/** Bytes in one 20 ms Twilio media frame (8000 Hz x 1 byte x 0.02 s). */
export const FRAME_BYTES_20MS = 160;
/** Duration of one mu-law byte at 8 kHz, in ms. */
export const MS_PER_BYTE = 1000 / SAMPLE_RATE_HZ;

const BIAS = 0x84;
const CLIP = 32635;

function decodeCode(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function encodeSample(sample: number): number {
  // Sign-magnitude (negate, not one's complement: this is what makes the result depend on all 16
  // bits for negative samples, hence the full 64 KB table below rather than a 14-bit one).
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = sign ? -sample : sample;
  magnitude += BIAS;
  if (magnitude > CLIP) magnitude = CLIP;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Linear PCM value (Int16) of each mu-law code. `MULAW_DECODE[0xff] === 0`. */
export const MULAW_DECODE: Readonly<Int16Array> = (() => {
  const t = new Int16Array(256);
  for (let c = 0; c < 256; c++) t[c] = decodeCode(c);
  return t;
})();

/**
 * mu-law code of every Int16 sample, indexed by `sample & 0xffff` (64 KB, branch-free lookup).
 * A 14-bit table (`sample >> 2`) cannot reproduce the reference for negative samples, whose
 * magnitude is taken by negation before the bias is added.
 */
export const MULAW_ENCODE: Readonly<Uint8Array> = (() => {
  const t = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = encodeSample(i >= 32768 ? i - 65536 : i);
  return t;
})();

/**
 * Normalised energy of each mu-law code: `(decoded / 32768)^2`. The mean over a frame is its
 * mean-square relative to full scale, so `10 * log10(mean)` is the frame's RMS in dBFS
 * (a full-scale square wave is 0 dBFS, a full-scale sine about -3 dBFS). Lets the VAD measure
 * loudness without decoding.
 */
export const MULAW_ENERGY: Readonly<Float64Array> = (() => {
  const t = new Float64Array(256);
  for (let c = 0; c < 256; c++) {
    const v = (MULAW_DECODE[c] ?? 0) / 32768;
    t[c] = v * v;
  }
  return t;
})();

/** Decodes one mu-law code (only the low 8 bits are used). */
export function decodeMulawSample(code: number): number {
  return MULAW_DECODE[code & 0xff] ?? 0;
}

/** Encodes one linear sample (clamped to Int16 first; non-numbers encode as 0). */
export function encodeMulawSample(sample: number): number {
  const s = sample > 32767 ? 32767 : sample < -32768 ? -32768 : sample | 0;
  return MULAW_ENCODE[s & 0xffff] ?? MULAW_SILENCE;
}

/**
 * Decodes mu-law bytes to 16-bit linear PCM.
 *
 * @param buf mu-law bytes (a Node `Buffer` works as is). Empty or missing input gives an empty array.
 * @param out optional destination, reused to avoid allocation on hot paths. When it is at least
 *   `buf.length` long the result is written into it and the returned array is `out` itself (same
 *   length) or a `subarray` view of its first `buf.length` samples (longer). When it is too short
 *   a new array is allocated (never throws, never writes out of bounds).
 * @returns `buf.length` samples.
 */
export function decodeMulaw(buf: Uint8Array, out?: Int16Array): Int16Array {
  const n = buf?.length ?? 0;
  let dst: Int16Array;
  if (out && out.length >= n) dst = out.length === n ? out : out.subarray(0, n);
  else dst = new Int16Array(n);
  const table = MULAW_DECODE;
  for (let i = 0; i < n; i++) dst[i] = table[buf[i]! & 0xff]!;
  return dst;
}

/**
 * Encodes 16-bit linear PCM to mu-law bytes.
 *
 * @param pcm samples; values outside Int16 wrap as their low 16 bits would (an `Int16Array` never
 *   holds such values). Empty or missing input gives an empty array.
 * @param out optional destination, same rules as {@link decodeMulaw}'s `out`.
 * @returns `pcm.length` bytes.
 */
export function encodeMulaw(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const n = pcm?.length ?? 0;
  let dst: Uint8Array;
  if (out && out.length >= n) dst = out.length === n ? out : out.subarray(0, n);
  else dst = new Uint8Array(n);
  const table = MULAW_ENCODE;
  for (let i = 0; i < n; i++) dst[i] = table[pcm[i]! & 0xffff]!;
  return dst;
}

/**
 * A buffer of `ms` milliseconds of mu-law silence (0xFF), rounded down to whole samples.
 * Non-finite or negative durations give an empty buffer.
 */
export function mulawSilence(ms: number): Uint8Array {
  const n = Number.isFinite(ms) && ms > 0 ? Math.floor((ms * SAMPLE_RATE_HZ) / 1000) : 0;
  return new Uint8Array(n).fill(MULAW_SILENCE);
}

/** Duration in ms of `bytes` mu-law bytes at 8 kHz (0 for non-finite or negative counts). */
export function mulawDurationMs(bytes: number): number {
  return Number.isFinite(bytes) && bytes > 0 ? bytes * MS_PER_BYTE : 0;
}
