/**
 * Child process of the crash test: writes a stereo WAV in real time (20 ms frames) and prints the
 * data size on disk after each flush, until it is killed.
 */
import { createWavWriter } from '../../src/recording/wav-writer.js';

const file = process.argv[2]!;
const w = createWavWriter({ path: file, sampleRateHz: 8000, channels: 2, flushIntervalMs: 100 });
let value = 0;
let reported = 0;
setInterval(() => {
  const frames = new Int16Array(160 * 2);
  for (let i = 0; i < frames.length; i++) frames[i] = (value++ % 2000) - 1000;
  w.write(frames);
  if (w.dataBytes() !== reported) {
    reported = w.dataBytes();
    process.stdout.write(`${reported}\n`);
  }
}, 20);
