/**
 * The fake microphone of the spoken-call browser test: `test/fixtures/audio/spoken-claim.wav`, the
 * caller's four answers (the committed mu-law speech fixtures) placed on a timeline with silence
 * between them, long enough for the bot to answer each one. Chromium plays the file once
 * (`--use-file-for-fake-audio-capture=<wav>%noloop`) from the moment the page opens the microphone.
 *
 * Regenerate (deterministic) with: `npx tsx test/browser/spoken-fixture.ts`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { decodeMulaw } from '../../src/audio/mulaw.js';
import { AUDIO_FIXTURE_TEXT, loadAudioFixture, type AudioFixtureName } from '../fakes/fixtures.js';

/** Where the WAV lives. */
export const SPOKEN_WAV = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/audio/spoken-claim.wav',
);

/** Sample rate of the WAV (Chromium converts it to the capture rate). */
export const SPOKEN_WAV_RATE_HZ = 8000;

/** What the caller says and when (seconds after the microphone opens). */
export const SPOKEN_SCRIPT: ReadonlyArray<{ atSec: number; fixture: AudioFixtureName }> = [
  { atSec: 9, fixture: 'okay-got-it' },
  { atSec: 15, fixture: 'march-third' },
  { atSec: 21, fixture: 'twelve-hundred-fifty-dollars' },
  { atSec: 29, fixture: 'yes-thats-correct' },
];

/** The Deepgram fake's script: the text of each speech segment, in order. */
export const SPOKEN_UTTERANCES: string[] = SPOKEN_SCRIPT.map((s) => AUDIO_FIXTURE_TEXT[s.fixture]);

const TAIL_SEC = 3;

/** The WAV file's bytes: 16-bit PCM, mono, {@link SPOKEN_WAV_RATE_HZ}. */
export function renderSpokenWav(): Buffer {
  const rate = SPOKEN_WAV_RATE_HZ;
  const last = SPOKEN_SCRIPT[SPOKEN_SCRIPT.length - 1]!;
  const totalSamples = Math.ceil((last.atSec + TAIL_SEC) * rate) + loadAudioFixture(last.fixture).length;
  const pcm = new Int16Array(totalSamples);
  for (const s of SPOKEN_SCRIPT)
    pcm.set(decodeMulaw(loadAudioFixture(s.fixture)), Math.round(s.atSec * rate));
  const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  fs.writeFileSync(SPOKEN_WAV, renderSpokenWav());
  console.log(`wrote ${path.relative(process.cwd(), SPOKEN_WAV)}`);
}
