/**
 * The streaming WAV writer keeps a valid file on disk at every moment: the header's sizes follow
 * every flush, so a process killed mid-call leaves a WAV that parses up to its last flush.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWavWriter } from '../../src/recording/wav-writer.js';
import { parseWav } from '../support/wav.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-wav-'));

describe('the streaming WAV writer', () => {
  it('writes 16-bit stereo PCM at 8 kHz with the sizes of what was written', async () => {
    const file = path.join(tmp(), 'a.wav');
    const w = createWavWriter({ path: file, sampleRateHz: 8000, channels: 2 });
    const frames = new Int16Array([1, -1, 2, -2, 3, -3]);
    w.write(frames);
    w.write(new Int16Array([4, -4]));
    await w.close();
    const wav = parseWav(fs.readFileSync(file));
    expect(wav).toMatchObject({
      format: 1,
      channels: 2,
      sampleRateHz: 8000,
      bitsPerSample: 16,
      dataBytes: 16,
    });
    expect([...wav.left]).toEqual([1, 2, 3, 4]);
    expect([...wav.right]).toEqual([-1, -2, -3, -4]);
    expect(w.dataBytes()).toBe(16);
  });

  it('is a valid empty WAV when nothing was written', async () => {
    const file = path.join(tmp(), 'empty.wav');
    await createWavWriter({ path: file, sampleRateHz: 8000, channels: 2 }).close();
    expect(parseWav(fs.readFileSync(file)).dataBytes).toBe(0);
  });

  it('reports a file it cannot open once and ignores further writes', async () => {
    const errors: string[] = [];
    const w = createWavWriter({
      path: path.join(tmp(), 'missing-dir', 'x.wav'),
      sampleRateHz: 8000,
      channels: 2,
      onError: (e) => errors.push(e.message),
    });
    w.write(new Int16Array(320));
    await w.close();
    expect(errors).toHaveLength(1);
    expect(w.dataBytes()).toBe(0);
  });

  it('leaves a WAV that parses when its process is killed mid-write (kill -9)', async () => {
    const file = path.join(tmp(), 'crash.wav');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'wav-writer-child.ts'), file],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    // Killed once a few flushes have reached the disk (no clock in the assertion).
    let flushes = 0;
    let killedAfter = 0;
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          flushes += 1;
          if (flushes === 5 && killedAfter === 0) {
            killedAfter = Number(line);
            child.kill('SIGKILL');
          }
        }
      });
      child.on('exit', () => resolve());
    });
    const wav = parseWav(fs.readFileSync(file));
    expect(wav).toMatchObject({ format: 1, channels: 2, sampleRateHz: 8000 });
    // At least what was reported flushed before the kill; whole frames; the samples are intact.
    expect(wav.dataBytes).toBeGreaterThanOrEqual(killedAfter);
    expect(wav.dataBytes % 4).toBe(0);
    const expected = Array.from({ length: 10 }, (_, i) => (i % 2000) - 1000);
    expect([...wav.left.slice(0, 5)]).toEqual(expected.filter((_, i) => i % 2 === 0));
  }, 30_000);
});
