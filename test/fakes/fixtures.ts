/**
 * Caller-speech fixtures (test/fixtures/audio/*.ulaw: mu-law, 8000 Hz, mono, raw), read once.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Names of the committed fixtures (file stem). */
export type AudioFixtureName =
  | 'hello'
  | 'okay-got-it'
  | 'can-you-repeat-that'
  | 'march-third'
  | 'twelve-hundred-fifty-dollars'
  | 'yes-thats-correct'
  | 'mm-hmm'
  | 'no-the-amount-is-nine-hundred';

/** What each fixture says (the script to give the Deepgram fake). */
export const AUDIO_FIXTURE_TEXT: Readonly<Record<AudioFixtureName, string>> = {
  hello: 'Hello.',
  'okay-got-it': 'Okay, got it.',
  'can-you-repeat-that': 'Can you repeat that?',
  'march-third': 'March third.',
  'twelve-hundred-fifty-dollars': 'Twelve hundred fifty dollars.',
  'yes-thats-correct': "Yes, that's correct.",
  'mm-hmm': 'Mm-hmm.',
  'no-the-amount-is-nine-hundred': 'No, the amount is nine hundred.',
};

const cache = new Map<AudioFixtureName, Buffer>();

/** The raw mu-law bytes of a fixture. */
export function loadAudioFixture(name: AudioFixtureName): Buffer {
  let buf = cache.get(name);
  if (!buf) {
    buf = readFileSync(fileURLToPath(new URL(`../fixtures/audio/${name}.ulaw`, import.meta.url)));
    cache.set(name, buf);
  }
  return buf;
}
