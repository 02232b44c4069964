/**
 * Semantic endpointing: does a caller's final transcript already hold a complete answer to the
 * current claim state's question, or does it look cut off? The call machine's `endOfTurn` reads the
 * verdict to skip the state's endpointing patience for a complete answer.
 *
 * Pure, tiny and dependency-free (word lists, no date library), so the machine stays pure and a
 * replay gives the same verdicts. It judges shape, not meaning: "March 3rd" is a complete date
 * whether or not the claim will accept it; the dialogue and the guards decide the value.
 *
 * Verdicts:
 * - `unfinished`: the words stop where a sentence cannot ("it was on March", a trailing "and",
 *   "the", "um", "twelve hundred and", "two point", "hold on", "let me check").
 * - `complete`: a whole answer of the kind the state expects (a day for a date, a number for an
 *   amount, a yes / no / correction with its value at the read-back, an acknowledgement or a
 *   repeat request for the claim number), or a question ("why do you need that?").
 * - `undecided`: neither (a remark, an answer to something else): the state's patience applies,
 *   as it did for every turn before.
 */
import type { AnswerKind } from './claim.machine.js';

/** How finished a caller's utterance looks for the state's question (see file header). */
export type Completeness = 'complete' | 'unfinished' | 'undecided';

/** Only this many characters are read (keeps every verdict cheap). */
const MAX_CHARS = 300;

/** A last word no sentence ends on: a conjunction, preposition, article, filler or copula. */
const DANGLING = new Set(
  (
    'and or but so because then plus nor the a an my our your on in at of to ' +
    'for from with about around like by since until till than is was were are be been its ' +
    "it's um uh uhm umm er erm hmm ah maybe point last next past"
  ).split(' '),
);

/** Phrases that announce more is coming ("hold on", "let me check"). */
const HOLDING =
  /\b(hold on|hang on|one (moment|sec(ond)?|minute)|just a (sec(ond)?|moment|minute)|let me (check|see|think|look|find)|give me a (sec(ond)?|moment|minute)|wait)\b/;

const MONTHS =
  'january february march april may june july august september october november december ' +
  'jan feb mar apr jun jul aug sep sept oct nov dec';
const MONTH = new Set(MONTHS.split(' '));
const WEEKDAY = /\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b/;
const RELATIVE_DAY =
  /\b(yesterday|today|tonight|this (morning|afternoon|evening)|last night|\w+ (days?|weeks?) ago)\b/;
const ORDINAL =
  /\b(\d{1,2}(st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)\b/;
const NUMERIC_DATE = /\b\d{1,4}[/-]\d{1,2}([/-]\d{2,4})?\b/;
const NUMBER_WORD = new Set(
  (
    'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen ' +
    'sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety ' +
    'hundred thousand million grand k'
  ).split(' '),
);
/** Tens words that, last after a month, may be the start of a day or a year ("March twenty..."). */
const TENS = new Set('twenty thirty nineteen'.split(' '));

const YES =
  /\b(yes|yeah|yep|yup|correct|right|sure|ok|okay|alright|all right|got it|ready|done|noted|perfect|exactly|absolutely|uh huh|mm hmm)\b/;
const NO = /\b(no|nope|nah|wrong|incorrect|not (right|correct|quite))\b/;
const REPEAT = /\b(repeat|again|pardon|say that|what was)\b/;
const FIELD = /\b(date|day|amount|total|sum|cost|price)\b/;

function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[\u2018\u2019`]/g, "'")
    .replace(/[^a-z0-9'$./\-\s]/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^[.'-]+|[.'-]+$/g, ''))
    .filter(Boolean);
}

const hasNumber = (words: readonly string[]) =>
  words.some((w) => /\d/.test(w) || NUMBER_WORD.has(w.replace(/-.*$/, '')));

function hasDay(line: string, words: readonly string[]): boolean {
  if (RELATIVE_DAY.test(line) || WEEKDAY.test(line) || NUMERIC_DATE.test(line)) return true;
  const month = words.findIndex((w) => MONTH.has(w));
  if (month < 0) return /\bthe \w+/.test(line) && ORDINAL.test(line);
  // A month needs a day next to it: "March 3rd", "3rd of March", "March the third", "the 3rd of March".
  return words.some((w, i) => i !== month && (ORDINAL.test(w) || /^\d{1,2}$/.test(w) || NUMBER_WORD.has(w)));
}

/** Judges one utterance (the whole caller turn so far) against what the state expects. */
export function answerCompleteness(text: string, expects: AnswerKind): Completeness {
  if (typeof text !== 'string') return 'undecided';
  const raw = text.slice(0, MAX_CHARS).trim();
  const words = wordsOf(raw);
  if (words.length === 0) return 'undecided';
  const line = words.join(' ');
  const last = words[words.length - 1]!;
  if (/(\.\.\.|…|[-,])$/.test(raw) || DANGLING.has(last) || HOLDING.test(line)) return 'unfinished';
  if (raw.endsWith('?')) return 'complete';
  switch (expects) {
    case 'date': {
      const monthLast = words.length >= 1 && MONTH.has(last);
      if (monthLast && !words.slice(0, -1).some((w) => ORDINAL.test(w) || /^\d{1,2}$/.test(w)))
        return 'unfinished';
      if (TENS.has(last) && words.some((w) => MONTH.has(w))) return 'unfinished';
      return hasDay(line, words) ? 'complete' : 'undecided';
    }
    case 'amount':
      return hasNumber(words) ? 'complete' : 'undecided';
    case 'confirmation': {
      const no = NO.test(line);
      if (no && FIELD.test(line) && !hasNumber(words) && !hasDay(line, words)) return 'unfinished';
      return no || YES.test(line) ? 'complete' : 'undecided';
    }
    case 'acknowledgement':
      return YES.test(line) || REPEAT.test(line) || NO.test(line) ? 'complete' : 'undecided';
    case 'none':
      return 'undecided';
  }
}
