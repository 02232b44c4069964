/**
 * A small, deterministic parser for numbers as callers say them and as speech-to-text writes them:
 * `twelve hundred fifty` = 1250, `one thousand two hundred and fifty`, `a hundred`, `fifty-five`,
 * `two point five`, `1.2 million`, `2.5k`, `1,250.50`, `12 hundred`.
 *
 * Grammar (over word and numeral tokens, case-insensitive):
 * - group  := below100 [`hundred` [`and`] below100] | `a`/`an` `hundred` … | numeral [`hundred` …]
 * - below100 := tens [ones] | teen | ones | numeral < 100
 * - number := group (scale [`and`] group)* [`point` digit+] [scale]; scales strictly decrease
 *   (`thousand`/`k`/`grand` < `million`/`mil` < `billion`/`bn`).
 *
 * What it refuses on purpose: sequences that are not one compositional number (`twelve fifty`,
 * `nineteen ninety nine`, `five six`) parse as separate numbers, so a caller of `findNumbers` can see
 * two adjacent numbers and decide not to guess. No I/O, no state.
 */

/** One token of the input, with character offsets into the text it came from. */
export type Token = {
  /** `num`: a numeral (`1,250.50`); `ord`: a numeral ordinal (`5th`); `word`: letters; `sym`: any other single character. */
  kind: 'num' | 'ord' | 'word' | 'sym';
  /** Lower-cased text of the token (commas kept for numerals). */
  text: string;
  start: number;
  end: number;
};

/** A number found in a text. */
export type NumberMatch = {
  value: number;
  /** Character offsets of the whole expression. */
  start: number;
  end: number;
  /** Token indices (inclusive first, exclusive last) into the token list it was found in. */
  firstToken: number;
  endToken: number;
  /** Uses at least one number word (`fifty`, `hundred`, `a`). */
  spoken: boolean;
  /** Uses a multiplier word (`hundred`, `thousand`, `k`, `grand`, `million`…). */
  scaled: boolean;
  /** Scale words used (`k`, `grand`, `thousand`…), in order. Lets callers treat `grand`/`k` as money. */
  scaleWords: readonly string[];
  /** Has a decimal part (`2.5`, `two point five`). */
  fractional: boolean;
};

const ONES: Readonly<Record<string, number>> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
};
const TEENS: Readonly<Record<string, number>> = {
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Readonly<Record<string, number>> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fourty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
/** Scale words usable anywhere. */
const SCALES: Readonly<Record<string, number>> = {
  thousand: 1e3,
  k: 1e3,
  grand: 1e3,
  million: 1e6,
  mil: 1e6,
  billion: 1e9,
  bn: 1e9,
};
/** Scale suffixes accepted only when glued to a numeral (`1.2m`), where they cannot be a word. */
const ATTACHED_SCALES: Readonly<Record<string, number>> = { m: 1e6, b: 1e9 };
/** Digit words after `point`: `point oh five`. */
const DECIMAL_DIGITS: Readonly<Record<string, number>> = { ...ONES, oh: 0, o: 0 };

const ORDINAL_UNITS: Readonly<Record<string, number>> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
};
const ORDINAL_SOLO: Readonly<Record<string, number>> = {
  ...ORDINAL_UNITS,
  tenth: 10,
  eleventh: 11,
  twelfth: 12,
  thirteenth: 13,
  fourteenth: 14,
  fifteenth: 15,
  sixteenth: 16,
  seventeenth: 17,
  eighteenth: 18,
  nineteenth: 19,
  twentieth: 20,
  thirtieth: 30,
};

const TOKEN_RE =
  /(\d{1,2}(?:st|nd|rd|th))(?![a-z])|(\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)|([a-z]+(?:'[a-z]+)*)|(\S)/g;

/**
 * Splits text into tokens. Input is lower-cased and curly apostrophes are straightened; offsets
 * refer to the input string (same length after those changes).
 */
export function tokenize(text: string): Token[] {
  // "fifty-five", "twenty-first": a hyphen between letters is a space (same length, offsets hold).
  const src = text
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/(?<=[a-z])-(?=[a-z])/g, ' ');
  const out: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(src); m !== null; m = TOKEN_RE.exec(src)) {
    const kind: Token['kind'] = m[1] ? 'ord' : m[2] ? 'num' : m[3] ? 'word' : 'sym';
    out.push({ kind, text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return out;
}

function numeralValue(t: Token | undefined): number | null {
  if (!t || t.kind !== 'num') return null;
  const n = Number(t.text.replace(/,/g, ''));
  return Number.isFinite(n) ? n : null;
}

function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t !== undefined && t.kind === 'word' && words.includes(t.text);
}

function scaleOf(toks: readonly Token[], i: number): { value: number; word: string } | null {
  const t = toks[i];
  if (!t || t.kind !== 'word') return null;
  const s = SCALES[t.text];
  if (s !== undefined) return { value: s, word: t.text };
  const prev = toks[i - 1];
  const a = ATTACHED_SCALES[t.text];
  if (a !== undefined && prev?.kind === 'num' && prev.end === t.start) return { value: a, word: t.text };
  return null;
}

type Part = { value: number; end: number; spoken: boolean; scaled: boolean; fractional: boolean };

/**
 * tens [ones] | teen | ones | a numeral. With `numeralBelow`, the numeral must be a plain integer
 * below that bound (used after `hundred` and after a scale word).
 */
function parseBelow100(toks: readonly Token[], i: number, numeralBelow: number | null): Part | null {
  const t = toks[i];
  if (!t) return null;
  if (t.kind === 'num') {
    const v = numeralValue(t);
    if (v === null) return null;
    if (numeralBelow !== null && (!Number.isInteger(v) || v >= numeralBelow || t.text.includes(',')))
      return null;
    return { value: v, end: i + 1, spoken: false, scaled: false, fractional: !Number.isInteger(v) };
  }
  if (t.kind !== 'word') return null;
  const tens = TENS[t.text];
  if (tens !== undefined) {
    const next = toks[i + 1];
    const one = next?.kind === 'word' ? ONES[next.text] : undefined;
    if (one !== undefined && one > 0)
      return { value: tens + one, end: i + 2, spoken: true, scaled: false, fractional: false };
    return { value: tens, end: i + 1, spoken: true, scaled: false, fractional: false };
  }
  const v = TEENS[t.text] ?? ONES[t.text];
  return v === undefined ? null : { value: v, end: i + 1, spoken: true, scaled: false, fractional: false };
}

/** `point five`, `point two five`, `point 5`: the fractional value and where it ends. */
function parseFraction(toks: readonly Token[], i: number): { value: number; end: number } | null {
  if (!isWord(toks[i], 'point', 'dot')) return null;
  const first = toks[i + 1];
  if (first?.kind === 'num' && /^\d+$/.test(first.text))
    return { value: Number(`0.${first.text}`), end: i + 2 };
  let digits = '';
  let j = i + 1;
  for (let t = toks[j]; t?.kind === 'word' && DECIMAL_DIGITS[t.text] !== undefined; t = toks[++j]) {
    digits += String(DECIMAL_DIGITS[t.text]);
  }
  return digits ? { value: Number(`0.${digits}`), end: j } : null;
}

/** One group below a scale: `twelve hundred fifty`, `a hundred and five`, `12 hundred`, `250`. */
function parseGroup(toks: readonly Token[], i: number, afterScale: boolean): Part | null {
  const t = toks[i];
  if (!t) return null;
  let base: Part | null;
  if (isWord(t, 'a', 'an')) {
    // "a" is a number only before a multiplier: "a hundred", "a thousand", "a million".
    if (isWord(toks[i + 1], 'hundred'))
      base = { value: 1, end: i + 1, spoken: true, scaled: false, fractional: false };
    else if (scaleOf(toks, i + 1))
      return { value: 1, end: i + 1, spoken: true, scaled: false, fractional: false };
    else return null;
  } else if (isWord(t, 'hundred')) {
    base = { value: 1, end: i, spoken: true, scaled: false, fractional: false };
  } else if (isWord(t, 'point', 'dot')) {
    const f = parseFraction(toks, i);
    return f ? { value: f.value, end: f.end, spoken: true, scaled: false, fractional: true } : null;
  } else {
    base = parseBelow100(toks, i, afterScale ? 1000 : null);
    if (!base) return null;
    if (t.kind === 'num') {
      // A big numeral (1250, 1,250.50) stands alone; a small one may take "hundred".
      const small = Number.isInteger(base.value) && base.value < 100 && !t.text.includes(',');
      if (!small || !isWord(toks[base.end], 'hundred')) return base;
    }
  }
  let { value, end, spoken } = base;
  let scaled = false;
  if (isWord(toks[end], 'hundred') && value > 0 && value < 100) {
    value *= 100;
    end += 1;
    spoken = true;
    scaled = true;
    const andSkip = isWord(toks[end], 'and') ? 1 : 0;
    const rest = parseBelow100(toks, end + andSkip, 100);
    if (rest) {
      value += rest.value;
      end = rest.end;
      spoken = spoken || rest.spoken;
    }
  }
  const frac = scaled ? null : parseFraction(toks, end);
  if (frac) return { value: value + frac.value, end: frac.end, spoken: true, scaled, fractional: true };
  return { value, end, spoken, scaled, fractional: base.fractional };
}

/**
 * Parses the longest number expression starting at token `i`, or null if none starts there.
 * Exposed for callers that already hold the token list.
 */
export function parseNumberAt(toks: readonly Token[], i: number): Omit<NumberMatch, 'start' | 'end'> | null {
  let total = 0;
  let j = i;
  let lastScale = Infinity;
  let parsedAny = false;
  let spoken = false;
  let scaled = false;
  let fractional = false;
  const scaleWords: string[] = [];
  for (;;) {
    const g = parseGroup(toks, j, lastScale !== Infinity);
    if (!g) break;
    if (lastScale !== Infinity && g.value >= lastScale) break; // "one thousand 1500": not one number
    const sc = scaleOf(toks, g.end);
    if (sc && sc.value < lastScale && g.value > 0) {
      total += g.value * sc.value;
      lastScale = sc.value;
      scaleWords.push(sc.word);
      spoken = spoken || g.spoken || !(sc.word in ATTACHED_SCALES || sc.word === 'k');
      scaled = true;
      fractional = fractional || g.fractional;
      j = g.end + 1;
      parsedAny = true;
      if (g.fractional) break; // "1.2 million" ends the number
      // "one thousand and fifty": take "and" only if a group follows it.
      if (isWord(toks[j], 'and') && parseGroup(toks, j + 1, true)) j += 1;
      continue;
    }
    total += g.value;
    spoken = spoken || g.spoken;
    scaled = scaled || g.scaled;
    fractional = fractional || g.fractional;
    j = g.end;
    parsedAny = true;
    break;
  }
  if (!parsedAny) return null;
  return {
    value: Math.round(total * 1e6) / 1e6,
    firstToken: i,
    endToken: j,
    spoken,
    scaled,
    scaleWords,
    fractional,
  };
}

/** Finds every number expression in a token list, leftmost-longest, non-overlapping. */
export function findNumbersInTokens(toks: readonly Token[]): NumberMatch[] {
  const out: NumberMatch[] = [];
  for (let i = 0; i < toks.length;) {
    const p = parseNumberAt(toks, i);
    const first = toks[i];
    const last = p ? toks[p.endToken - 1] : undefined;
    if (p && first && last) {
      out.push({ ...p, start: first.start, end: last.end });
      i = p.endToken;
    } else {
      i += 1;
    }
  }
  return out;
}

/** Finds every number expression in a text (see the module grammar). */
export function findNumbers(text: string): NumberMatch[] {
  return findNumbersInTokens(tokenize(text));
}

/**
 * Parses a text that is exactly one number expression (surrounding spaces and a trailing `.` /
 * `?` / `!` are ignored), e.g. `"twelve hundred fifty"` → 1250, `"2.5k"` → 2500. Returns null for
 * anything else, including two numbers in a row (`"twelve fifty"`).
 */
export function parseSpokenNumber(text: string): number | null {
  const toks = tokenize(
    text
      .slice(0, 500)
      .trim()
      .replace(/[.?!]+$/, ''),
  );
  if (toks.length === 0) return null;
  const p = parseNumberAt(toks, 0);
  return p && p.endToken === toks.length ? p.value : null;
}

/**
 * Parses an ordinal day-like expression: `5th`, `fifth`, `twenty-first`, `twenty first`, `thirtieth`.
 * Returns null for anything else. Accepts 1..39 (callers check the calendar).
 */
export function parseOrdinal(text: string): number | null {
  const toks = tokenize(text.slice(0, 100).trim());
  const p = parseOrdinalAt(toks, 0);
  return p && p.endToken === toks.length ? p.value : null;
}

/** Ordinal starting at token `i` (see {@link parseOrdinal}), with the token index after it. */
export function parseOrdinalAt(
  toks: readonly Token[],
  i: number,
): { value: number; endToken: number } | null {
  const t = toks[i];
  if (!t) return null;
  if (t.kind === 'ord') {
    const n = Number.parseInt(t.text, 10);
    const suffix = t.text.slice(-2);
    const expected = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
    return n > 0 && suffix === expected ? { value: n, endToken: i + 1 } : null;
  }
  if (t.kind !== 'word') return null;
  // "twenty-first" and "twenty first" both arrive as two words (see tokenize).
  const tens = TENS[t.text];
  if (tens !== undefined && (tens === 20 || tens === 30)) {
    const k = i + 1;
    const u = toks[k]?.kind === 'word' ? ORDINAL_UNITS[toks[k]?.text ?? ''] : undefined;
    if (u !== undefined) return { value: tens + u, endToken: k + 1 };
    return null;
  }
  const solo = ORDINAL_SOLO[t.text];
  return solo === undefined ? null : { value: solo, endToken: i + 1 };
}

/**
 * A year as callers say it, starting at token `i`: `nineteen ninety nine` (1999), `eighteen fifty`,
 * `twenty twenty six`, `twenty oh five`, `nineteen hundred`, `two thousand` [`and`] `twenty six`, or
 * a numeral from 1000 to 2999. Returns the year and the token index after it, or null. `twenty
 * six` alone is not a year (the second group must be 10–99, `oh` + a digit or `hundred`).
 */
export function parseSpokenYearAt(
  toks: readonly Token[],
  i: number,
): { value: number; endToken: number } | null {
  const t = toks[i];
  if (!t) return null;
  if (t.kind === 'num') {
    return /^[12]\d{3}$/.test(t.text) ? { value: Number(t.text), endToken: i + 1 } : null;
  }
  if (t.kind !== 'word') return null;
  if (t.text === 'two' && isWord(toks[i + 1], 'thousand')) {
    let j = i + 2;
    if (isWord(toks[j], 'and')) j += 1;
    const rest = parseBelow100(toks, j, 100);
    return rest && rest.spoken
      ? { value: 2000 + rest.value, endToken: rest.end }
      : { value: 2000, endToken: i + 2 };
  }
  const century = TEENS[t.text] ?? (t.text === 'twenty' ? 20 : undefined);
  if (century === undefined || century < 10) return null;
  const next = toks[i + 1];
  if (isWord(next, 'hundred')) return { value: century * 100, endToken: i + 2 };
  if (isWord(next, 'oh', 'o')) {
    const d = toks[i + 2]?.kind === 'word' ? ONES[toks[i + 2]!.text] : undefined;
    return d !== undefined && d > 0 ? { value: century * 100 + d, endToken: i + 3 } : null;
  }
  const rest = parseBelow100(toks, i + 1, 100);
  if (!rest || !rest.spoken || rest.value < 10) return null;
  return { value: century * 100 + rest.value, endToken: rest.end };
}

/** A number read from digit groups: its value, and the readings it could also have, if any. */
export type DigitGroupReading = { value: number; choices: readonly number[] | null };

const isPlainWhole = (m: NumberMatch, max: number) =>
  Number.isInteger(m.value) && !m.scaled && !m.fractional && m.value >= 0 && m.value <= max;

/**
 * Reads a run of adjacent numbers (nothing but spaces between) the way people say prices and
 * figures in groups, or null when the run is not one of these shapes:
 * - three or more single digits, said one by one: `one two five zero`, `1 2 5 0` → 1250;
 * - two groups, the second of two digits: `twelve fifty` → 1250, `nineteen ninety nine` → 1999,
 *   `12 50` → 1250. When the first group is a single digit (`one twenty five`) the phrase is truly
 *   ambiguous (125, or 1.25): the reading comes with both `choices` so the caller can be asked.
 * The caller decides when such a run may be an amount at all (it is also how phone numbers and
 * years are said).
 */
export function readDigitGroups(run: readonly NumberMatch[]): DigitGroupReading | null {
  const singleToken = run.every((m) => m.endToken - m.firstToken === 1);
  if (run.length >= 3 && singleToken && run.every((m) => isPlainWhole(m, 9))) {
    return { value: Number(run.map((m) => String(m.value)).join('')), choices: null };
  }
  if (run.length !== 2) return null;
  const [a, b] = run as [NumberMatch, NumberMatch];
  if (!isPlainWhole(a, 99) || a.value < 1 || !isPlainWhole(b, 99) || b.value < 10) return null;
  const value = a.value * 100 + b.value;
  return a.value <= 9 ? { value, choices: [value, a.value + b.value / 100] } : { value, choices: null };
}
