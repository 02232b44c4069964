/**
 * Pure rules that decide whether what the caller said while the bot was speaking is a real
 * interruption, or a backchannel ("mm-hmm", "okay") / noise that must not cut the bot off.
 */

/** Words that acknowledge without asking for the floor. */
const BACKCHANNELS = new Set([
  'mm',
  'mhm',
  'mmhmm',
  'mm-hmm',
  'uh-huh',
  'uhhuh',
  'hmm',
  'hm',
  'uh',
  'um',
  'ah',
  'oh',
  'yeah',
  'yep',
  'ok',
  'okay',
  'right',
  'sure',
  'alright',
  'cool',
  'great',
  'got',
  'it',
  'i',
  'see',
]);

/** Lower-cased words of an utterance, punctuation stripped. */
export function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .slice(0, 500)
    .split(/[^a-z0-9'-]+/)
    .map((w) => w.replace(/^['-]+|['-]+$/g, ''))
    .filter(Boolean);
}

/** True if every word is a backchannel or filler (or there are no words at all). */
export function isBackchannel(text: string): boolean {
  return wordsOf(text).every((w) => BACKCHANNELS.has(w));
}

/**
 * Is this transcript a real barge-in? It needs at least `minWords` words and at least one word
 * that is not a backchannel. A cough or a click transcribes to nothing and never qualifies.
 */
export function isBargeInUtterance(text: string, minWords = 1): boolean {
  const words = wordsOf(text);
  return words.length >= minWords && !isBackchannel(text);
}
