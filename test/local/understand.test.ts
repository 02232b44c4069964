import {
  MAX_UTTERANCE_CHARS,
  understandUtterance,
  warmUnderstanding,
  type UnderstandContext,
} from '../../src/providers/local/understand.js';

/** Tuesday. */
const TODAY = '2026-11-24';
const ctx: UnderstandContext = { today: TODAY };
const u = (text: string, c: UnderstandContext = ctx) => understandUtterance(text, c);

describe('understandUtterance: yes', () => {
  it.each([
    'yes',
    'yeah',
    'correct',
    "that's right",
    'sure',
    'got it',
    'okay',
    'yep',
    'uh huh',
    'OK',
    'o.k.',
    'Yes.',
    'YES!',
    'mm hmm',
    'that is correct',
    'Right, go ahead',
    'I got it, thanks',
    'for sure',
    "I've got it",
  ])('hears "%s" as yes', (text) => {
    const r = u(text);
    expect(r.yes).toBe(true);
    expect(r.no).toBe(false);
    expect(r.repeat).toBe(false);
  });

  it.each([
    "I'm not sure",
    "haven't got it yet",
    'not okay',
    'make sure you have it',
    'correct the amount',
    'right now',
  ])('does not hear "%s" as yes', (text) => {
    expect(u(text).yes).toBe(false);
  });
});

describe('understandUtterance: no', () => {
  it.each([
    'no',
    'nope',
    "that's wrong",
    'not quite',
    'incorrect',
    'No.',
    "that's not right",
    'that isn’t correct',
    'nah',
    'uh uh',
  ])('hears "%s" as no', (text) => {
    const r = u(text);
    expect(r.no).toBe(true);
    expect(r.yes).toBe(false);
  });

  it.each(['I know', 'I know it', 'no problem', 'no worries', 'nothing wrong there', 'nobody', 'knowing'])(
    'does not hear "%s" as no',
    (text) => {
      expect(u(text).no).toBe(false);
    },
  );
});

describe('understandUtterance: repeat', () => {
  it.each([
    'repeat',
    'say that again',
    'what was it',
    'pardon',
    'come again',
    'sorry?',
    'can you repeat the number',
    'what?',
    'huh?',
    'excuse me?',
    'Sorry',
    "I didn't catch that",
    'one more time please',
    'slower please',
    'what was the claim number?',
  ])('hears "%s" as a repeat request', (text) => {
    expect(u(text).repeat).toBe(true);
  });

  it.each([
    'sorry, it was 900',
    'no need to repeat it',
    "don't repeat it",
    'uh huh',
    'so what',
    'it happened again',
  ])('does not hear "%s" as a repeat request', (text) => {
    expect(u(text).repeat).toBe(false);
  });
});

describe('understandUtterance: goodbye', () => {
  it.each(['bye', 'goodbye', 'hang up', 'Good bye!', 'ok bye bye', "I'll hang up now", "that's all"])(
    'hears "%s" as goodbye',
    (text) => {
      expect(u(text).goodbye).toBe(true);
    },
  );

  it.each(["don't hang up", 'by the way', 'hello', "that's all correct"])(
    'does not hear "%s" as goodbye',
    (text) => {
      expect(u(text).goodbye).toBe(false);
    },
  );
});

describe('understandUtterance: dates', () => {
  it.each([
    ['March 3rd', '2026-03-03'],
    ['3/3/2026', '2026-03-03'],
    ['last Tuesday', '2026-11-17'],
    ['yesterday', '2026-11-23'],
    ['the 5th of June', '2026-06-05'],
    ['June fifth 2026', '2026-06-05'],
    ['two days ago', '2026-11-22'],
    ['March 3rd 2026', '2026-03-03'],
    ['it happened on March 3rd, 2026', '2026-03-03'],
    ['3/4/2026', '2026-03-04'],
    ['14/3/2026', '2026-03-14'],
    ['2026-03-03', '2026-03-03'],
    ['Oct 5, 2025', '2025-10-05'],
    ['december twenty fifth', '2025-12-25'],
    ['the day before yesterday', '2026-11-22'],
    ['a week ago', '2026-11-17'],
    ['3 weeks ago', '2026-11-03'],
    ['this morning', '2026-11-24'],
    ['last night', '2026-11-23'],
    ['today', '2026-11-24'],
    ['on Monday morning', '2026-11-23'],
    ['Tuesday', '2026-11-24'],
    ['the 5th', '2026-11-05'],
    ['on the third', '2026-11-03'],
    ['the twenty-first', '2026-11-21'],
    ['the twenty-eighth', '2026-10-28'],
    ['March the 3rd', '2026-03-03'],
    ['the 3rd of last month', '2026-10-03'],
    ['twenty-first of March', '2026-03-21'],
    ['February 29th 2024', '2024-02-29'],
  ])('reads "%s" as %s', (text, iso) => {
    expect(u(text).date).toBe(iso);
  });

  it('resolves past-looking phrases to the past', () => {
    expect(u('last Tuesday').date! < TODAY).toBe(true);
    expect(u('last Friday').date).toBe('2026-11-20');
    expect(u('this past Friday').date).toBe('2026-11-20');
  });

  it('moves a year-less date that would be in the future back a year', () => {
    expect(u('March 3rd', { today: '2026-01-10' }).date).toBe('2025-03-03');
    expect(u('12/25').date).toBe('2025-12-25');
    expect(u('Dec 31').date).toBe('2025-12-31');
  });

  it('moves a bare weekday that would be in the future back a week', () => {
    expect(u('Friday').date).toBe('2026-11-20');
    expect(u('on wednesday').date).toBe('2026-11-18');
  });

  it('keeps explicit futures so the claim machine can reject them', () => {
    expect(u('tomorrow').date).toBe('2026-11-25');
    expect(u('next Friday').date).toBe('2026-12-04');
    expect(u('March 3rd 2027').date).toBe('2027-03-03');
  });

  it('walks back to the last month that has the day', () => {
    expect(u('the 30th', { today: '2026-03-10' }).date).toBe('2026-01-30');
    expect(u('the 31st', { today: '2026-01-05' }).date).toBe('2025-12-31');
  });

  it.each([
    'in March',
    'March',
    'at 5',
    'noon',
    'now',
    'okay now what',
    'last week',
    'last month',
    'over the weekend',
    'I sat down',
    'the sun was out',
    'the first time',
    '02/30/2026',
    '13/13/2026',
    'march 32',
    'may I ask',
  ])('does not read "%s" as a date', (text) => {
    expect(u(text).date).toBeNull();
  });

  it('takes the date not preceded by "not"', () => {
    expect(u('not March 3rd, March 4th').date).toBe('2026-03-04');
    expect(u('March 4th, not March 3rd').date).toBe('2026-03-04');
  });

  it('reads a range as its start, or its end when correcting', () => {
    expect(u('the storm went from March 3rd to March 4th').date).toBe('2026-03-03');
    expect(u('change the date from March 3rd to March 4th').date).toBe('2026-03-04');
  });

  it('reads no date when today is not a real date, but still reads amounts', () => {
    const r = u('yesterday it cost $300', { today: 'not-a-date' });
    expect(r.date).toBeNull();
    expect(r.amount).toBe(300);
  });

  it('gives the same dates whatever the server time zone', () => {
    const saved = process.env.TZ;
    try {
      const results: (string | null)[][] = [];
      for (const tz of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'UTC', 'America/New_York']) {
        process.env.TZ = tz;
        results.push(
          ['yesterday', 'last Tuesday', 'two days ago', 'March 3rd', 'the 5th'].map((t) => u(t).date),
        );
      }
      for (const r of results)
        expect(r).toEqual(['2026-11-23', '2026-11-17', '2026-11-22', '2026-03-03', '2026-11-05']);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('resolves across a daylight-saving change', () => {
    expect(u('yesterday', { today: '2026-03-09' }).date).toBe('2026-03-08');
    expect(u('two days ago', { today: '2026-11-02' }).date).toBe('2026-10-31');
  });
});

describe('understandUtterance: amounts', () => {
  it.each([
    ['$1,250.50', 1250.5],
    ['1250', 1250],
    ['twelve hundred fifty dollars', 1250],
    ['about 900 bucks', 900],
    ['one thousand two hundred and fifty dollars and fifty cents', 1250.5],
    ['2.5k', 2500],
    ['nine hundred', 900],
    ['$2,026', 2026],
    ['$2026', 2026],
    ['a hundred dollars', 100],
    ['fifty five dollars', 55],
    ['1.2 million', 1_200_000],
    ['two point five thousand dollars', 2500],
    ['12.50', 12.5],
    ['5 dollars', 5],
    ['$5', 5],
    ['fifty cents', 0.5],
    ['twelve dollars fifty', 12.5],
    ['$12 and 50 cents', 12.5],
    ['three grand', 3000],
    ['the amount is 5', 5],
    ['it cost 20', 20],
    ["I'm claiming about twelve hundred", 1200],
    ['USD 300', 300],
    ['It was like, um, 1,500 dollars?', 1500],
    ['from 500 to 900 dollars', 900],
    ['not 500, 900', 900],
    ['900, not 500', 900],
    ['at 5 it was 900', 900],
    ['3 days ago it cost 12.50', 12.5],
  ])('reads "%s" as %d', (text, value) => {
    expect(u(text).amount).toBe(value);
  });

  it.each([
    'March 3rd 2026',
    '3/3/2026',
    'June fifth 2026',
    'two days ago',
    'the 5th of June',
    '12/25',
    'at 10:30',
    '7 pm',
    'in 2025',
  ])('does not read the numbers of the date or time "%s" as an amount', (text) => {
    expect(u(text).amount).toBeNull();
  });

  it.each([
    'twelve fifty',
    'nineteen ninety nine',
    '555 1234',
    '4 8 2 1',
    'my claim number is CLM-4821-0934',
    'clm 4821 0934',
    'policy number 123456',
    'my policy number is 123456',
    'room 412',
    '#45',
    '2 cars',
    '3 days',
    '50%',
    'it took 45 minutes',
  ])('does not read "%s" as an amount', (text) => {
    expect(u(text).amount).toBeNull();
  });

  it('reads a bare number up to 31 only when an amount is expected', () => {
    for (const t of ['20', 'twenty', 'one second', 'five']) expect(u(t).amount).toBeNull();
    expect(u('20', { ...ctx, expecting: 'amount' }).amount).toBe(20);
    expect(u('twenty', { ...ctx, expecting: 'amount' }).amount).toBe(20);
    expect(u('20', { ...ctx, expecting: 'date' }).amount).toBeNull();
  });

  it('reads a bare number up to 31 as the most recent such day when a date is expected', () => {
    expect(u('5', { ...ctx, expecting: 'date' }).date).toBe('2026-11-05');
    expect(u('the 5th', { ...ctx, expecting: 'date' }).date).toBe('2026-11-05');
    expect(u('5').date).toBeNull();
  });

  it('does not read a bare year as an amount when a date is expected', () => {
    expect(u('2026', { ...ctx, expecting: 'date' }).amount).toBeNull();
    expect(u('2026').amount).toBe(2026);
  });

  it('reads both a date and an amount in one utterance', () => {
    const r = u('it happened on March 3rd 2026 and cost $1,250.50');
    expect(r.date).toBe('2026-03-03');
    expect(r.amount).toBe(1250.5);
  });

  it('prefers a money-marked amount over a bare number', () => {
    expect(u('$300 for 2 windows and 1250').amount).toBe(300);
  });
});

describe('understandUtterance: corrections', () => {
  it('reads "no, the amount is 900" as an amount correction', () => {
    const r = u('no, the amount is 900');
    expect(r.correction).toEqual({ field: 'amount', value: '900.00' });
    expect(r.no).toBe(true);
    expect(r.amount).toBe(900);
  });

  it('reads "actually the date was March 4th" as a date correction', () => {
    expect(u('actually the date was March 4th').correction).toEqual({ field: 'date', value: '2026-03-04' });
  });

  it('reads "change the amount to $300" as an amount correction', () => {
    expect(u('change the amount to $300').correction).toEqual({ field: 'amount', value: '300.00' });
  });

  it('formats corrected amounts with two decimals', () => {
    expect(u('it should be $1,250.5').correction).toEqual({ field: 'amount', value: '1250.50' });
    expect(u('no, twelve hundred fifty dollars and five cents').correction).toEqual({
      field: 'amount',
      value: '1250.05',
    });
  });

  it('picks the named field when both values are heard', () => {
    expect(u('no, the date is March 4th, the 900 was fine').correction).toEqual({
      field: 'date',
      value: '2026-03-04',
    });
  });

  it('gives no correction when both values are heard and no field is named', () => {
    const r = u('no, it was March 4th and 900 dollars');
    expect(r.correction).toBeNull();
    expect(r.date).toBe('2026-03-04');
    expect(r.amount).toBe(900);
  });

  it('gives no correction without a value or without a cue', () => {
    expect(u('no, the amount is wrong').correction).toBeNull();
    expect(u('the date was March 4th').correction).toBeNull();
    expect(u('900 dollars').correction).toBeNull();
  });
});

describe('understandUtterance: robustness', () => {
  /** Nothing understood: every flag false, every value null. */
  const empty = (x: object) => Object.values(x).every((v) => v === false || v === null);

  it.each(['', '   ', '!!!', '???...', 'asdfgh qwerty', '\u0000\u0007', '🙂🙂'])(
    'understands nothing in "%s"',
    (text) => {
      expect(empty(u(text))).toBe(true);
    },
  );

  it('treats non-string input as empty', () => {
    expect(empty(understandUtterance(undefined as unknown as string, ctx))).toBe(true);
  });

  it('is case-insensitive and ignores punctuation', () => {
    expect(u('NO, THE AMOUNT IS $900!!!')).toMatchObject({ no: true, amount: 900 });
    expect(u('YESTERDAY.').date).toBe('2026-11-23');
    expect(u('Yes... got it!').yes).toBe(true);
  });

  it('reads only the first 500 characters', () => {
    const pad = 'la '.repeat(Math.ceil(MAX_UTTERANCE_CHARS / 3));
    expect(u(`${pad} 900 dollars`).amount).toBeNull();
    expect(u(`900 dollars ${pad}`).amount).toBe(900);
  });

  it('stays fast on very long input', () => {
    const long = 'one two three March 3rd $5 yes no '.repeat(20_000);
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) u(long);
    expect((performance.now() - t0) / 10).toBeLessThan(100);
  });

  it('is deterministic', () => {
    const text = 'actually it was last Tuesday and about twelve hundred fifty bucks';
    expect(u(text)).toEqual(u(text));
  });
});

describe('understandUtterance: negative amounts', () => {
  it.each([
    ['minus five dollars', -5],
    ['-5', -5],
    ['-$5', -5],
    ['$-5', -5],
    ['negative 20 dollars', -20],
  ])('keeps the sign of %j so the claim machine can refuse it', (text, amount) => {
    expect(understandUtterance(text, { today: '2026-11-25', expecting: 'amount' }).amount).toBe(amount);
  });

  it('does not read a range or a hyphenated number as negative', () => {
    expect(
      understandUtterance('five to ten dollars', { today: '2026-11-25', expecting: 'amount' }).amount,
    ).toBe(10);
    expect(understandUtterance('$1,250.50', { today: '2026-11-25', expecting: 'amount' }).amount).toBe(
      1250.5,
    );
  });
});

describe('understandUtterance: repeated readings', () => {
  it('reads the same words in the same context the same way, each caller getting its own copy', () => {
    const first = u('No, the amount is nine hundred', { today: TODAY, expecting: 'amount' });
    const again = u('No, the amount is nine hundred', { today: TODAY, expecting: 'amount' });
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    again.amount = 1;
    expect(u('No, the amount is nine hundred', { today: TODAY, expecting: 'amount' }).amount).toBe(900);
  });

  it('keeps contexts apart: the known date and the expected answer are part of the reading', () => {
    expect(u('the fourth', { today: TODAY, knownDate: '2026-03-03' }).date).toBe('2026-03-04');
    expect(u('the fourth', { today: TODAY, knownDate: '2026-05-03' }).date).toBe('2026-05-04');
    expect(u('twelve fifty', { today: TODAY, expecting: 'amount' }).amount).toBe(1250);
    expect(u('twelve fifty', { today: TODAY }).amount).toBeNull();
  });

  it('warms every parser up once and leaves the readings unchanged', () => {
    const before = u('March third', ctx);
    expect(Number.isFinite(warmUnderstanding(TODAY))).toBe(true);
    expect(u('March third', ctx)).toEqual(before);
  });
});
