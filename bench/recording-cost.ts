/**
 * What call recording (RECORDING=on) costs per call: CPU time and bytes on disk per minute of call.
 *
 *   npx tsx bench/recording-cost.ts          # prints the numbers
 *   runRecordingBench({ minutes })           # returns them, for `npm run bench -- recording`
 *
 * A scripted call is pushed through the real recorder and WAV writer into a temp file as fast as
 * the CPU allows: caller audio every 20 ms, the bot speaking about half the time in 100 ms chunks
 * with their marks echoed (some late, as over a real network), and a barge-in now and then. CPU is
 * the process's user + system time for the whole call (recorder, mu-law decoding, interleaving,
 * file writes), divided by the call's length.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FRAME_BYTES_20MS, MULAW_SILENCE } from '../src/audio/mulaw.js';
import { createCallRecorder } from '../src/recording/call-recorder.js';
import { RECORDING_FORMAT } from '../src/recording/recordings.js';
import { createWavWriter } from '../src/recording/wav-writer.js';

/** The cost of recording one call. */
export interface RecordingBenchResult {
  minutes: number;
  /** CPU ms spent per minute of call. */
  cpuMsPerCallMinute: number;
  /** Share of one core a live recorded call keeps busy (CPU time / call time). */
  coreShare: number;
  /** File size per minute of call. */
  bytesPerMinute: number;
}

/** Records a scripted call of `minutes` and measures it (see file header). */
export async function runRecordingBench(opts: { minutes?: number } = {}): Promise<RecordingBenchResult> {
  const minutes = opts.minutes ?? 5;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-rec-bench-'));
  const file = path.join(dir, 'call.wav');
  const writer = createWavWriter({ path: file, ...RECORDING_FORMAT });
  const recorder = createCallRecorder({ sink: writer });
  const frames = (minutes * 60_000) / 20;
  const caller = new Uint8Array(FRAME_BYTES_20MS);
  for (let i = 0; i < caller.length; i++) caller[i] = (i * 37) & 0xff;
  const silence = new Uint8Array(FRAME_BYTES_20MS).fill(MULAW_SILENCE);
  const botChunk = new Uint8Array(800).fill(0x90); // 100 ms
  const pending: string[] = [];
  let mark = 0;
  const started = process.cpuUsage();
  for (let f = 0; f < frames; f++) {
    // 6 s turns: the bot speaks for 3 s (30 chunks sent at its start), the caller answers for 3 s.
    const phase = f % 300;
    if (phase === 0)
      for (let c = 0; c < 30; c++) {
        recorder.botAudio(botChunk);
        const name = `m${++mark}`;
        recorder.botMark(name);
        pending.push(name);
      }
    // One echo every 100 ms of bot speech; every 7th turn the caller barges in at 2 s.
    if (phase < 150 && phase % 5 === 4 && pending.length) recorder.markEchoed(pending.shift()!);
    if (phase === 100 && (f / 300) % 7 === 3) {
      recorder.cleared();
      pending.length = 0;
    }
    recorder.callerAudio(phase >= 150 ? caller : silence);
    // Let the writer's flush timer run, as it would between real frames.
    if (f % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  await recorder.close();
  const cpu = process.cpuUsage(started);
  const bytes = fs.statSync(file).size;
  fs.rmSync(dir, { recursive: true, force: true });
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    minutes,
    cpuMsPerCallMinute: cpuMs / minutes,
    coreShare: cpuMs / (minutes * 60_000),
    bytesPerMinute: bytes / minutes,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runRecordingBench();
  console.log(
    `recording: ${r.cpuMsPerCallMinute.toFixed(1)} ms CPU per call-minute (${(r.coreShare * 100).toFixed(3)} % of a core per live call), ${(r.bytesPerMinute / 1e6).toFixed(2)} MB per minute`,
  );
}
