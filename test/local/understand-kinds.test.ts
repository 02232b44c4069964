/**
 * The kinds of caller answers the local understanding once missed, each in many phrasings as a
 * speech recognizer writes them: with Deepgram smart formatting (`$1,250`, `March 3rd, 2026`) and
 * without it (`twelve fifty`, `march third twenty twenty six`).
 */
import { understandUtterance, type UnderstandContext } from '../../src/providers/local/understand.js';

/** Tuesday. */
const TODAY = '2026-11-24';
const atAmount: UnderstandContext = { today: TODAY, expecting: 'amount' };
const atDate: UnderstandContext = { today: TODAY, expecting: 'date' };
const atReadBack: UnderstandContext = { today: TODAY, knownDate: '2026-03-03' };
const free: UnderstandContext = { today: TODAY };
const u = understandUtterance;

describe('amounts said in digit groups or digit by digit', () => {
  it.each([
    ['twelve fifty', 1250],
    ['twelve fifty dollars', 1250],
    ['uh twelve fifty', 1250],
    ['it was twelve fifty', 1250],
    ['12 50', 1250],
    ['twelve fifty five', 1255],
    ['nineteen ninety nine', 1999],
    ['forty five hundred', 4500],
    ['one two five zero', 1250],
    ['one, two, five, zero', 1250],
    ['1 2 5 0 dollars', 1250],
    ['1 2 5 0', 1250],
    ['nine nine nine', 999],
    ['$1,250', 1250],
    ['twelve hundred fifty dollars', 1250],
    ['one thousand two hundred and fifty', 1250],
  ])('reads %j at the amount question as %d', (said, amount) => {
    const r = u(said, atAmount);
    expect(r.amount).toBe(amount);
    expect(r.amountChoices).toBeNull();
  });

  it.each([
    ['the repair was twelve fifty', 1250],
    ['twelve fifty dollars', 1250],
    ['1 2 5 0 dollars', 1250],
    ['I paid one two five zero', 1250],
  ])('reads %j as %d anywhere when money is said around it', (said, amount) => {
    expect(u(said, free).amount).toBe(amount);
  });

  it.each(['one twenty five', 'one twenty-five', 'two fifty', '1 25'])(
    'keeps the two readings of the truly ambiguous %j to ask which',
    (said) => {
      const r = u(said, atAmount);
      expect(r.amount).toBeNull();
      expect(r.amountChoices).toHaveLength(2);
      expect(r.amountChoices?.[0]).toBeGreaterThan(100);
      expect(r.amountChoices?.[1]).toBeLessThan(10);
    },
  );

  it.each(['my number is 555 1234', '4 8 2 1', 'twelve fifty', 'one two five zero'])(
    'does not guess at digit groups %j where no amount is expected and no money is said',
    (said) => {
      expect(u(said, free).amount).toBeNull();
    },
  );
});

describe('a date that does not exist never becomes something else', () => {
  it.each([
    ['April 31st, 2026', '2026-04-31'],
    ['april thirty first twenty twenty six', '2026-04-31'],
    ['it was on April 31st', '2026-04-31'],
    ['February thirtieth', '2026-02-30'],
    ['february 30th', '2026-02-30'],
    ['the thirtieth of February', '2026-02-30'],
    ['the 31st of june 2025', '2025-06-31'],
    ['June 31', '2026-06-31'],
    ['February 29th, 2025', '2025-02-29'],
    ['february twenty ninth twenty twenty five', '2025-02-29'],
  ])('%j is heard as the impossible date %s, and as no amount', (said, impossible) => {
    for (const c of [free, atDate, atAmount]) {
      const r = u(said, c);
      expect(r.impossibleDate).toBe(impossible);
      expect(r.date).toBeNull();
      expect(r.amount).toBeNull();
    }
  });

  it.each([
    ['March 3rd, 1850', '1850-03-03'],
    ['march third eighteen fifty', '1850-03-03'],
    ['3/3/1850', '1850-03-03'],
    ['march 3rd nineteen ninety nine', '1999-03-03'],
    ['the 3rd of march two thousand twenty', '2020-03-03'],
    ['march third twenty twenty six', '2026-03-03'],
    ['March 3rd, 2026', '2026-03-03'],
    ['March 3rd 2027', '2027-03-03'],
  ])('keeps the year said in %j (%s), never this year instead', (said, iso) => {
    const r = u(said, atDate);
    expect(r.date).toBe(iso);
    expect(r.amount).toBeNull();
  });

  it('keeps a valid February 29th of a leap year', () => {
    expect(u('February 29th, 2024', atDate).date).toBe('2024-02-29');
  });
});

describe('corrections take their context from what is corrected', () => {
  it.each([
    'no, the date is wrong, it was the fourth',
    'no it was the 4th',
    'actually the fourth',
    'the date should be the fourth',
    'it was the fourth not the third',
  ])('at the read-back of March 3rd, %j is March 4th', (said) => {
    const r = u(said, atReadBack);
    expect(r.date ?? r.correction?.value).toBe('2026-03-04');
    if (r.correction) expect(r.correction).toEqual({ field: 'date', value: '2026-03-04' });
  });

  it('a day the known month lacks is an impossible date, not another month', () => {
    const r = u('no, the thirty first', { today: TODAY, knownDate: '2026-02-03' });
    expect(r.impossibleDate).toBe('2026-02-31');
    expect(r.date).toBeNull();
  });

  it.each([
    ['the nineteenth, no sorry, the twentieth of November', '2026-11-20'],
    ['November 19th, no wait, November 20th', '2026-11-20'],
    ['the 19th... sorry, I mean the 20th of November', '2026-11-20'],
  ])('self-correction %j inside one answer gives the last date once', (said, iso) => {
    expect(u(said, atDate).date).toBe(iso);
  });

  it.each([
    ['no, the amount is fifteen hundred', 1500],
    ['actually it was twelve fifty', 1250],
  ])('%j corrects the amount', (said, amount) => {
    expect(u(said, { today: TODAY }).correction).toEqual({ field: 'amount', value: amount.toFixed(2) });
  });
});

describe('questions, stalls and named fields', () => {
  it.each([
    "what's my claim number again?",
    'what was the claim number',
    'can you repeat my claim number',
    'sorry, what is the claim number?',
    'can you give me the reference number again',
  ])('%j asks for the claim number', (said) => {
    expect(u(said, free).asksClaimNumber).toBe(true);
  });

  it.each(['I wrote down the claim number', 'got it, I have the claim number'])(
    '%j does not ask for the claim number',
    (said) => {
      expect(u(said, free).asksClaimNumber).toBe(false);
    },
  );

  it.each(['why do you need that?', 'why?', 'what do you need that for', 'how come', 'what is that for?'])(
    '%j asks why',
    (said) => {
      expect(u(said, free).asksWhy).toBe(true);
    },
  );

  it('does not hear a question in "that\'s why I called"', () => {
    expect(u("that's why I called", free).asksWhy).toBe(false);
  });

  it.each([
    "I don't know",
    'hang on, let me check',
    'hold on a second',
    "I'm not sure",
    "I can't remember",
    'one moment please',
    'let me find the receipt',
    'no idea',
    "I don't have it in front of me",
  ])('%j is a stall', (said) => {
    const r = u(said, atAmount);
    expect(r.stall).toBe(true);
    expect(r.no).toBe(false);
    expect(r.amount).toBeNull();
  });

  it.each([
    ['the amount', 'amount'],
    ['the amount is wrong', 'amount'],
    ['amount', 'amount'],
    ['the date', 'date'],
    ['no, the date is wrong', 'date'],
    ['the day', 'date'],
  ])('%j names the %s', (said, field) => {
    expect(u(said, free).field).toBe(field);
  });
});
