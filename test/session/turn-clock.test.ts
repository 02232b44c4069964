/**
 * The turn clock alone: which caller utterance and which STT timings a bot turn is measured from.
 * Times are plain numbers here (the clock never reads a clock itself).
 */
import { createTurnClock } from '../../src/session/turn-clock.js';

/** A clock that heard `utterances` as [started, stopped] pairs (stopped null: still speaking). */
function clockWith(...utterances: [number, number | null][]) {
  const clock = createTurnClock();
  for (const [start, stop] of utterances) {
    clock.userStarted(start);
    if (stop !== null) clock.userStopped(stop);
  }
  return clock;
}

describe('the turn clock', () => {
  it('knows nothing before the caller spoke (a typed turn or the greeting)', () => {
    const clock = createTurnClock();
    expect(clock.userStoppedBefore(1000)).toBeNull();
    expect(clock.takeSttTiming()).toEqual({});
  });

  it('answers when the caller stopped the utterance that began before the turn', () => {
    expect(clockWith([100, 900]).userStoppedBefore(1000)).toBe(900);
  });

  it('answers the stop that the VAD reported after the transcript already started the turn', () => {
    // The VAD's hangover ends (1100) after the turn began (950).
    expect(clockWith([100, 1100]).userStoppedBefore(950)).toBe(1100);
  });

  it('answers null while the utterance a turn answers has not stopped yet', () => {
    expect(clockWith([100, null]).userStoppedBefore(500)).toBeNull();
  });

  it('picks the last utterance that began before the turn, not a later one', () => {
    // The third utterance is the caller barging into the turn that began at 1000.
    const clock = clockWith([100, 400], [600, 800], [2000, 2300]);
    expect([1000, 500, 50].map((t) => clock.userStoppedBefore(t))).toEqual([800, 400, null]);
  });

  it('ignores a stop without a start, and a second stop of the same utterance', () => {
    const clock = createTurnClock();
    clock.userStopped(50);
    expect(clock.userStoppedBefore(1000)).toBeNull();
    clock.userStarted(100);
    for (const stop of [300, 700]) clock.userStopped(stop);
    expect(clock.userStoppedBefore(1000)).toBe(300);
  });

  it('keeps only the last eight utterances', () => {
    const clock = clockWith(
      ...Array.from({ length: 9 }, (_, i): [number, number] => [i * 100, i * 100 + 50]),
    );
    // The first utterance (0..50) is forgotten; the second (100..150) is still known.
    expect(clock.userStoppedBefore(10)).toBeNull();
    expect(clock.userStoppedBefore(120)).toBe(150);
  });

  it('hands the STT timings gathered since the last turn over once, merging partial reports', () => {
    const clock = createTurnClock();
    clock.sttTiming({ ttfbMs: 120 });
    clock.sttTiming({ processingMs: 310 });
    clock.sttTiming({ ttfbMs: undefined });
    expect(clock.takeSttTiming()).toEqual({ ttfbMs: 120, processingMs: 310 });
    expect(clock.takeSttTiming()).toEqual({});
    clock.sttTiming({ processingMs: 200 });
    expect(clock.takeSttTiming()).toEqual({ processingMs: 200 });
  });
});
