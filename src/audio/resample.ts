/**
 * Sample-rate conversion for the browser path only (48 kHz / 16 kHz microphone and speaker audio
 * <-> 8 kHz phone audio). The phone path never resamples.
 *
 * Method: linear interpolation; when downsampling, a windowed-sinc low-pass (Blackman window,
 * cutoff at 90% of the target Nyquist, unity DC gain) is applied first so that energy above the
 * target Nyquist does not fold back into the speech band. Upsampling uses plain linear
 * interpolation (its images are attenuated by the interpolator and sit above what an 8 kHz
 * source can carry anyway). Good enough for speech, cheap enough per 20 ms frame.
 *
 * Two forms:
 * - {@link resampleLinear}: one buffer in isolation (edges hold the first/last sample);
 * - {@link createLinearResampler}: a stream of chunks with filter history carried across chunk
 *   boundaries (no clicks at boundaries), for live audio.
 *
 * Samples: `Int16Array` in, `Int16Array` out (rounded, clamped); `Float32Array` in, `Float32Array`
 * out (Web Audio scale, not clamped). Nothing throws: invalid rates return a copy of the input.
 */

/** Linear PCM as the browser path carries it. */
export type PcmArray = Int16Array | Float32Array;

interface LowPass {
  /** Taps, indexed 0..2*half. */
  taps: Float64Array;
  /** Taps on each side of the centre tap. */
  half: number;
}

const lowPassCache = new Map<string, LowPass>();

function validRate(hz: number): boolean {
  return typeof hz === 'number' && Number.isFinite(hz) && hz > 0 && hz <= 1_000_000;
}

/** Windowed-sinc low-pass for decimating `fromHz` to `toHz` (identity when not downsampling). */
function lowPassFor(fromHz: number, toHz: number): LowPass {
  const key = `${fromHz}/${toHz}`;
  const cached = lowPassCache.get(key);
  if (cached) return cached;
  let lp: LowPass;
  if (toHz >= fromHz) {
    lp = { taps: Float64Array.of(1), half: 0 };
  } else {
    const ratio = fromHz / toHz;
    // Normalised cutoff (cycles per input sample): 90% of the target Nyquist.
    const fc = (0.5 * 0.9) / ratio;
    // About eight sinc lobes each side (97 taps at 6:1). Measured at 48k->8k: -0.8 dB at 3 kHz,
    // -3.5 dB at 3.4 kHz, -6 dB at 3.6 kHz; aliases from 4.5 kHz down -34 dB, from 5 kHz -77 dB.
    const half = Math.min(256, Math.ceil(8 * ratio));
    const taps = new Float64Array(2 * half + 1);
    let sum = 0;
    for (let m = -half; m <= half; m++) {
      const x = 2 * fc * m;
      const sinc = m === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w =
        0.42 + 0.5 * Math.cos((Math.PI * m) / (half + 1)) + 0.08 * Math.cos((2 * Math.PI * m) / (half + 1));
      const v = 2 * fc * sinc * w;
      taps[m + half] = v;
      sum += v;
    }
    for (let i = 0; i < taps.length; i++) taps[i] = taps[i]! / sum;
    lp = { taps, half };
  }
  if (lowPassCache.size > 32) lowPassCache.clear();
  lowPassCache.set(key, lp);
  return lp;
}

/** Low-passed value at integer index k of `x[0..len)`, edges held (index clamped). */
function filteredAt(x: Float64Array, len: number, k: number, taps: Float64Array, half: number): number {
  const last = len - 1;
  if (half === 0) return x[k < 0 ? 0 : k > last ? last : k]!;
  let acc = 0;
  if (k - half >= 0 && k + half <= last) {
    const base = k - half;
    for (let m = 0; m < taps.length; m++) acc += taps[m]! * x[base + m]!;
    return acc;
  }
  for (let m = -half; m <= half; m++) {
    let i = k + m;
    if (i < 0) i = 0;
    else if (i > last) i = last;
    acc += taps[m + half]! * x[i]!;
  }
  return acc;
}

/**
 * Renders `count` outputs from `x[0..len)`, the first at input position `pos0`, one every `ratio`
 * input samples, straight into a new array of the requested type (one allocation: typed-array
 * allocations dominate the cost at these sizes). Input is always a Float64Array so the filter
 * loop stays monomorphic whatever the caller's sample type.
 */
function render(
  x: Float64Array,
  len: number,
  pos0: number,
  ratio: number,
  count: number,
  lp: LowPass,
  asFloat32: boolean,
): PcmArray {
  const { taps, half } = lp;
  const out: PcmArray = asFloat32 ? new Float32Array(count) : new Int16Array(count);
  const last = len - 1;
  for (let j = 0; j < count; j++) {
    const pos = pos0 + j * ratio;
    const k = Math.floor(pos);
    const frac = pos - k;
    let v: number;
    if (half === 0) {
      // Upsampling: plain linear interpolation.
      const a = x[k < 0 ? 0 : k > last ? last : k]!;
      v = frac === 0 ? a : a + (x[k + 1 > last ? last : k + 1]! - a) * frac;
    } else {
      const a = filteredAt(x, len, k, taps, half);
      v = frac === 0 ? a : a + (filteredAt(x, len, k + 1, taps, half) - a) * frac;
    }
    if (asFloat32) out[j] = v;
    else {
      const r = Math.round(v);
      out[j] = r > 32767 ? 32767 : r < -32768 ? -32768 : r;
    }
  }
  return out;
}

function copyOf(pcm: PcmArray | null | undefined): PcmArray {
  if (pcm instanceof Float32Array) return pcm.slice();
  if (pcm && typeof pcm.length === 'number' && pcm.length > 0 && ArrayBuffer.isView(pcm)) return pcm.slice();
  return new Int16Array(0);
}

/**
 * Resamples one buffer from `fromHz` to `toHz` (e.g. 48000 -> 8000, 8000 -> 16000).
 *
 * Output length is `round(pcm.length * toHz / fromHz)`; output sample j sits at input position
 * `j * fromHz / toHz`, so sample 0 is aligned with input sample 0. Edges hold the first/last input
 * sample, so chunking a stream through this function gives small discontinuities at chunk
 * boundaries: use {@link createLinearResampler} for live audio.
 *
 * Failure semantics: never throws. Equal rates, non-finite/non-positive rates, or an empty input
 * return a copy of the input (an empty `Int16Array` for a missing input).
 */
export function resampleLinear(pcm: Int16Array, fromHz: number, toHz: number): Int16Array;
export function resampleLinear(pcm: Float32Array, fromHz: number, toHz: number): Float32Array;
export function resampleLinear(pcm: PcmArray, fromHz: number, toHz: number): PcmArray;
export function resampleLinear(pcm: PcmArray, fromHz: number, toHz: number): PcmArray {
  const n = pcm?.length ?? 0;
  if (n === 0 || !validRate(fromHz) || !validRate(toHz) || fromHz === toHz) return copyOf(pcm);
  const outLen = Math.max(0, Math.round((n * toHz) / fromHz));
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = pcm[i]!;
  return render(x, n, 0, fromHz / toHz, outLen, lowPassFor(fromHz, toHz), pcm instanceof Float32Array);
}

/** A stateful resampler for a live stream of chunks. One per stream and direction. */
export interface LinearResampler {
  readonly fromHz: number;
  readonly toHz: number;
  /**
   * Resamples the next chunk. Returns the output that chunk completes: about
   * `chunk.length * toHz / fromHz` samples, give or take one (the fractional position and the
   * filter's look-ahead of a few input samples carry over to the next call). Output type follows
   * the input type. An empty chunk returns an empty array.
   */
  push(chunk: Int16Array): Int16Array;
  push(chunk: Float32Array): Float32Array;
  /** Forgets history (e.g. a new stream). */
  reset(): void;
}

/**
 * Creates a {@link LinearResampler}. Lifecycle: create per stream, `push` chunks in order, `reset`
 * or drop it when the stream ends; there is nothing to close. The stream is taken to start with
 * silence, so the first output sample is aligned with the first input sample.
 *
 * Failure semantics: never throws; invalid rates give a pass-through resampler (copies).
 */
export function createLinearResampler(opts: { fromHz: number; toHz: number }): LinearResampler {
  const fromHz = opts?.fromHz;
  const toHz = opts?.toHz;
  const passThrough = !validRate(fromHz) || !validRate(toHz) || fromHz === toHz;
  const ratio = passThrough ? 1 : fromHz / toHz;
  const lp = passThrough ? { taps: Float64Array.of(1), half: 0 } : lowPassFor(fromHz, toHz);
  const half = lp.half;

  // buf[0..len) holds the input samples still needed; `pos` is the next output's position in it.
  let buf = new Float64Array(1024);
  let len = 0;
  let pos = 0;

  const init = (): void => {
    len = half; // leading silence: the filter's history before the first sample
    buf.fill(0, 0, half);
    pos = half;
  };
  init();

  function push(chunk: Int16Array): Int16Array;
  function push(chunk: Float32Array): Float32Array;
  function push(chunk: PcmArray): PcmArray {
    const n = chunk?.length ?? 0;
    const isFloat = chunk instanceof Float32Array;
    if (passThrough || n === 0) return copyOf(chunk);
    if (len + n > buf.length) {
      const bigger = new Float64Array(Math.max(buf.length * 2, len + n));
      bigger.set(buf.subarray(0, len));
      buf = bigger;
    }
    for (let i = 0; i < n; i++) buf[len + i] = chunk[i]!;
    len += n;

    // An output at `pos` needs the filtered value at floor(pos) (and at floor(pos)+1 unless pos is
    // whole), each with `half` samples of look-ahead: count the outputs this input completes.
    let avail = 0;
    for (;;) {
      const p = pos + avail * ratio; // the same arithmetic as render() uses
      const k = Math.floor(p);
      if ((p === k ? k : k + 1) + half > len - 1) break;
      avail++;
    }
    const out = render(buf, len, pos, ratio, avail, lp, isFloat);
    pos += avail * ratio;
    // Drop what no future output needs (keep `half` samples of history before floor(pos)).
    const keepFrom = Math.max(0, Math.min(len, Math.floor(pos) - half));
    if (keepFrom > 0) {
      buf.copyWithin(0, keepFrom, len);
      len -= keepFrom;
      pos -= keepFrom;
    }
    return out;
  }

  return {
    fromHz,
    toHz,
    push,
    reset: init,
  };
}
