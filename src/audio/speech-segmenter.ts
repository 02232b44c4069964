/**
 * The start/hangover rule every VAD shares: a detector decides per block (10 ms of energy, a 32 ms
 * Silero window) whether it holds speech; this turns that into speech boundaries. Speech starts
 * after `startMs` of consecutive speech blocks (reported at the first of them) and stops after
 * `hangoverMs` of consecutive quiet blocks (reported at the end of the last speech block).
 *
 * Pure bookkeeping: no audio, no clock of its own (times are the caller's block times).
 */

/** A speech boundary. Times are on the caller's `atMs` clock (e.g. Twilio `media.timestamp`). */
export type VadEvent =
  /** Speech began at `atMs` (the onset, reported once `startMs` of it has been heard). */
  | { type: 'speech.started'; atMs: number }
  /** Speech ended at `atMs` (end of the last loud audio, reported after the hangover), lasting `durationMs`. */
  | { type: 'speech.stopped'; atMs: number; durationMs: number };

/** Tolerance for float noise when block durations add up to a limit (e.g. 2 × 32 ms vs 64 ms). */
const EPS_MS = 1e-6;

/** Clamps a numeric option; non-numbers and non-finite values take the fallback. */
export function finiteOr(v: number | undefined, fallback: number, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return fallback;
  return v < min ? min : v > max ? max : v;
}

/** One stream's speech state. */
export interface SpeechSegmenter {
  /** Feeds one block; returns the boundary it caused, if any. */
  step(isSpeech: boolean, startMs: number, endMs: number): VadEvent | null;
  /** Quiet needed before speech stops, from now on (invalid values are ignored; capped at 60 s). */
  setHangoverMs(ms: number): void;
  /** Forgets the speech state (speech in progress ends silently); keeps the configuration. */
  reset(): void;
  readonly speaking: boolean;
}

/** Creates a segmenter (see file header). */
export function createSpeechSegmenter(opts: { startMs: number; hangoverMs: number }): SpeechSegmenter {
  const startMs = opts.startMs;
  let hangoverMs = opts.hangoverMs;
  let speaking = false;
  let loudRunMs = 0;
  let loudRunStartMs = 0;
  let speechStartMs = 0;
  let lastLoudEndMs = 0;
  let quietRunMs = 0;

  return {
    step(isSpeech, blockStart, blockEnd) {
      const blockMs = blockEnd - blockStart;
      if (!speaking) {
        if (!isSpeech) {
          loudRunMs = 0;
          return null;
        }
        if (loudRunMs === 0) loudRunStartMs = blockStart;
        loudRunMs += blockMs;
        if (loudRunMs < startMs - EPS_MS) return null;
        speaking = true;
        speechStartMs = loudRunStartMs;
        lastLoudEndMs = blockEnd;
        quietRunMs = 0;
        return { type: 'speech.started', atMs: speechStartMs };
      }
      if (isSpeech) {
        lastLoudEndMs = blockEnd;
        quietRunMs = 0;
        return null;
      }
      quietRunMs += blockMs;
      if (quietRunMs < hangoverMs - EPS_MS) return null;
      speaking = false;
      loudRunMs = 0;
      quietRunMs = 0;
      return { type: 'speech.stopped', atMs: lastLoudEndMs, durationMs: lastLoudEndMs - speechStartMs };
    },
    setHangoverMs(ms) {
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) hangoverMs = Math.min(ms, 60_000);
    },
    reset() {
      speaking = false;
      loudRunMs = 0;
      loudRunStartMs = 0;
      speechStartMs = 0;
      lastLoudEndMs = 0;
      quietRunMs = 0;
    },
    get speaking() {
      return speaking;
    },
  };
}
