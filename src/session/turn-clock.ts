/**
 * The turn clock: every timestamp the turn metrics need from the caller's side, kept in one place.
 * The audio side reports the caller's speech boundaries (VAD) and STT timings as they happen; the
 * respond actor asks, per bot turn, when the caller stopped speaking and which STT timings belong to
 * the turn. All times are `performance.now()` milliseconds.
 */

/** STT timings of one caller turn (see README, Metrics). */
export interface SttTiming {
  ttfbMs?: number;
  processingMs?: number;
}

/** One call's clock. Synchronous, never throws. */
export interface TurnClock {
  /** The caller started speaking (VAD). */
  userStarted(atMs: number): void;
  /** The caller stopped speaking (VAD: end of the last loud audio). */
  userStopped(atMs: number): void;
  /** STT timings of the caller turn in progress. */
  sttTiming(t: SttTiming): void;
  /** Hands over the STT timings gathered since the last call (they belong to the turn now starting). */
  takeSttTiming(): SttTiming;
  /**
   * When the caller stopped speaking before a bot turn that started at `turnStartedAt`, or null
   * if unknown (typed turns). Asked when the turn ends: the VAD's hangover often ends after the
   * transcript already started the turn.
   */
  userStoppedBefore(turnStartedAt: number): number | null;
}

/** Utterances kept: enough to find the one a turn answers. */
const KEPT_UTTERANCES = 8;

/** Creates a call's turn clock. */
export function createTurnClock(): TurnClock {
  const utterances: { startAt: number; stopAt: number | null }[] = [];
  let stt: SttTiming = {};
  return {
    userStarted(atMs) {
      utterances.push({ startAt: atMs, stopAt: null });
      if (utterances.length > KEPT_UTTERANCES) utterances.shift();
    },
    userStopped(atMs) {
      const last = utterances.at(-1);
      if (last && last.stopAt === null) last.stopAt = atMs;
    },
    sttTiming(t) {
      if (t.ttfbMs !== undefined) stt.ttfbMs = t.ttfbMs;
      if (t.processingMs !== undefined) stt.processingMs = t.processingMs;
    },
    takeSttTiming() {
      const taken = stt;
      stt = {};
      return taken;
    },
    userStoppedBefore(turnStartedAt) {
      // The caller's utterance a turn answers: the last one that began before the turn.
      for (let i = utterances.length - 1; i >= 0; i--)
        if (utterances[i]!.startAt <= turnStartedAt) return utterances[i]!.stopAt;
      return null;
    },
  };
}
