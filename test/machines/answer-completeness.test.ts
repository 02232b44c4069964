/**
 * Semantic endpointing's classifier: a final transcript that already holds a whole answer for the
 * state skips the patience; one that stops mid-way keeps it.
 */
import { answerCompleteness, type Completeness } from '../../machines/claim/answer-completeness.js';
import type { AnswerKind } from '../../machines/claim/claim.machine.js';

const cases: Record<AnswerKind, Record<Completeness, string[]>> = {
  date: {
    complete: [
      'March 3rd',
      'it happened on March third, 2026',
      'March the third',
      'the 3rd of March',
      'on the fifth',
      'yesterday',
      'it was yesterday evening',
      'two days ago',
      'last Tuesday',
      '3/3/2026',
      'March 3rd 2026.',
      'why do you need the date?',
      'March twenty third',
    ],
    unfinished: [
      'it was on March',
      'March',
      'it was on March...',
      'March third and',
      'it was on the',
      'um',
      'I think it was',
      'hold on, let me check',
      'wait',
      'March twenty',
      'March 3rd twenty',
      'it was last',
      'give me a second',
    ],
    undecided: ['I was driving to work', 'in March last year', 'not sure'],
  },
  amount: {
    complete: [
      'twelve hundred fifty dollars',
      '$1,250.50',
      'about 900',
      'twelve hundred',
      'twenty',
      'three grand',
      '2.5k',
      'it cost 450 dollars.',
    ],
    unfinished: [
      'twelve hundred and',
      'two point',
      'it was about',
      'the total is',
      'um, it was',
      'twelve hundred dollars and',
      'one moment',
    ],
    undecided: ['I have the receipt somewhere', 'a lot'],
  },
  confirmation: {
    complete: [
      'yes',
      "yes, that's correct",
      "that's right",
      'no',
      "no, that's wrong",
      'no, the amount is 900',
      'no, the date was March 4th',
      'correct',
    ],
    unfinished: ['no, the amount', 'no the date', 'yes but', 'no, the amount is', 'yes and', 'hmm'],
    undecided: ['I want to add something'],
  },
  acknowledgement: {
    complete: ['got it', 'okay', 'okay, got it', 'yes', 'can you repeat that', 'say that again', 'ready'],
    unfinished: ['hold on', 'one second', 'let me find a pen', 'wait', 'okay and'],
    undecided: ['I need a pen'],
  },
  none: { complete: [], unfinished: ['and'], undecided: ['thanks'] },
};

describe('answer completeness (semantic endpointing)', () => {
  for (const [expects, verdicts] of Object.entries(cases) as [AnswerKind, Record<Completeness, string[]>][]) {
    for (const [verdict, phrases] of Object.entries(verdicts) as [Completeness, string[]][]) {
      if (phrases.length === 0) continue;
      it.each(phrases)(`when a ${expects} is expected, "%s" is ${verdict}`, (text) => {
        expect(answerCompleteness(text, expects)).toBe(verdict);
      });
    }
  }

  it('reads nothing into empty or non-text input', () => {
    expect(answerCompleteness('', 'date')).toBe('undecided');
    expect(answerCompleteness('   ', 'amount')).toBe('undecided');
    expect(answerCompleteness(42 as unknown as string, 'date')).toBe('undecided');
  });

  it('reads only the start of a very long utterance', () => {
    expect(answerCompleteness(`${'blah '.repeat(10_000)}March 3rd`, 'date')).toBe('undecided');
  });
});
