import {
  findNumbers,
  parseOrdinal,
  parseSpokenNumber,
  tokenize,
} from '../../src/providers/local/spoken-number.js';

describe('parseSpokenNumber', () => {
  it.each([
    ['twelve hundred fifty', 1250],
    ['one thousand two hundred and fifty', 1250],
    ['nine hundred', 900],
    ['a hundred', 100],
    ['hundred', 100],
    ['a thousand', 1000],
    ['fifty five', 55],
    ['fifty-five', 55],
    ['two point five', 2.5],
    ['point five', 0.5],
    ['point oh five', 0.05],
    ['one point two five', 1.25],
    ['1.2 million', 1_200_000],
    ['1.2m', 1_200_000],
    ['two point five million', 2_500_000],
    ['2.5k', 2500],
    ['3 grand', 3000],
    ['1,250.50', 1250.5],
    ['1250', 1250],
    ['12 hundred', 1200],
    ['12 hundred and 50', 1250],
    ['1 thousand 250', 1250],
    ['twenty five hundred', 2500],
    ['one hundred and five', 105],
    ['one thousand and fifty', 1050],
    ['five hundred thousand', 500_000],
    ['one million two hundred thousand', 1_200_000],
    ['1 million 300 thousand', 1_300_000],
    ['two thousand twenty six', 2026],
    ['zero', 0],
    ['thirteen', 13],
    ['Nine Hundred', 900],
    ['  ninety nine.  ', 99],
  ])('reads "%s" as %d', (text, value) => {
    expect(parseSpokenNumber(text)).toBe(value);
  });

  it.each([
    'twelve fifty',
    'nineteen ninety nine',
    'five six',
    'a',
    'and',
    'hundred hundred',
    '',
    'banana',
    '1,25',
    'one thousand 1500',
    'fifty and',
  ])('refuses "%s", which is not exactly one number', (text) => {
    expect(parseSpokenNumber(text)).toBeNull();
  });

  it('stays fast on very long input', () => {
    const t0 = performance.now();
    expect(parseSpokenNumber('one '.repeat(50_000))).toBeNull();
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

describe('findNumbers', () => {
  it('finds each number with its character span', () => {
    const text = 'about twelve hundred fifty dollars, not 900';
    const found = findNumbers(text).map((m) => [m.value, text.slice(m.start, m.end)]);
    expect(found).toEqual([
      [1250, 'twelve hundred fifty'],
      [900, '900'],
    ]);
  });

  it('reports scale words so k and grand can be read as money', () => {
    expect(findNumbers('2.5k')[0]?.scaleWords).toEqual(['k']);
    expect(findNumbers('three grand')[0]?.scaleWords).toEqual(['grand']);
  });

  it('splits a colloquial pair like "twelve fifty" into two numbers', () => {
    expect(findNumbers('twelve fifty').map((m) => m.value)).toEqual([12, 50]);
  });

  it('does not read "a" alone or ordinals as numbers', () => {
    expect(findNumbers('a dog on the 5th')).toEqual([]);
  });
});

describe('parseOrdinal', () => {
  it.each([
    ['5th', 5],
    ['1st', 1],
    ['22nd', 22],
    ['fifth', 5],
    ['first', 1],
    ['twelfth', 12],
    ['twenty-first', 21],
    ['twenty first', 21],
    ['thirtieth', 30],
    ['thirty first', 31],
  ])('reads "%s" as %d', (text, value) => {
    expect(parseOrdinal(text)).toBe(value);
  });

  it('rejects a wrong suffix and non-ordinals', () => {
    for (const t of ['3th', '1nd', 'five', '', 'twenty']) expect(parseOrdinal(t)).toBeNull();
  });
});

describe('tokenize', () => {
  it('keeps offsets into the original text and straightens curly apostrophes', () => {
    const toks = tokenize('That’s $1,250.50');
    expect(toks.map((t) => [t.kind, t.text])).toEqual([
      ['word', "that's"],
      ['sym', '$'],
      ['num', '1,250.50'],
    ]);
    expect(toks[2]).toMatchObject({ start: 8, end: 16 });
  });
});
