import { runAudioBench } from '../../bench/audio-bench.js';

describe('audio bench', () => {
  it('measures every per-frame operation as a positive finite number of nanoseconds', () => {
    const r = runAudioBench({ iterations: 500 });
    expect(Object.keys(r).sort()).toEqual(
      [
        'decodeFrameNs',
        'encodeFrameNs',
        'resample48kTo8kFrameNs',
        'resample8kTo48kFrameNs',
        'trackerChunkAndMarkNs',
        'trackerHeardTextNs',
        'vadPushFrameNs',
      ].sort(),
    );
    for (const ns of Object.values(r)) {
      expect(Number.isFinite(ns)).toBe(true);
      expect(ns).toBeGreaterThan(0);
    }
  });
});
