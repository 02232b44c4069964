/** The respond turn holds back LLM text that names a value until it knows no tool was called. */
import { mentionsValue } from '../../src/session/value-mention.js';

describe('value mentions in LLM text', () => {
  it.each([
    'Great, January first 2027 is noted.',
    'So that was on the 3rd?',
    'You are claiming $900.',
    'Twelve hundred fifty dollars, got it.',
    'It happened yesterday, then.',
    'That was on the twenty-third.',
  ])('holds "%s"', (text) => expect(mentionsValue(text)).toBe(true));

  it.each([
    'We need the date of the incident to process your claim.',
    'Sorry, could you say that again?',
    'Of course, take your time.',
  ])('streams "%s"', (text) => expect(mentionsValue(text)).toBe(false));
});
