/**
 * What a caller's utterance means for the claim intake, without a model: yes / no / repeat /
 * goodbye, a claim date, a claim amount, a correction. Pure and deterministic: the reference day
 * is passed in, nothing reads the clock, input is capped at {@link MAX_UTTERANCE_CHARS}.
 *
 * The rules, in the order they apply:
 *
 * **Input.** Only the first 500 characters are read (NFKC-normalized, curly quotes straightened,
 * `o.k.` → `ok`). Claim numbers (`CLM-4821-0937`, `clm 4821 0937`) are blanked first so their
 * digits are never a date or an amount.
 *
 * **Dates** (chrono-node, US casual English, `forwardDate: false`, reference = `today` at local noon):
 * - A chrono match counts as a date only if it names a day: a certain day (`March 3rd`, `3/3/2026`,
 *   `yesterday`, `two days ago`), a full weekday name (`last Tuesday`; `sat`/`sun` are ignored, they
 *   are ordinary words), or `this/last morning|afternoon|evening|night`, `tonight`. Month-only
 *   (`in March`), time-only (`at 5`, `noon`), `now` and vague spans (`last week`, `last month`,
 *   `weekend`) are not dates, but their text is still never read as an amount.
 * - Slash dates are US M/D/Y (`3/4/2026` = March 4th); chrono falls back to D/M when M > 12.
 * - Incidents happen in the past: a date said without a year that lands after `today` moves back a
 *   year (`March 3rd` on 2026-01-10 → 2025-03-03), and a bare weekday after `today` moves back a week
 *   (`Friday` on a Tuesday → last Friday). Explicit futures (`tomorrow`, `next Friday`, a year) are
 *   kept, so the claim machine can reject them with a reason the caller hears.
 * - `the 5th`, `on the third`, `March the 3rd`, `the 3rd of last month` (an ordinal after `the`,
 *   not followed by a noun such as `time`) is the most recent such day of a month.
 * - A year said after a day is kept as said, in digits or words (`march third eighteen fifty`,
 *   `twenty twenty six`, `two thousand twenty`), never replaced by this year.
 * - A month and day the calendar lacks (`April 31st, 2026`, `the thirtieth of February`) is an
 *   `impossibleDate` (YYYY-MM-DD-shaped), never another day and never an amount.
 * - A day said alone (`the fourth`) when `ctx.knownDate` is set keeps that date's month and year.
 * - With several dates, one preceded by `not` / `from` / `instead of` / `rather than` loses; then the
 *   last one wins. A range (`from March 3rd to March 4th`) gives its start, or its end when the
 *   utterance is a correction (`change the date from March 3rd to March 4th`).
 *
 * **Amounts** (see `spoken-number.ts` for the number grammar):
 * - Numbers inside a date, a time or a claim number are never amounts (`March 3rd 2026`, `3/3/2026`,
 *   `at 5`, `10:30`, `7 pm`). A "time" chrono finds without any time marker (`500 to 900`) is not a
 *   time. `$2,026` is an amount: `$` always wins.
 * - Strong (always an amount): after `$`/`usd`; before `dollars`/`bucks`/`usd`/`cents`; using `k` or
 *   `grand` (`2.5k`, `3 grand`); or within four words after a money cue (`amount`, `cost`, `paid`,
 *   `claiming`, `total`, `worth`, `price`, `bill`, `damage`, `estimate`…): `the amount is 5`.
 *   `X dollars [and] Y cents` and `X dollars Y` are combined (`twelve dollars fifty` = 12.50).
 * - `one` after `the`/`that`/`first`/`other`… is a pronoun ("the first one"), never 1.
 * - Not an amount unless strong by `$`/currency word: a number followed by a unit (`3 days`,
 *   `2 cars`, `50%`, `5 pm`) or preceded by an identifier word (`policy number 123`, `#5`, `room 12`).
 * - Numbers in a row without a word between are digit groups: three or more single digits (`one two
 *   five zero`, `1 2 5 0`) or two groups whose second has two digits (`twelve fifty` = 1250). They
 *   are an amount only where one is expected (`ctx.expecting` `'amount'`), money is said around
 *   them (`1 2 5 0 dollars`), or at a yes / no / correction; elsewhere (`555 1234`, `4 8 2 1`) they
 *   are not guessed at. A single digit then two (`one twenty five`: 125 or 1.25) is truly
 *   ambiguous: no amount, its readings in `amountChoices` so the caller can be asked.
 * - Weak (a bare number): a whole number 0–31 said without `hundred`/`thousand` is ambiguous (day of
 *   the month, a count, "one moment"), so it is an amount only when `ctx.expecting` is `'amount'`,
 *   and a day of the month (most recent past) when `ctx.expecting` is `'date'` and no other date was
 *   heard; otherwise it is ignored. A bare 4-digit year-like number (1900–2099) after `in`/`of`/
 *   `year`/`since`, or when a date is expected, is not an amount. Any other bare number is
 *   (`1250`, `nine hundred`, `12.50`).
 * - With several amounts: one preceded by `not`/`from`/`instead of`/`rather than` loses, strong beats
 *   weak, then the last one wins (`not 500, 900` → 900).
 *
 * **Yes / no / repeat / goodbye** are word-phrase matches on whole words after expanding
 * contractions (`that's` → `that is`, `didn't` → `did not`), so `I know` is not `no`. A yes phrase
 * with `not`/`never` in the three words before it (in the same clause) does not count
 * (`I'm not sure`, `haven't got it`); `not right`, `not correct`, `not quite` are no. `no problem`,
 * `no worries`, `no idea`, `no need` are not no. `correct the amount` is a verb, not a yes; with a
 * goodbye, `okay`/`alright`/`sure` only take leave (`okay, bye` is no yes). `sorry?`, `what?`, `huh?`, `excuse me?` (or said alone) are repeat requests; `sorry, it was 900` is not.
 *
 * **Questions and stalls**: `asksClaimNumber` ("what's my claim number again?"), `asksWhy` ("why
 * do you need that?"; not "that's why"), `stall` ("hang on", "let me check", "I don't know", "not
 * sure"); `field` is the one field named without its value ("the amount", "the date is wrong").
 *
 * **Correction**: a date or amount plus a correction cue (a no, `actually`, `change`, `should be`,
 * `I meant`, `instead`, `wrong`, `not`, `update`, `fix`, `make it`, `correct` as a verb). The field is
 * the one named (`amount`/`total`/`sum`/`cost`/`price` or `date`/`day`) when its value was heard,
 * else the only kind of value heard; both kinds and no name → no correction (the plain `date` and
 * `amount` are still reported). The value is `YYYY-MM-DD` or a 2-decimal string (`900.00`).
 */
import type * as chrono from 'chrono-node';
// The English locale only: the package root loads every locale (≈ 11 MB more of every process).
import * as chronoEn from 'chrono-node/en';
import { epochDayOf } from '../../../machines/claim/claim.validation.js';
import {
  findNumbersInTokens,
  parseNumberAt,
  parseOrdinalAt,
  parseSpokenYearAt,
  readDigitGroups,
  tokenize,
  type NumberMatch,
  type Token,
} from './spoken-number.js';

/** Only this many characters of an utterance are read: keeps every call cheap whatever comes in. */
export const MAX_UTTERANCE_CHARS = 500;

/** What was understood in one caller utterance. Several fields can be set at once. */
export type Understanding = {
  /** Agreement or acknowledgement: "yes", "yeah", "correct", "that's right", "got it", "okay", "uh huh". */
  yes: boolean;
  /** Disagreement: "no", "nope", "that's wrong", "not quite", "incorrect". */
  no: boolean;
  /** A request to hear the last thing again: "repeat", "say that again", "pardon", "sorry?". */
  repeat: boolean;
  /** The incident date as YYYY-MM-DD, resolved against `ctx.today`, or null. */
  date: string | null;
  /** An amount in dollars (may have cents), or null. Not range-checked: the claim machine does that. */
  amount: number | null;
  /** A correction of a field already given: "no, the amount is 900", "actually the date was March 4th". */
  correction: { field: 'date' | 'amount'; value: string } | null;
  /** The caller is leaving: "bye", "goodbye", "hang up". */
  goodbye: boolean;
  /**
   * A date that was said but does not exist (`April 31st, 2026`, `February thirtieth`), as
   * YYYY-MM-DD-shaped text that is not a calendar day; null when none. Never turned into another
   * day or into an amount: the claim machine refuses it with the reason the caller hears.
   */
  impossibleDate: string | null;
  /** An amount said in a truly ambiguous way (`one twenty five`): its readings, to ask which; else null. */
  amountChoices: readonly number[] | null;
  /** The caller asks for their claim number ("what's my claim number again?"). */
  asksClaimNumber: boolean;
  /** The caller asks why the bot needs what it asks for ("why do you need that?"). */
  asksWhy: boolean;
  /** The caller needs time or does not know ("hang on, let me check", "I don't know"). */
  stall: boolean;
  /** A field the caller names without giving its value ("the amount", "the date is wrong"), or null. */
  field: 'date' | 'amount' | null;
};

/** The reference for an utterance. */
export type UnderstandContext = {
  /** The caller's current local date, YYYY-MM-DD. Relative dates resolve against it; if it is not a real date, no date is understood. */
  today: string;
  /**
   * The caller's IANA time zone. Informational: `today` is already the caller's local date and all
   * date arithmetic is on calendar days, so the result does not depend on it (or on the server's zone).
   */
  timezone?: string;
  /** What the bot just asked for. Only decides what a bare number from 0 to 31 means (see the module rules). */
  expecting?: 'date' | 'amount';
  /**
   * The date already on the claim, YYYY-MM-DD, if any: a correction that names only a day ("no,
   * it was the fourth") keeps its month and year.
   */
  knownDate?: string | null;
};

const NOTHING: Understanding = {
  yes: false,
  no: false,
  repeat: false,
  date: null,
  amount: null,
  correction: null,
  goodbye: false,
  impossibleDate: null,
  amountChoices: null,
  asksClaimNumber: false,
  asksWhy: false,
  stall: false,
  field: null,
};

// ─── text preparation ────────────────────────────────────────────────────────────────────────────

function prepare(text: unknown): string {
  if (typeof text !== 'string') return '';
  return (
    text
      .slice(0, MAX_UTTERANCE_CHARS * 2) // NFKC can shrink text; cap before the work, and again after
      .normalize('NFKC')
      .slice(0, MAX_UTTERANCE_CHARS)
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .replace(/[\u2018\u2019\u02bc`]/g, "'")
      .replace(/[\u201c\u201d]/g, '"')
      .replace(/\bo\.k\.?(?=\s|$|[,!?])/gi, 'ok ')
  );
}

/** Replaces `[start, end)` with a marker char and spaces: offsets hold, and the gap is not whitespace. */
function blank(s: string, start: number, end: number): string {
  if (end <= start) return s;
  return s.slice(0, start) + '\u00a7' + ' '.repeat(end - start - 1) + s.slice(end);
}

const CLAIM_NUMBER_RE = /\bclm[\s.-]*\d{4}[\s.-]*\d{4}\b/gi;

// ─── calendar helpers ────────────────────────────────────────────────────────────────────────────

type Ymd = { y: number; m: number; d: number };

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function isoOf({ y, m, d }: Ymd): string | null {
  const iso = `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
  return y >= 1 && y <= 9999 && epochDayOf(iso) !== null ? iso : null;
}

function parseIso(iso: string): Ymd | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m || epochDayOf(iso) === null) return null;
  return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
}

function addDays(iso: string, days: number): string {
  const day = epochDayOf(iso) ?? 0;
  return new Date((day + days) * 86_400_000).toISOString().slice(0, 10);
}

// prettier-ignore
const MONTHS: Readonly<Record<string, number>> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6,
  july: 7, jul: 7, august: 8, aug: 8, september: 9, sept: 9, sep: 9, october: 10, oct: 10,
  november: 11, nov: 11, december: 12, dec: 12,
};

/** The most recent day `d` of a month, on or before today (walking back up to a year for short months). */
function recentDayOfMonth(d: number, today: Ymd): string | null {
  let { y, m } = today;
  if (d > today.d) m -= 1;
  for (let i = 0; i < 13; i++, m -= 1) {
    if (m < 1) {
      m = 12;
      y -= 1;
    }
    const iso = isoOf({ y, m, d });
    if (iso) return iso;
  }
  return null;
}

// ─── dates ───────────────────────────────────────────────────────────────────────────────────────

type DateCandidate = {
  start: number;
  end: number;
  /** YYYY-MM-DD; when `exists` is false, the parts as said (a day that is not in the calendar). */
  iso: string;
  rangeEndIso: string | null;
  contrast: boolean;
  /** The year was said (so no spoken year after it may replace it). */
  yearSaid: boolean;
  /** Only a day of the month was said ("the fourth"): the month comes from context. */
  dayOnly: boolean;
  exists: boolean;
};

const FULL_WEEKDAY_RE = /\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b/i;
const VAGUE_SPAN_RE = /^(?:the\s+)?(?:last|this|next|past|previous)\s+(?:week|month|year|weekend)$/i;
const PART_OF_DAY_RE = /\b(?:(?:this|last|yesterday)\s+(?:morning|afternoon|evening|night)|tonight)\b/i;
const EXPLICIT_FUTURE_RE = /\b(?:next|coming|this|tomorrow|from now|in\s+\w+\s+(?:days?|weeks?))\b/i;
const TIME_MARKER_RE =
  /:|\b[ap]\.?\s?m\b|\bo'?\s?clock\b|\bnoon\b|\bmidnight\b|\b(?:morning|afternoon|evening|night)\b|^(?:at|by|around|about)\s/i;
const CONTRAST_BEFORE_RE =
  /\b(?:not|from|instead\s+of|rather\s+than|isn't|wasn't)(?:\s+(?:on|the|at|about|around))*\s*$/i;

/** Moves a year-less or weekday-only date that lands after today into the past (see module rules). */
function pastBiased(ymd: Ymd, comps: chrono.ParsedComponents, text: string, today: string): string | null {
  const iso = isoOf(ymd);
  if (!iso || iso <= today || comps.isCertain('year')) return iso;
  if (comps.isCertain('month') && comps.isCertain('day')) {
    return isoOf({ ...ymd, y: ymd.y - 1 }) ?? iso;
  }
  if (comps.isCertain('weekday') && !EXPLICIT_FUTURE_RE.test(text)) return addDays(iso, -7);
  return iso;
}

function ymdOf(c: chrono.ParsedComponents): Ymd | null {
  const y = c.get('year');
  const m = c.get('month');
  const d = c.get('day');
  return y === null || m === null || d === null ? null : { y, m, d };
}

/** True when a chrono match names a day (see module rules), rather than a month, a time or a vague span. */
function namesADay(r: chrono.ParsedResult): boolean {
  const text = r.text.trim();
  if (/^(?:right\s+)?now$/i.test(text) || VAGUE_SPAN_RE.test(text)) return false;
  const s = r.start;
  if (s.isCertain('day')) return true;
  if (s.tags().has('result/relativeDate') && s.isCertain('month')) return true; // "a month ago"
  if (s.isCertain('weekday')) return FULL_WEEKDAY_RE.test(text);
  return PART_OF_DAY_RE.test(text);
}

type DateScan = { candidates: DateCandidate[]; masked: string };

/**
 * What every date or time chrono reads contains: a digit, a month or weekday (or its
 * abbreviation), a relative day word, a unit of time, or a time-of-day marker. An utterance with
 * none of them ("okay, got it", "twelve hundred fifty dollars", "yes, that's correct") skips
 * chrono, the costliest step of understanding. Over-inclusive on purpose: a false match only
 * runs chrono as before.
 */
const MAY_NAME_A_DATE_OR_TIME_RE =
  /\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|today|tonight|tomorrow|tmr|yesterday|now|ago|noon|midnight|morning|afternoon|evening|night|sec|min|hour|day|week|month|year|qtr|quarter|decade|fortnight|\b[ap]\.?\s?m\b|o'?\s?clock/i;

function scanChronoDates(text: string, masked: string, today: string, todayYmd: Ymd): DateScan {
  const candidates: DateCandidate[] = [];
  const instant = new Date(todayYmd.y, todayYmd.m - 1, todayYmd.d, 12, 0, 0, 0);
  instant.setFullYear(todayYmd.y); // years 0–99 would otherwise map to 1900–1999
  let results: chrono.ParsedResult[];
  try {
    results = MAY_NAME_A_DATE_OR_TIME_RE.test(masked)
      ? chronoEn.casual.parse(masked, { instant }, { forwardDate: false })
      : [];
  } catch {
    results = []; // chrono should not throw; if it does, the caller is simply asked again
  }
  let out = masked;
  for (const r of results) {
    const start = r.index;
    const end = r.index + r.text.length;
    if (/\$\s*$/.test(masked.slice(Math.max(0, start - 3), start))) continue; // "$12:30": money wins
    const day = namesADay(r);
    // chrono reads "from 500 to 900" as 5:00–9:00: a time with no time marker is left to the amounts.
    const timeOnly = !day && !r.start.isCertain('month') && !r.start.isCertain('weekday');
    if (timeOnly && !TIME_MARKER_RE.test(r.text)) continue;
    out = blank(out, start, end);
    if (!day) continue;
    const ymd = ymdOf(r.start);
    if (!ymd) continue;
    const iso = pastBiased(ymd, r.start, r.text, today);
    if (!iso) continue;
    const endYmd = r.end ? ymdOf(r.end) : null;
    const rangeEndIso = r.end && endYmd ? pastBiased(endYmd, r.end, r.text, today) : null;
    const before = text.slice(Math.max(0, start - 30), start);
    candidates.push({
      start,
      end,
      iso,
      rangeEndIso,
      contrast: CONTRAST_BEFORE_RE.test(before),
      yearSaid: r.start.isCertain('year') || !r.start.isCertain('month'),
      dayOnly: r.start.isCertain('day') && !r.start.isCertain('month') && !r.start.isCertain('weekday'),
      exists: true,
    });
  }
  return { candidates, masked: out };
}

/** Words that may follow "the 5th" when it is a date ("the 5th at noon"), unlike "the first time". */
// prettier-ignore
const ORDINAL_DATE_FOLLOWERS = new Set([
  'of', 'at', 'in', 'around', 'about', 'this', 'last', 'when', 'i', 'we', 'it', 'my', 'and', 'or',
  'but', 'so', 'um', 'uh', 'yes', 'yeah', 'right', 'maybe', 'probably', 'morning', 'afternoon',
  'evening', 'night', 'because', 'then', 'actually', 'please', 'i\'m', 'i\'d', 'is', 'was', 'not',
  'no', 'sorry',
]);

/** "the 5th", "on the third", "March the 3rd", "the 3rd of last month" (chrono misses these). */
function scanOrdinalDays(toks: readonly Token[], lower: string, todayYmd: Ymd): DateCandidate[] {
  const out: DateCandidate[] = [];
  for (let i = 0; i < toks.length; i++) {
    const the = toks[i];
    if (the?.kind !== 'word' || the.text !== 'the') continue;
    const ord = parseOrdinalAt(toks, i + 1);
    if (!ord || ord.value < 1 || ord.value > 31) continue;
    const next = toks[ord.endToken];
    if (next && next.kind === 'word' && !ORDINAL_DATE_FOLLOWERS.has(next.text)) continue;
    if (next && next.kind === 'num') continue;
    const last = toks[ord.endToken - 1];
    if (!last) continue;
    const after = lower.slice(last.end, last.end + 40);
    const before = lower.slice(Math.max(0, the.start - 12), the.start);
    const monthBefore = /([a-z]+)\s+$/.exec(before)?.[1];
    const month = monthBefore ? MONTHS[monthBefore] : undefined;
    // "the 31st of February": a month after it is chrono's (or, when no such day exists, the
    // impossible-date scan's), never "the most recent 31st".
    const monthAfter = /^\s*of\s+([a-z]+)/.exec(after)?.[1];
    if (monthAfter !== undefined && MONTHS[monthAfter] !== undefined) continue;
    let iso: string | null;
    let dayOnly = false;
    if (month !== undefined) {
      iso = isoOf({ y: todayYmd.y, m: month, d: ord.value });
      const todayIso = isoOf(todayYmd) ?? '';
      if (iso && iso > todayIso) iso = isoOf({ y: todayYmd.y - 1, m: month, d: ord.value });
    } else if (/^\s*of\s+(?:the\s+)?(?:last|previous)\s+month\b/.test(after)) {
      const prev = todayYmd.m === 1 ? { y: todayYmd.y - 1, m: 12 } : { y: todayYmd.y, m: todayYmd.m - 1 };
      iso = isoOf({ ...prev, d: ord.value });
    } else if (/^\s*of\s+(?:this|the)\s+month\b/.test(after)) {
      iso = isoOf({ ...todayYmd, d: ord.value });
    } else {
      iso = recentDayOfMonth(ord.value, todayYmd);
      dayOnly = true;
    }
    if (!iso) continue;
    const start = the.start;
    out.push({
      start,
      end: last.end,
      iso,
      rangeEndIso: null,
      contrast: CONTRAST_BEFORE_RE.test(lower.slice(Math.max(0, start - 30), start)),
      yearSaid: dayOnly,
      dayOnly,
      exists: true,
    });
  }
  return out;
}

/** Words that may sit between a day and its year: `March 3rd, of 2026`, `the 3rd of March in 1999`. */
const BEFORE_YEAR = new Set(['of', 'in', 'the', 'year']);

/** The token index of the first token at or after character `pos`. */
function tokenAt(toks: readonly Token[], pos: number): number {
  const i = toks.findIndex((t) => t.start >= pos);
  return i < 0 ? toks.length : i;
}

/** A year said after a day (`march third eighteen fifty`): its value and the character span. */
function yearAfter(
  toks: readonly Token[],
  from: number,
): { value: number; start: number; end: number } | null {
  let i = from;
  while (toks[i]?.kind === 'sym' && toks[i]!.text === ',') i += 1;
  while (toks[i]?.kind === 'word' && BEFORE_YEAR.has(toks[i]!.text)) i += 1;
  const y = parseSpokenYearAt(toks, i);
  const first = toks[i];
  const last = y ? toks[y.endToken - 1] : undefined;
  return y && first && last ? { value: y.value, start: first.start, end: last.end } : null;
}

/**
 * A year said after a date whose year was not part of it (chrono and the ordinal scan read
 * `march third` and leave `eighteen fifty`): the year said replaces the assumed one, so a year
 * is never dropped or replaced by this year. The date then may not exist (`February 29th 2025`).
 */
function attachSpokenYears(cands: DateCandidate[], masked: string): string {
  const toks = tokenize(masked);
  let out = masked;
  for (const c of cands) {
    if (c.yearSaid) continue;
    const y = yearAfter(toks, tokenAt(toks, c.end));
    if (!y || /[^\s,\u00a7a-z]/i.test(masked.slice(c.end, y.start))) continue;
    const [, m, d] = c.iso.split('-');
    const said = `${pad(y.value, 4)}-${m}-${d}`;
    c.iso = said;
    c.exists = epochDayOf(said) !== null;
    c.rangeEndIso = null;
    c.yearSaid = true;
    c.end = y.end;
    out = blank(out, y.start, y.end);
  }
  return out;
}

/** A day number right after a month (`April 31st`, `april thirty one`, `june 31`), or null. */
function dayAt(
  toks: readonly Token[],
  i: number,
  bareNumbers: boolean,
): { value: number; endToken: number } | null {
  const ord = parseOrdinalAt(toks, i);
  if (ord) return ord;
  if (!bareNumbers) return null;
  const t = toks[i];
  if (t?.kind === 'num') return /^\d{1,2}$/.test(t.text) ? { value: Number(t.text), endToken: i + 1 } : null;
  const n = parseNumberAt(toks, i);
  return n && Number.isInteger(n.value) && !n.scaled && n.value <= 39
    ? { value: n.value, endToken: n.endToken }
    : null;
}

/**
 * Dates said with a month and a day that the calendar does not have (`April 31st, 2026`, `the
 * thirtieth of February`). Chrono finds no date there, so without this the day and the year would
 * be read as numbers (`$2,026`). Valid days are left to chrono and the ordinal scan.
 */
function scanImpossibleDates(toks: readonly Token[], todayYmd: Ymd): DateCandidate[] {
  const out: DateCandidate[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    let month: number | undefined;
    let day: { value: number; endToken: number } | null = null;
    let startTok = i;
    if (t?.kind === 'word' && MONTHS[t.text] !== undefined && t.text !== 'may' && t.text !== 'mar') {
      // "April 31st", "April the 31st", "april thirty one"
      month = MONTHS[t.text];
      const j = isWordTok(toks[i + 1], 'the') ? i + 2 : i + 1;
      day = dayAt(toks, j, j === i + 1);
    } else {
      // "the 31st of April", "31st April"
      const j = isWordTok(t, 'the') ? i + 1 : i;
      const ord = parseOrdinalAt(toks, j);
      if (ord) {
        const k = isWordTok(toks[ord.endToken], 'of') ? ord.endToken + 1 : ord.endToken;
        const mt = toks[k];
        month = mt?.kind === 'word' ? MONTHS[mt.text] : undefined;
        if (month !== undefined) day = { value: ord.value, endToken: k + 1 };
        startTok = i;
      }
    }
    if (month === undefined || !day || day.value < 1) continue;
    const y = yearAfter(toks, day.endToken);
    const year = y?.value ?? todayYmd.y;
    const iso = `${pad(year, 4)}-${pad(month)}-${pad(day.value)}`;
    if (epochDayOf(iso) !== null) continue;
    const first = toks[startTok];
    const lastEnd = y?.end ?? toks[day.endToken - 1]?.end;
    if (!first || lastEnd === undefined) continue;
    out.push({
      start: first.start,
      end: lastEnd,
      iso,
      rangeEndIso: null,
      contrast: false,
      yearSaid: y !== null,
      dayOnly: false,
      exists: false,
    });
    i = y ? tokenAt(toks, y.end) : day.endToken - 1;
  }
  return out;
}

function isWordTok(t: Token | undefined, w: string): boolean {
  return t?.kind === 'word' && t.text === w;
}

// ─── amounts ─────────────────────────────────────────────────────────────────────────────────────

type AmountCandidate = {
  value: number;
  start: number;
  strong: boolean;
  contrast: boolean;
  /** Said in digit groups that read two ways (`one twenty five`): the readings. */
  choices: readonly number[] | null;
};

const CURRENCY_AFTER = new Set(['dollars', 'dollar', 'bucks', 'buck', 'usd']);
const CENTS = new Set(['cents', 'cent']);
const MONEY_SCALES = new Set(['k', 'grand']);
// prettier-ignore
const MONEY_CUES = new Set([
  'amount', 'claiming', 'claim', 'cost', 'costs', 'costed', 'paid', 'pay', 'paying', 'worth', 'total',
  'price', 'bill', 'billed', 'charge', 'charged', 'damage', 'damages', 'estimate', 'estimated',
  'repair', 'repairs', 'spent', 'spend', 'quote', 'quoted', 'owe', 'owed', 'sum', 'value', 'valued',
  'dollars', 'money', 'reimbursement', 'refund',
]);
// prettier-ignore
const UNITS = new Set([
  'day', 'days', 'week', 'weeks', 'month', 'months', 'year', 'years', 'hour', 'hours', 'minute',
  'minutes', 'min', 'mins', 'second', 'seconds', 'time', 'times', 'percent', 'people', 'person',
  'persons', 'car', 'cars', 'vehicle', 'vehicles', 'kid', 'kids', 'child', 'children', 'mile', 'miles',
  'am', 'pm', "o'clock", 'oclock', 'feet', 'foot', 'ft', 'km', 'kilometers', 'mph', 'floor', 'floors',
  'stories', 'story', 'inch', 'inches', 'pounds', 'lbs', 'degrees', 'items', 'pieces', 'windows',
  'passengers', 'moment', 'moments', 'sec', 'secs',
]);
// prettier-ignore
const ID_WORDS = new Set([
  'number', 'policy', 'phone', 'account', 'reference', 'ref', 'id', 'extension', 'ext', 'zip', 'code',
  'flight', 'room', 'apartment', 'apt', 'unit', 'suite', 'route', 'highway', 'interstate', 'exit',
  'plate', 'vin', 'pin', 'number\'s', 'option', 'press',
]);
const YEAR_BEFORE = new Set(['in', 'of', 'year', 'since']);
/** Words after which `one` is a pronoun ("the first one", "that one"), not the number 1. */
// prettier-ignore
const PRONOUN_ONE_AFTER = new Set([
  'first', 'second', 'third', 'last', 'other', 'that', 'this', 'which', 'the', 'bigger', 'larger',
  'higher', 'smaller', 'lower', 'big', 'small', 'right', 'correct', 'latter', 'former', 'no', 'any',
  'each', 'every', 'another', 'same', 'new',
]);
const CONTRAST_WORDS = new Set(['not', 'from', 'instead', 'than', "isn't", "wasn't", 'nope']);

function wordAt(toks: readonly Token[], i: number): string | null {
  const t = toks[i];
  return t?.kind === 'word' ? t.text : null;
}

const isDigit = (m: NumberMatch) =>
  m.endToken - m.firstToken === 1 && Number.isInteger(m.value) && !m.scaled && m.value >= 0 && m.value <= 9;

/**
 * Runs of adjacent numbers (only spaces, `-`, `/`, `:` between; commas too between single digits,
 * `1, 2, 5, 0`): digit strings or digit groups.
 */
function adjacentNumberRuns(matches: readonly NumberMatch[], masked: string): NumberMatch[][] {
  const runs: NumberMatch[][] = [];
  let run: NumberMatch[] = [];
  for (const m of matches) {
    const prev = run.at(-1);
    const gap = prev ? masked.slice(prev.end, m.start) : '';
    const joined = /^[\s\-/:]*$/.test(gap) || (/^[\s,]*$/.test(gap) && prev && isDigit(prev) && isDigit(m));
    if (prev && joined) run.push(m);
    else {
      if (run.length > 1) runs.push(run);
      run = [m];
    }
  }
  if (run.length > 1) runs.push(run);
  return runs;
}

/** Is money said around tokens `[a, e)`: `$` before, `dollars`/`cents` after, or a money cue shortly before? */
function moneyAround(toks: readonly Token[], a: number, e: number): boolean {
  const prev = toks[a - 1];
  if ((prev?.kind === 'sym' && prev.text === '$') || wordAt(toks, a - 1) === 'usd') return true;
  const next = wordAt(toks, e);
  if (next !== null && (CURRENCY_AFTER.has(next) || CENTS.has(next))) return true;
  for (let k = a - 1; k >= Math.max(0, a - 4); k--) {
    const w = wordAt(toks, k);
    if (w !== null && MONEY_CUES.has(w)) return true;
  }
  return false;
}

/**
 * Adjacent numbers are read as one amount said in digit groups (`twelve fifty`, `one two five
 * zero`; see `readDigitGroups`) only where an amount is expected, money is said around them, or
 * the caller answers a read-back or corrects a value (`correcting`: a yes, a no or a correction cue);
 * elsewhere (a phone number, `555 1234`, `4 8 2 1`) they are not guessed at: none of them counts.
 */
function groupDigitRuns(
  matches: readonly NumberMatch[],
  toks: readonly Token[],
  masked: string,
  expecting: UnderstandContext['expecting'],
  correcting: boolean,
): { list: NumberMatch[]; ambiguous: Set<NumberMatch>; choices: Map<NumberMatch, readonly number[]> } {
  let list = [...matches];
  const ambiguous = new Set<NumberMatch>();
  const choices = new Map<NumberMatch, readonly number[]>();
  for (const run of adjacentNumberRuns(matches, masked)) {
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const reading = readDigitGroups(run);
    const amountLikely =
      expecting === 'amount' || correcting || moneyAround(toks, first.firstToken, last.endToken);
    if (!reading || !amountLikely) {
      for (const m of run) ambiguous.add(m);
      continue;
    }
    const merged: NumberMatch = {
      ...first,
      value: reading.value,
      end: last.end,
      endToken: last.endToken,
      spoken: run.some((m) => m.spoken),
      scaled: true,
      scaleWords: [],
      fractional: false,
    };
    list = list.filter((m) => !run.includes(m));
    list.push(merged);
    if (reading.choices) choices.set(merged, reading.choices);
  }
  list.sort((x, y) => x.firstToken - y.firstToken);
  return { list, ambiguous, choices };
}

function scanAmounts(
  toks: readonly Token[],
  masked: string,
  expecting: UnderstandContext['expecting'],
  correcting: boolean,
): { amounts: AmountCandidate[]; bareDays: number[] } {
  const {
    list: matches,
    ambiguous,
    choices,
  } = groupDigitRuns(findNumbersInTokens(toks), toks, masked, expecting, correcting);
  const byFirstToken = new Map(matches.map((m) => [m.firstToken, m] as const));
  const consumed = new Set<NumberMatch>();
  const amounts: AmountCandidate[] = [];
  const bareDays: number[] = [];

  for (const m of matches) {
    if (consumed.has(m)) continue;
    const a = m.firstToken;
    const e = m.endToken;
    const prev = toks[a - 1];
    const prevWord = wordAt(toks, a - 1);
    const nextWord = wordAt(toks, e);
    const dollarBefore = (prev?.kind === 'sym' && prev.text === '$') || prevWord === 'usd';
    const currencyAfter = nextWord !== null && CURRENCY_AFTER.has(nextWord);
    const centsAfter = nextWord !== null && CENTS.has(nextWord);
    const explicitMoney = dollarBefore || currencyAfter || centsAfter;
    if (ambiguous.has(m) && !dollarBefore) continue;
    if (e - a === 1 && toks[a]?.text === 'one' && prevWord !== null && PRONOUN_ONE_AFTER.has(prevWord))
      continue;

    const unitAfter = (nextWord !== null && UNITS.has(nextWord)) || toks[e]?.text === '%';
    const prev2Word = wordAt(toks, a - 2);
    const idBefore =
      (prevWord !== null && ID_WORDS.has(prevWord)) ||
      (prev?.kind === 'sym' && prev.text === '#') ||
      ((prevWord === 'is' || prevWord === 'was') && prev2Word !== null && ID_WORDS.has(prev2Word));
    if (!explicitMoney && (unitAfter || idBefore)) continue;

    // "minus five dollars", "-$5", "$-5": kept negative so the claim machine refuses it (a
    // negative claim must be asked again, never silently taken as positive).
    let j = a - 1;
    if (toks[j]?.kind === 'sym' && toks[j]!.text === '$') j -= 1;
    const signWord = wordAt(toks, j);
    const minusSym =
      toks[j]?.kind === 'sym' && toks[j]!.text === '-' && (j === 0 || toks[j - 1]?.kind !== 'num');
    const negative =
      signWord === 'minus' ||
      signWord === 'negative' ||
      minusSym ||
      (prev?.kind === 'sym' && prev.text === '-' && toks[a - 2]?.kind === 'sym' && toks[a - 2]!.text === '$');

    let cueNear = false;
    for (let k = a - 1; k >= Math.max(0, a - 4); k--) {
      const w = wordAt(toks, k);
      if (w !== null && MONEY_CUES.has(w) && w !== 'dollars') cueNear = true;
    }
    const strong = explicitMoney || m.scaleWords.some((w) => MONEY_SCALES.has(w)) || cueNear || negative;
    const contrast = [a - 1, a - 2].some((k) => {
      const w = wordAt(toks, k);
      return w !== null && CONTRAST_WORDS.has(w);
    });

    let value = (centsAfter ? m.value / 100 : m.value) * (negative ? -1 : 1);
    if (dollarBefore || currencyAfter) {
      // "$12 and 50 cents", "twelve dollars and fifty cents", "twelve dollars fifty".
      let k = e + (currencyAfter ? 1 : 0);
      if (wordAt(toks, k) === 'and') k += 1;
      const c = byFirstToken.get(k);
      if (c && Number.isInteger(c.value) && c.value < 100 && !c.scaled) {
        const after = wordAt(toks, c.endToken);
        const centsWord = after !== null && CENTS.has(after);
        const bareTail =
          currencyAfter && (after === null || !(CURRENCY_AFTER.has(after) || UNITS.has(after)));
        if (centsWord || bareTail) {
          value += (negative ? -c.value : c.value) / 100;
          consumed.add(c);
        }
      }
    }

    if (!strong) {
      const smallWhole = Number.isInteger(m.value) && m.value <= 31 && !m.scaled && !m.fractional;
      if (smallWhole) {
        if (expecting === 'amount')
          amounts.push({ value, start: m.start, strong: false, contrast, choices: null });
        else if (expecting === 'date' && m.value >= 1) bareDays.push(m.value);
        continue;
      }
      const first = toks[a];
      const yearLike =
        !m.spoken &&
        first?.kind === 'num' &&
        /^(19|20)\d\d$/.test(first.text) &&
        (expecting === 'date' || (prevWord !== null && YEAR_BEFORE.has(prevWord)));
      if (yearLike) continue;
    }
    const readings = choices.get(m) ?? null;
    amounts.push({
      value: Math.round(value * 1e6) / 1e6,
      start: m.start,
      strong,
      contrast,
      choices: readings,
    });
  }
  return { amounts, bareDays };
}

function pickAmount(cands: readonly AmountCandidate[]): AmountCandidate | null {
  const clear = cands.filter((c) => !c.contrast);
  const pool = clear.length > 0 ? clear : cands;
  const strong = pool.filter((c) => c.strong);
  return (strong.length > 0 ? strong : pool).at(-1) ?? null;
}

// ─── phrases ─────────────────────────────────────────────────────────────────────────────────────

// prettier-ignore
const CONTRACTIONS: Readonly<Record<string, readonly string[]>> = {
  "that's": ['that', 'is'], thats: ['that', 'is'], "it's": ['it', 'is'], its: ['it', 'is'],
  "what's": ['what', 'is'], whats: ['what', 'is'], "i'm": ['i', 'am'], im: ['i', 'am'],
  "i've": ['i', 'have'], "you've": ['you', 'have'], "can't": ['can', 'not'], cant: ['can', 'not'],
  cannot: ['can', 'not'], "won't": ['will', 'not'], wont: ['will', 'not'], "ain't": ['is', 'not'],
  dont: ['do', 'not'], didnt: ['did', 'not'], doesnt: ['does', 'not'], isnt: ['is', 'not'],
  wasnt: ['was', 'not'], havent: ['have', 'not'], hasnt: ['has', 'not'], couldnt: ['could', 'not'],
  wouldnt: ['would', 'not'], shouldnt: ['should', 'not'], arent: ['are', 'not'], werent: ['were', 'not'],
  gonna: ['going', 'to'], gotta: ['got', 'to'],
};

const BREAK = '|';
/** A clause break that was a question mark ("sorry?"). */
const ASKED = '?';
const CLAUSE_SYMBOLS = new Set([',', '.', ';', '!', ':', '\u00a7']);
const isBreak = (w: string | undefined) => w === BREAK || w === ASKED;
/** Ignored when checking that a phrase is the whole utterance. Not "uh" (`uh huh` is a yes) nor "so" (`so what`). */
const FILLERS = new Set(['um', 'er', 'erm', 'hmm', 'oh', 'ah', 'well', 'like', 'please', 'just']);

/** Lower-case words with contractions expanded; clause breaks as `|` (`?` for a question mark), numbers as `#`. */
function wordsOf(toks: readonly Token[]): string[] {
  const out: string[] = [];
  for (const t of toks) {
    if (t.kind === 'word') {
      const c = CONTRACTIONS[t.text];
      if (c) out.push(...c);
      else if (t.text.endsWith("n't")) out.push(t.text.slice(0, -3), 'not');
      else if (t.text === 'but') out.push(BREAK);
      else out.push(t.text);
    } else if (t.kind === 'sym') {
      if (t.text === '?') out.push(ASKED);
      else if (CLAUSE_SYMBOLS.has(t.text)) out.push(BREAK);
    } else {
      out.push('#');
    }
  }
  return out;
}

type Rule = {
  phrase: string;
  /** The phrase does not count when one of these words comes right after it. */
  notBefore?: readonly string[];
  /** The phrase does not count when one of these words comes right before it. */
  notAfter?: readonly string[];
  /** Counts only as the whole utterance (fillers aside) or right before a `?`. */
  aloneOrAsked?: boolean;
  /** Counts only as the first word of the utterance ("Right, ..."). */
  leading?: boolean;
  /** Counts only at the end of the utterance. */
  trailing?: boolean;
};

const NEGATORS = new Set(['not', 'never']);

/** A rule's phrase split into words, once per rule (rules are module constants). */
const phraseWords = new WeakMap<Rule, readonly string[]>();
function wordsOfPhrase(rule: Rule): readonly string[] {
  let p = phraseWords.get(rule);
  if (!p) phraseWords.set(rule, (p = rule.phrase.split(' ')));
  return p;
}

const isContentWord = (w: string | undefined): boolean => w !== undefined && !isBreak(w) && !FILLERS.has(w);

/** The words of one utterance, read once for every rule matched against it. */
interface UtteranceWords {
  words: readonly string[];
  present: ReadonlySet<string>;
  /** The content words (no breaks, no fillers), joined with single spaces. */
  content: string;
}

function utteranceWords(words: readonly string[]): UtteranceWords {
  return { words, present: new Set(words), content: words.filter(isContentWord).join(' ') };
}

function matchesRule(u: UtteranceWords, rule: Rule, negators: ReadonlySet<string> | null): boolean {
  const p = wordsOfPhrase(rule);
  if (rule.aloneOrAsked && u.content === rule.phrase) return true;
  // Most rules name a word the utterance does not hold at all.
  for (const w of p) if (!u.present.has(w)) return false;
  const words = u.words;
  for (let k = 0; k + p.length <= words.length; k++) {
    let at = true;
    for (let j = 0; j < p.length && at; j++) at = words[k + j] === p[j];
    if (!at) continue;
    const after = words[k + p.length];
    const before = words[k - 1];
    if (rule.notBefore && after !== undefined && rule.notBefore.includes(after)) continue;
    if (rule.notAfter && before !== undefined && rule.notAfter.includes(before)) continue;
    if (rule.leading && words.slice(0, k).some(isContentWord)) continue;
    if (rule.trailing && words.slice(k + p.length).some(isContentWord)) continue;
    if (rule.aloneOrAsked && after !== ASKED) continue;
    if (negators) {
      let negated = false;
      for (let j = k - 1; j >= Math.max(0, k - 4) && !isBreak(words[j]); j--) {
        if (negators.has(words[j] ?? '')) negated = true;
      }
      if (negated) continue;
    }
    return true;
  }
  return false;
}

// prettier-ignore
const YES_RULES: readonly Rule[] = [
  { phrase: 'yes' }, { phrase: 'yeah' }, { phrase: 'yea' }, { phrase: 'yep' }, { phrase: 'yup' },
  { phrase: 'correct', notBefore: ['the', 'it', 'that', 'this', 'my', 'me', 'them', 'a'] },
  { phrase: 'is right' }, { phrase: 'all right' }, { phrase: 'alright' }, { phrase: 'right', leading: true, notBefore: ['now', 'away', 'there', 'here'] },
  { phrase: 'sure', notAfter: ['make'] }, { phrase: 'got it' }, { phrase: 'i have it' },
  { phrase: 'okay' }, { phrase: 'ok' }, { phrase: 'uh huh' }, { phrase: 'mhm' }, { phrase: 'mm hmm' },
  { phrase: 'mhmm' }, { phrase: 'mm hm' }, { phrase: 'affirmative' }, { phrase: 'absolutely' },
  { phrase: 'exactly' }, { phrase: 'definitely' }, { phrase: 'perfect' }, { phrase: 'sounds good' },
  { phrase: 'looks good' }, { phrase: 'all good' }, { phrase: 'noted' }, { phrase: 'go ahead' },
  { phrase: 'will do' }, { phrase: 'of course' }, { phrase: 'indeed' }, { phrase: 'that works' },
];

/** Yes words that are only a way of taking leave when said with a goodbye ("okay, bye"). */
const LEAVE_TAKING_YES = new Set(['okay', 'ok', 'alright', 'all right', 'sure', 'right', 'uh huh', 'mhm']);

// prettier-ignore
const NO_RULES: readonly Rule[] = [
  {
    phrase: 'no',
    notBefore: ['problem', 'problems', 'worries', 'worry', 'doubt', 'idea', 'need', 'matter', 'longer', 'one', 'rush', 'hurry'],
  },
  { phrase: 'nope' }, { phrase: 'nah' }, { phrase: 'wrong', notAfter: ['nothing', 'anything'] },
  { phrase: 'incorrect' }, { phrase: 'not quite' }, { phrase: 'not right' }, { phrase: 'not correct' },
  { phrase: 'not okay' }, { phrase: 'not ok' }, { phrase: 'negative' }, { phrase: 'uh uh' },
  { phrase: 'nuh uh' }, { phrase: 'not really' }, { phrase: 'not exactly' }, { phrase: 'not true' },
  { phrase: 'not it' }, { phrase: 'not what i said' }, { phrase: 'mistake' },
];

// prettier-ignore
const REPEAT_RULES: readonly Rule[] = [
  { phrase: 'repeat' }, { phrase: 'say that again' }, { phrase: 'say it again' }, { phrase: 'say again' },
  { phrase: 'once again' }, { phrase: 'one more time' }, { phrase: 'once more' }, { phrase: 'again please' },
  { phrase: 'again', aloneOrAsked: true }, { phrase: 'come again' }, { phrase: 'what was it' },
  { phrase: 'what was that' }, { phrase: 'what is it' }, { phrase: 'what was the number' },
  { phrase: 'what is the number' }, { phrase: 'what is my number' }, { phrase: 'what was my number' },
  { phrase: 'what was the claim number' }, { phrase: 'what is the claim number' },
  { phrase: 'what is my claim number' }, { phrase: 'what was my claim number' }, { phrase: 'pardon' },
  { phrase: 'did not catch' }, { phrase: 'did not hear' }, { phrase: 'did not get that' },
  { phrase: 'did not get it' }, { phrase: 'did not understand' }, { phrase: 'do not understand' },
  { phrase: 'can not hear' }, { phrase: 'could not hear' }, { phrase: 'missed it' }, { phrase: 'missed that' },
  { phrase: 'slower' }, { phrase: 'slow down' }, { phrase: 'too fast' }, { phrase: 'read it again' },
  { phrase: 'read that again' }, { phrase: 'tell me again' }, { phrase: 'sorry what' },
  { phrase: 'sorry', aloneOrAsked: true }, { phrase: 'i am sorry', aloneOrAsked: true },
  { phrase: 'excuse me', aloneOrAsked: true }, { phrase: 'huh', aloneOrAsked: true },
  { phrase: 'what', aloneOrAsked: true },
];

// prettier-ignore
const GOODBYE_RULES: readonly Rule[] = [
  { phrase: 'bye' }, { phrase: 'goodbye' }, { phrase: 'good bye' }, { phrase: 'hang up' },
  { phrase: 'hanging up' }, { phrase: 'see you' }, { phrase: 'see ya' }, { phrase: 'got to go' },
  { phrase: 'have to go' }, { phrase: 'need to go' }, { phrase: 'talk to you later' }, { phrase: 'farewell' },
  { phrase: 'that is all', trailing: true }, { phrase: 'that will be all', trailing: true },
];

const REPEAT_NEGATORS = new Set([...NEGATORS, 'no']);

/** Names of the claim number (asked for with a question word or a `?`: see `asksForNumber`). */
// prettier-ignore
const NUMBER_NAMES: readonly Rule[] = [
  { phrase: 'claim number' }, { phrase: 'my number' }, { phrase: 'the number' },
  { phrase: 'reference number' }, { phrase: 'case number' }, { phrase: 'claim id' },
];
const NUMBER_ASK_WORDS = new Set(['what', 'repeat', 'again', 'tell', 'give', 'read', 'say', 'remind', 'was']);

// prettier-ignore
const WHY_RULES: readonly Rule[] = [
  { phrase: 'why', notAfter: ['is', 'that', 'which', 'reason'] }, { phrase: 'what for' }, { phrase: 'how come' },
  { phrase: 'need that for' }, { phrase: 'need it for' }, { phrase: 'need to know that' },
  { phrase: 'is that necessary' }, { phrase: 'is that needed' }, { phrase: 'what is that for' },
  { phrase: 'what is it for' }, { phrase: 'what does it matter' },
];

// prettier-ignore
const STALL_RULES: readonly Rule[] = [
  { phrase: 'hang on' }, { phrase: 'hold on' }, { phrase: 'one moment' }, { phrase: 'one second' },
  { phrase: 'one sec' }, { phrase: 'one minute' }, { phrase: 'just a moment' }, { phrase: 'just a second' },
  { phrase: 'just a sec' }, { phrase: 'just a minute' }, { phrase: 'a moment' }, { phrase: 'a second' },
  { phrase: 'give me a minute' }, { phrase: 'let me check' }, { phrase: 'let me see' },
  { phrase: 'let me look' }, { phrase: 'let me think' }, { phrase: 'let me find' }, { phrase: 'let me get' },
  { phrase: 'wait' }, { phrase: 'do not know' }, { phrase: 'not sure' }, { phrase: 'no idea' },
  { phrase: 'no clue' }, { phrase: 'dunno' }, { phrase: 'not remember' }, { phrase: 'can not remember' },
  { phrase: 'not recall' }, { phrase: 'forgot' }, { phrase: 'forget' }, { phrase: 'need to check' },
  { phrase: 'have to check' }, { phrase: 'need to look' }, { phrase: 'have to look' }, { phrase: 'not certain' },
  { phrase: 'looking for it' }, { phrase: 'checking' }, { phrase: 'not have it' }, { phrase: 'not have the' },
];

// prettier-ignore
const CORRECTION_CUES: readonly Rule[] = [
  { phrase: 'actually' }, { phrase: 'change' }, { phrase: 'changed' }, { phrase: 'changing' },
  { phrase: 'correction' }, { phrase: 'update' }, { phrase: 'fix' }, { phrase: 'meant' },
  { phrase: 'i mean' }, { phrase: 'instead' }, { phrase: 'should be' }, { phrase: 'should have been' },
  { phrase: 'supposed to be' }, { phrase: 'make it' }, { phrase: 'wrong' }, { phrase: 'not' },
  { phrase: 'correct the' }, { phrase: 'correct it' }, { phrase: 'correct that' }, { phrase: 'correct my' },
];

const AMOUNT_FIELD_WORDS = new Set(['amount', 'total', 'sum', 'cost', 'price', 'figure']);
const DATE_FIELD_WORDS = new Set(['date', 'day']);

// ─── entry point ─────────────────────────────────────────────────────────────────────────────────

/**
 * Understands one caller utterance (see the module comment for every rule). Never throws; empty,
 * garbage or non-string input gives all-false/null. Cost is bounded: only the first
 * {@link MAX_UTTERANCE_CHARS} characters are read.
 */
export function understandUtterance(text: string, ctx: UnderstandContext): Understanding {
  // One caller turn is read more than once (the fast path, then the reply's wording), and a
  // pure function of its inputs: the answer is kept for the next reading of the same words.
  const key = `${ctx.today}|${ctx.knownDate ?? ''}|${ctx.expecting ?? ''}|${typeof text === 'string' ? text : ''}`;
  const known = typeof text === 'string' ? recentReadings.get(key) : undefined;
  if (known) return { ...known };
  const u = readUtterance(text, ctx);
  if (typeof text === 'string' && text.length <= MAX_UTTERANCE_CHARS) {
    if (recentReadings.size >= RECENT_READINGS) recentReadings.delete(recentReadings.keys().next().value!);
    recentReadings.set(key, u);
  }
  return { ...u };
}

/** How many recent readings {@link understandUtterance} keeps (oldest out first). */
const RECENT_READINGS = 512;
const recentReadings = new Map<string, Understanding>();

/**
 * Runs every piece of understanding once, on phrasings that reach each of its parsers. chrono
 * compiles its patterns on first use (tens to hundreds of ms); a server calls this at start-up so
 * that cost never lands on the first caller's turn (and, through the one event loop, on every
 * other call at that moment). Returns how long it took, ms.
 */
export function warmUnderstanding(today: string): number {
  const t0 = performance.now();
  const phrases = [
    'okay, got it',
    'March third',
    'it was on the 3rd of March 2026, around 5 pm last Tuesday',
    '3/4/2026',
    'yesterday',
    'two weeks ago on Friday',
    'twelve hundred fifty dollars',
    '$1,250.50',
    'one two five zero',
    "yes, that's correct",
    'no, the amount is nine hundred',
    'what is my claim number?',
    'why do you need that? hang on, bye',
  ];
  for (const expecting of [undefined, 'date', 'amount'] as const)
    for (const phrase of phrases)
      readUtterance(phrase, { today, knownDate: '2026-03-03', ...(expecting ? { expecting } : {}) });
  return performance.now() - t0;
}

function readUtterance(text: string, ctx: UnderstandContext): Understanding {
  const input = prepare(text);
  if (input.trim() === '') return { ...NOTHING };
  const lower = input.toLowerCase();
  const expecting = ctx.expecting;

  // Phrases read the whole utterance (claim numbers included: they contain no phrase words).
  const allToks = tokenize(input);
  const words = wordsOf(allToks);
  const uw = utteranceWords(words);
  const any = (rules: readonly Rule[], negators: ReadonlySet<string> | null) =>
    rules.some((r) => matchesRule(uw, r, negators));
  const goodbye = any(GOODBYE_RULES, NEGATORS);
  // "Okay, bye" takes leave: with a goodbye, only a yes that says more than "okay" agrees.
  const yesRules = goodbye ? YES_RULES.filter((r) => !LEAVE_TAKING_YES.has(r.phrase)) : YES_RULES;
  const yes = any(yesRules, NEGATORS);
  const no = any(NO_RULES, null);
  const repeat = any(REPEAT_RULES, REPEAT_NEGATORS);
  const correctionCue = no || any(CORRECTION_CUES, null);
  const asksClaimNumber =
    any(NUMBER_NAMES, NEGATORS) && (words.includes(ASKED) || words.some((w) => NUMBER_ASK_WORDS.has(w)));
  const asksWhy = any(WHY_RULES, null);
  const stall = any(STALL_RULES, null);

  // Values: claim numbers, then dates and times, are blanked before numbers are read.
  let masked = input;
  for (const m of input.matchAll(CLAIM_NUMBER_RE)) masked = blank(masked, m.index, m.index + m[0].length);

  const todayYmd = parseIso(ctx.today);
  let dateCands: DateCandidate[] = [];
  if (todayYmd) {
    const scan = scanChronoDates(lower, masked, ctx.today, todayYmd);
    masked = scan.masked;
    dateCands = scan.candidates;
  }
  const toks = tokenize(masked);
  if (todayYmd) {
    const ordinals = scanOrdinalDays(toks, lower, todayYmd);
    for (const o of ordinals) masked = blank(masked, o.start, o.end);
    dateCands = [...dateCands, ...ordinals].sort((x, y) => x.start - y.start);
    masked = attachSpokenYears(dateCands, masked);
    const impossible = scanImpossibleDates(tokenize(masked), todayYmd);
    for (const o of impossible) masked = blank(masked, o.start, o.end);
    dateCands = [...dateCands, ...impossible].sort((x, y) => x.start - y.start);
  }
  // Re-tokenized: "the twenty first" was just blanked and must not feed the number scan.
  const { amounts, bareDays } = scanAmounts(tokenize(masked), masked, expecting, correctionCue || yes);

  let date: string | null = null;
  let dayOnly: number | null = null;
  if (dateCands.length > 0) {
    const clear = dateCands.filter((c) => !c.contrast);
    const pick = (clear.length > 0 ? clear : dateCands).at(-1);
    if (pick) date = pick.rangeEndIso && correctionCue ? pick.rangeEndIso : pick.iso;
    if (pick?.dayOnly) dayOnly = Number(pick.iso.slice(8, 10));
  } else if (todayYmd && bareDays.length === 1 && bareDays[0] !== undefined) {
    date = recentDayOfMonth(bareDays[0], todayYmd);
    dayOnly = bareDays[0];
  }
  // "No, it was the fourth" about March 3rd: the day changes, the month and year stay.
  const known = ctx.knownDate ? parseIso(ctx.knownDate) : null;
  if (dayOnly !== null && known) date = `${pad(known.y, 4)}-${pad(known.m)}-${pad(dayOnly)}`;
  let impossibleDate: string | null = null;
  if (date !== null && epochDayOf(date) === null) {
    impossibleDate = date;
    date = null;
  }
  const amountPick = pickAmount(amounts);
  const amountChoices = amountPick?.choices ?? null;
  const amount = amountPick && !amountChoices ? amountPick.value : null;

  let correction: Understanding['correction'] = null;
  if (correctionCue && (date !== null || amount !== null)) {
    const namesAmount = words.some((w) => AMOUNT_FIELD_WORDS.has(w));
    const namesDate = words.some((w) => DATE_FIELD_WORDS.has(w));
    let field: 'date' | 'amount' | null = null;
    if (namesAmount && !namesDate && amount !== null) field = 'amount';
    else if (namesDate && !namesAmount && date !== null) field = 'date';
    else if (amount !== null && date === null) field = 'amount';
    else if (date !== null && amount === null) field = 'date';
    if (field === 'amount' && amount !== null) correction = { field, value: amount.toFixed(2) };
    if (field === 'date' && date !== null) correction = { field, value: date };
  }

  const namesAmount = words.some((w) => AMOUNT_FIELD_WORDS.has(w));
  const namesDate = words.some((w) => DATE_FIELD_WORDS.has(w));
  const field = namesAmount === namesDate ? null : namesAmount ? 'amount' : 'date';
  return {
    yes,
    no,
    repeat,
    date,
    amount,
    correction,
    goodbye,
    impossibleDate,
    amountChoices,
    asksClaimNumber,
    asksWhy,
    stall,
    field,
  };
}
