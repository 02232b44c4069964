/**
 * The sentence splitter alone: where streaming LLM text is cut into speakable pieces.
 */
import { SentenceSplitter, type SentenceSplitterOptions } from '../../src/session/sentence-splitter.js';

/** Pushes `deltas` one by one, then flushes: every piece the splitter produced, in order. */
function split(deltas: string[], opts?: SentenceSplitterOptions): string[] {
  const splitter = new SentenceSplitter(opts);
  const pieces = deltas.flatMap((d) => splitter.push(d));
  return [...pieces, ...splitter.flush()];
}

/** `text` cut into deltas of `size` characters. */
function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('the sentence splitter', () => {
  it('ends a sentence at a period, question mark or exclamation mark followed by a space', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Hello there. How are you? Fine! ')).toEqual([
      'Hello there.',
      'How are you?',
      'Fine!',
    ]);
    expect(splitter.flush()).toEqual([]);
  });

  it('keeps a sentence whose end has not been followed by whitespace yet until more text arrives', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Thanks. Is that right?')).toEqual(['Thanks.']);
    expect(splitter.push(' Yes')).toEqual(['Is that right?']);
    expect(splitter.flush()).toEqual(['Yes']);
  });

  it('does not cut inside a claim number spelled as single letters and digits', () => {
    expect(split(['Your claim number is C. L. M. 4 8 2 1. Please note it down. '])).toEqual([
      'Your claim number is C. L. M. 4 8 2 1.',
      'Please note it down.',
    ]);
  });

  it('does not cut inside a decimal amount or after a known abbreviation', () => {
    expect(
      split([
        'The amount is $1,250.50. Is that right? ',
        'Dr. Smith and Mrs. Jones, e.g. the adjusters, agree. ',
      ]),
    ).toEqual([
      'The amount is $1,250.50.',
      'Is that right?',
      'Dr. Smith and Mrs. Jones, e.g. the adjusters, agree.',
    ]);
  });

  it('ends a sentence at "No." unless a number follows it, in whole text and in small deltas', () => {
    const text = 'No. That is claim No. 5 on file. No. ';
    const expected = ['No.', 'That is claim No. 5 on file.', 'No.'];
    expect(split([text])).toEqual(expected);
    expect(split(chunks(text, 1))).toEqual(expected);
  });

  it('releases the first clause at a comma once it is long enough, and only the first', () => {
    expect(split(['Thank you for calling today, I have opened a claim. Next, with a comma, here. '])).toEqual(
      ['Thank you for calling today,', 'I have opened a claim.', 'Next, with a comma, here.'],
    );
  });

  it('waits for the sentence end when the first clause is shorter than the minimum', () => {
    expect(split(['Hi, there. Yes, and more, and more. '])).toEqual([
      'Hi, there.',
      'Yes, and more, and more.',
    ]);
  });

  it('takes the first-clause minimum from its options', () => {
    expect(split(['Hi, there. '], { firstClauseMinChars: 2 })).toEqual(['Hi,', 'there.']);
  });

  it('cuts run-on text at the last space before the maximum length', () => {
    const pieces = split(['word '.repeat(60)], { maxChars: 40 });
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(40);
    expect(pieces.join(' ')).toBe('word '.repeat(60).trim());
  });

  it('returns the unfinished rest on flush, then nothing', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Done. And the rest')).toEqual(['Done.']);
    expect(splitter.flush()).toEqual(['And the rest']);
    expect(splitter.flush()).toEqual([]);
  });

  it('returns nothing on flush when only whitespace is left', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('   ')).toEqual([]);
    expect(splitter.flush()).toEqual([]);
  });

  it('gives the same pieces when the text streams in small chunks as when it comes in one', () => {
    const text =
      'Thank you for calling today, I have opened a claim for you. Your claim number is C. L. M. ' +
      '4 8 2 1. You are claiming $1,250.50, is that right? Dr. Smith will call! Goodbye';
    const whole = split([text]);
    expect(whole).toEqual([
      'Thank you for calling today,',
      'I have opened a claim for you.',
      'Your claim number is C. L. M. 4 8 2 1.',
      'You are claiming $1,250.50, is that right?',
      'Dr. Smith will call!',
      'Goodbye',
    ]);
    for (const size of [1, 2, 3, 5, 7, 13]) expect(split(chunks(text, size))).toEqual(whole);
  });
});
