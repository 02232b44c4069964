/**
 * Voice activity detection on the data plane: mu-law frames in, a few speech events out.
 *
 * The VAD turns per-frame audio (50 frames a second per call) into control-plane facts the call
 * machine cares about (`user.speech.started` / `user.speech.stopped`): dozens per call, never one
 * per frame. It runs for every inbound Twilio frame of every call, so the energy implementation
 * here decodes nothing and allocates nothing on frames that produce no event.
 */
import { MULAW_ENERGY, SAMPLE_RATE_HZ } from './mulaw.js';
import { createSpeechSegmenter, finiteOr, type VadEvent } from './speech-segmenter.js';

/** A speech boundary (defined with the start/hangover rule that produces it). */
export type { VadEvent } from './speech-segmenter.js';

/**
 * A voice activity detector for one audio stream (one call's inbound track).
 *
 * Implementations: {@link createEnergyVad} (energy + adaptive noise floor, no dependencies; the
 * default) and `createSileroVad` in ./silero-vad.ts (Silero v5 on the optional `onnxruntime-node`,
 * selected with `VAD=silero`; robust to steady noise and tones, ~0.1 ms of CPU per frame). Callers
 * must rely only on what this interface promises.
 *
 * Lifecycle: create one per stream, `push` every frame in order, `reset` when the stream restarts,
 * drop it when the call ends (nothing to close). Single-threaded, synchronous.
 *
 * Failure semantics: no method throws. Malformed frames (empty, odd lengths, not a byte array)
 * produce no events and do not disturb state more than their duration implies.
 */
export interface Vad {
  /**
   * Feeds one frame of mu-law 8 kHz audio that starts at `atMs`. Returns the events it caused, in
   * order: usually none, at most a `speech.stopped` followed by a `speech.started`. The returned
   * array must not be mutated (an empty result is a shared frozen array).
   */
  push(frame: Uint8Array, atMs: number): readonly VadEvent[];
  /**
   * Silence needed before speech counts as stopped, from now on (also applies to silence already
   * counted). Set per call or per turn (shorter when a short answer is expected). Non-finite or
   * negative values are ignored.
   */
  setHangoverMs(ms: number): void;
  /**
   * Forgets all audio history (speech state, noise floor) but keeps configuration, including the
   * last `setHangoverMs`. Speech in progress ends silently (no `speech.stopped`).
   */
  reset(): void;
  /** True between a `speech.started` and the next `speech.stopped`. */
  readonly speaking: boolean;
}

/** Tuning of {@link createEnergyVad}. Every field is optional; defaults suit 8 kHz phone speech. */
export interface EnergyVadOptions {
  /** Loud audio needed (uninterrupted) before speech counts as started. Default 60. */
  startMs?: number;
  /** Quiet audio needed before speech counts as stopped. Default 500. */
  hangoverMs?: number;
  /** Speech must be this far above the noise floor. Default 10 dB. */
  marginDb?: number;
  /** Absolute minimum speech level, whatever the floor. Default -45 dBFS (RMS). */
  minSpeechDbfs?: number;
  /** Once speaking, the threshold drops by this much (hysteresis against chatter). Default 3 dB. */
  hysteresisDb?: number;
  /**
   * Window of the noise-floor tracker: the floor is the quietest 10 ms block level seen over about
   * this long (minimum statistics). Pauses between words keep it at the true floor while someone
   * speaks; a steady noise that starts mid-call is absorbed within this window. Default 3000.
   */
  floorWindowMs?: number;
}

/** Per-block analysis length. 10 ms keeps timing within half a Twilio frame and lets short clicks
 * that straddle a frame boundary count only for the time they really last. */
const BLOCK_SAMPLES = 80;
const SILENCE_DBFS = -100;
const FLOOR_SLOTS = 12;
const NO_EVENTS: readonly VadEvent[] = Object.freeze([]);

/** What {@link createEnergyVad} returns: a {@link Vad} plus read-only diagnostics. */
export interface EnergyVad extends Vad {
  /** Current noise-floor estimate, dBFS (RMS); -100 before any audio. */
  readonly noiseFloorDbfs: number;
  /** Level of the last analysed 10 ms block, dBFS (RMS); -100 for digital silence. */
  readonly lastLevelDbfs: number;
  /** Current start threshold, dBFS: max(floor + margin, minSpeechDbfs). */
  readonly thresholdDbfs: number;
}

/**
 * Creates an energy VAD for 8 kHz mu-law audio.
 *
 * How it works: each frame is cut into 10 ms blocks (a trailing partial block counts for its own
 * length); a block's RMS level in dBFS is read through a 256-entry energy table (no decoding). The
 * noise floor is the minimum block level over a sliding window ({@link EnergyVadOptions.floorWindowMs}),
 * tracked in 12 slots so each block costs O(1). A block is loud when its level reaches
 * max(floor + marginDb, minSpeechDbfs) (minus `hysteresisDb` while speaking). Speech starts after
 * `startMs` of consecutive loud blocks (reported at the first of them), and stops after
 * `hangoverMs` of consecutive quiet ones (reported at the end of the last loud block).
 *
 * The floor is learned from the audio only (no preset level): right after creation or `reset` the
 * quietest block seen so far is the floor. So a caller who is already talking when the stream
 * starts is detected at the first dip between syllables (a few hundred ms), and a steady noise
 * present from the start is never taken for speech; a steady noise that starts later is, until
 * the floor window has seen only it (at most `floorWindowMs` plus a slot), then speech stops.
 *
 * Timing: `atMs` is the time of the frame's first sample; block times are derived from it and the
 * sample offset. A non-finite `atMs` continues from the previous frame's end. Lost packets (gaps
 * in `atMs`) are not counted as silence: only audio actually seen is.
 *
 * Failure semantics: never throws; out-of-range options are clamped, non-numeric ones defaulted.
 */
export function createEnergyVad(opts: EnergyVadOptions = {}): EnergyVad {
  const segmenter = createSpeechSegmenter({
    startMs: finiteOr(opts.startMs, 60, 0, 10_000),
    hangoverMs: finiteOr(opts.hangoverMs, 500, 0, 60_000),
  });
  const marginDb = finiteOr(opts.marginDb, 10, 0, 60);
  const minSpeechDbfs = finiteOr(opts.minSpeechDbfs, -45, -100, 0);
  const hysteresisDb = finiteOr(opts.hysteresisDb, 3, 0, 30);
  const floorWindowMs = finiteOr(opts.floorWindowMs, 3000, 100, 600_000);
  const slotMs = floorWindowMs / FLOOR_SLOTS;
  const energy = MULAW_ENERGY;
  const msPerSample = 1000 / SAMPLE_RATE_HZ;

  let nextAtMs = 0;
  // Noise floor: minimum over FLOOR_SLOTS completed slots plus the slot in progress.
  const slotMins = new Float64Array(FLOOR_SLOTS);
  let slotIndex = 0;
  let slotElapsedMs = 0;
  let slotMin = Infinity;
  let windowMin = Infinity; // min over completed slots
  let lastLevel = SILENCE_DBFS;

  const reset = (): void => {
    segmenter.reset();
    nextAtMs = 0;
    slotMins.fill(Infinity);
    slotIndex = 0;
    slotElapsedMs = 0;
    slotMin = Infinity;
    windowMin = Infinity;
    lastLevel = SILENCE_DBFS;
  };
  reset();

  const floorNow = (): number => {
    const f = slotMin < windowMin ? slotMin : windowMin;
    return f === Infinity ? SILENCE_DBFS : f;
  };
  const thresholdNow = (): number => {
    const t = floorNow() + marginDb;
    return t > minSpeechDbfs ? t : minSpeechDbfs;
  };

  const trackFloor = (level: number, blockMs: number): void => {
    if (level < slotMin) slotMin = level;
    slotElapsedMs += blockMs;
    if (slotElapsedMs >= slotMs) {
      slotMins[slotIndex] = slotMin;
      slotIndex = (slotIndex + 1) % FLOOR_SLOTS;
      slotElapsedMs -= slotMs;
      if (slotElapsedMs >= slotMs) slotElapsedMs = 0; // one huge frame: don't loop
      slotMin = Infinity;
      let m = Infinity;
      for (let i = 0; i < FLOOR_SLOTS; i++) {
        const v = slotMins[i]!;
        if (v < m) m = v;
      }
      windowMin = m;
    }
  };

  const push = (frame: Uint8Array, atMs: number): readonly VadEvent[] => {
    const n = frame != null && typeof frame.length === 'number' ? frame.length : 0;
    if (n === 0) return NO_EVENTS;
    const frameStart = typeof atMs === 'number' && Number.isFinite(atMs) ? atMs : nextAtMs;
    nextAtMs = frameStart + n * msPerSample;
    let events: VadEvent[] | null = null;

    for (let b = 0; b < n; b += BLOCK_SAMPLES) {
      const end = b + BLOCK_SAMPLES < n ? b + BLOCK_SAMPLES : n;
      let sum = 0;
      for (let i = b; i < end; i++) sum += energy[frame[i]! & 0xff]!;
      const count = end - b;
      const mean = sum / count;
      const level = mean > 1e-10 ? 10 * Math.log10(mean) : SILENCE_DBFS;
      lastLevel = level;
      const blockMs = count * msPerSample;
      const blockStart = frameStart + b * msPerSample;
      const blockEnd = blockStart + blockMs;

      // Decide against the floor as it was before this block, then let the block update it.
      const threshold = thresholdNow() - (segmenter.speaking ? hysteresisDb : 0);
      const loud = level >= threshold;
      trackFloor(level, blockMs);

      const ev = segmenter.step(loud, blockStart, blockEnd);
      if (ev) (events ??= []).push(ev);
    }
    return events ?? NO_EVENTS;
  };

  return {
    push,
    setHangoverMs: (ms: number) => segmenter.setHangoverMs(ms),
    reset,
    get speaking() {
      return segmenter.speaking;
    },
    get noiseFloorDbfs() {
      return floorNow();
    },
    get lastLevelDbfs() {
      return lastLevel;
    },
    get thresholdDbfs() {
      return thresholdNow();
    },
  };
}
