/**
 * Micro-benchmark of the per-frame audio work: what one call costs every 20 ms.
 *
 *   npx tsx bench/audio-bench.ts            # prints a table
 *   runAudioBench({ iterations })           # returns ns per operation, for other benches/tests
 *
 * Every operation is timed over `iterations` runs after a warm-up (so the JIT has optimised it),
 * on realistic input: a speech-like mix of tone bursts, pauses and line noise.
 */
import { pathToFileURL } from 'node:url';
import { decodeMulaw, encodeMulaw, FRAME_BYTES_20MS } from '../src/audio/mulaw.js';
import { createPlaybackTracker } from '../src/audio/playback-tracker.js';
import { createLinearResampler } from '../src/audio/resample.js';
import { createEnergyVad } from '../src/audio/vad.js';

/** Nanoseconds per operation, by operation. */
export interface AudioBenchResult {
  /** `decodeMulaw` of one 20 ms frame (160 bytes) into a reused buffer. */
  decodeFrameNs: number;
  /** `encodeMulaw` of one 20 ms frame (160 samples) into a reused buffer. */
  encodeFrameNs: number;
  /** `vad.push` of one 20 ms frame (energy VAD, speech-like audio). */
  vadPushFrameNs: number;
  /** Streaming 48 kHz -> 8 kHz of one 20 ms browser frame (960 samples, Float32). */
  resample48kTo8kFrameNs: number;
  /** Streaming 8 kHz -> 48 kHz of one 20 ms frame (160 samples, Int16). */
  resample8kTo48kFrameNs: number;
  /** `tracker.chunkSent` + `tracker.markReceived` for one chunk. */
  trackerChunkAndMarkNs: number;
  /** `tracker.heardText` on a 40-chunk turn with text spans, half played. */
  trackerHeardTextNs: number;
}

function speechLikeMulaw(seconds: number): Uint8Array {
  const n = seconds * 8000;
  const pcm = new Int16Array(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = ((seed / 0xffffffff) * 2 - 1) * 60;
    const inSyllable = Math.floor(i / 1600) % 3 !== 2; // 200 ms on, 200 ms on, 200 ms off
    const tone = inSyllable ? 3000 * Math.sin((2 * Math.PI * 180 * i) / 8000) : 0;
    pcm[i] = Math.round(tone + noise);
  }
  return encodeMulaw(pcm);
}

function timeNs(iterations: number, fn: (i: number) => void): number {
  const warm = Math.min(iterations, 2000);
  for (let i = 0; i < warm; i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / iterations;
}

/** Runs every measurement; `iterations` per operation (default 200 000). Prints nothing. */
export function runAudioBench(opts: { iterations?: number } = {}): AudioBenchResult {
  const iterations = Math.max(1, Math.floor(opts.iterations ?? 200_000));
  const audio = speechLikeMulaw(10);
  const frames = Math.floor(audio.length / FRAME_BYTES_20MS);
  const frameAt = (i: number) =>
    audio.subarray((i % frames) * FRAME_BYTES_20MS, ((i % frames) + 1) * FRAME_BYTES_20MS);
  const frameViews = Array.from({ length: frames }, (_, i) => frameAt(i));
  let sink = 0;

  const pcmOut = new Int16Array(FRAME_BYTES_20MS);
  const decodeFrameNs = timeNs(iterations, (i) => {
    sink += decodeMulaw(frameViews[i % frames]!, pcmOut)[7]!;
  });

  const pcmFrames = frameViews.map((f) => decodeMulaw(f));
  const muOut = new Uint8Array(FRAME_BYTES_20MS);
  const encodeFrameNs = timeNs(iterations, (i) => {
    sink += encodeMulaw(pcmFrames[i % frames]!, muOut)[7]!;
  });

  const vad = createEnergyVad();
  const vadPushFrameNs = timeNs(iterations, (i) => {
    sink += vad.push(frameViews[i % frames]!, i * 20).length;
  });

  const browserFrame = new Float32Array(960);
  for (let i = 0; i < browserFrame.length; i++)
    browserFrame[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / 48000);
  const down = createLinearResampler({ fromHz: 48000, toHz: 8000 });
  const resampleIterations = Math.max(1, Math.floor(iterations / 10));
  const resample48kTo8kFrameNs = timeNs(resampleIterations, () => {
    sink += down.push(browserFrame).length;
  });
  const up = createLinearResampler({ fromHz: 8000, toHz: 48000 });
  const resample8kTo48kFrameNs = timeNs(resampleIterations, (i) => {
    sink += up.push(pcmFrames[i % frames]!).length;
  });

  const tracker = createPlaybackTracker();
  const trackerChunkAndMarkNs = timeNs(iterations, (i) => {
    const turnId = Math.floor(i / 50);
    const name = tracker.chunkSent({
      turnId,
      bytes: FRAME_BYTES_20MS,
      text: i % 10 === 0 ? 'Hello there.' : undefined,
    });
    sink += tracker.markReceived(name)?.playedMs ?? 0;
    if (i % 50 === 49) tracker.forgetTurn(turnId);
  });

  const t2 = createPlaybackTracker();
  for (let c = 0; c < 40; c++) {
    const name = t2.chunkSent({
      turnId: 1,
      bytes: 800,
      text: c % 8 === 0 ? `Sentence number ${c} of this turn is here.` : undefined,
    });
    if (c < 20) t2.markReceived(name);
  }
  t2.turnAudioEnded(1);
  const trackerHeardTextNs = timeNs(Math.max(1, Math.floor(iterations / 10)), () => {
    sink += t2.heardText(1).length;
  });

  if (sink === Number.MIN_SAFE_INTEGER) console.log(sink); // keep the work observable
  return {
    decodeFrameNs,
    encodeFrameNs,
    vadPushFrameNs,
    resample48kTo8kFrameNs,
    resample8kTo48kFrameNs,
    trackerChunkAndMarkNs,
    trackerHeardTextNs,
  };
}

function printTable(r: AudioBenchResult): void {
  const frameBudgetNs = 20e6;
  const rows = Object.entries(r).map(([op, ns]) => ({
    op,
    'ns/op': Math.round(ns),
    // Share of one core a single call spends on this op if it runs once per 20 ms frame.
    'core % per call': `${((ns / frameBudgetNs) * 100).toFixed(4)}%`,
  }));
  console.table(rows);
  const perCall = r.vadPushFrameNs + r.trackerChunkAndMarkNs;
  console.log(
    `phone path per 20 ms frame (VAD push + one tracked outbound chunk): ${Math.round(perCall)} ns ` +
      `-> about ${Math.floor(frameBudgetNs / perCall).toLocaleString('en-US')} calls per core before anything else`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(runAudioBench());
}
