/**
 * Claim values as a person says them on the phone: dates in words (`March 3rd, 2026`), money as
 * money (`one thousand two hundred fifty dollars`, never `1250 dollars`). Used by the machine's
 * refusal reasons and by the voices (the local dialogue fills the meta templates with these), so
 * the text of a turn and the words handed to speech synthesis say the same thing.
 *
 * Pure, dependency-free.
 */

/** Month names, January first. */
export const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/** `3` → `3rd`, `11` → `11th`, `22` → `22nd`. */
export function ordinalOf(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

/** Days in a month of a year (Gregorian), e.g. `daysInMonth(2028, 2)` = 29. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * `2026-03-03` → `March 3rd, 2026`. A YYYY-MM-DD-shaped string that is not a calendar day keeps
 * its parts (`2026-02-30` → `February 30th, 2026`); anything else is returned as is.
 */
export function dateForSpeech(isoDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) return isoDate;
  const month = MONTH_NAMES[Number(m[2]) - 1];
  return month ? `${month} ${ordinalOf(Number(m[3]))}, ${Number(m[1])}` : isoDate;
}

const ONES =
  'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen'.split(
    ' ',
  );
const TENS = 'zero ten twenty thirty forty fifty sixty seventy eighty ninety'.split(' ');
const SCALES: readonly [number, string][] = [
  [1e9, 'billion'],
  [1e6, 'million'],
  [1e3, 'thousand'],
];

function below1000(n: number): string {
  const parts: string[] = [];
  const h = Math.floor(n / 100);
  const r = n % 100;
  if (h > 0) parts.push(`${ONES[h]} hundred`);
  if (r > 0 && r < 20) parts.push(ONES[r]!);
  else if (r >= 20) parts.push(r % 10 === 0 ? TENS[r / 10]! : `${TENS[Math.floor(r / 10)]}-${ONES[r % 10]}`);
  return parts.join(' ');
}

/** A whole number from 0 to 999,999,999,999 in English words (`1250` → `one thousand two hundred fifty`). */
export function numberInWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1e12) return String(n);
  if (n === 0) return 'zero';
  const parts: string[] = [];
  let rest = n;
  for (const [value, word] of SCALES) {
    const q = Math.floor(rest / value);
    if (q > 0) parts.push(`${below1000(q)} ${word}`);
    rest %= value;
  }
  if (rest > 0) parts.push(below1000(rest));
  return parts.join(' ');
}

/**
 * An amount of US dollars as it is said: `1250.5` → `one thousand two hundred fifty dollars and
 * fifty cents`, `1000000` → `one million dollars`, `0.75` → `seventy-five cents`. Negative or
 * non-finite amounts (never accepted by the machine) are said with `minus` / as digits.
 */
export function amountForSpeech(amount: number): string {
  if (!Number.isFinite(amount)) return `${String(amount)} dollars`;
  if (amount < 0) return `minus ${amountForSpeech(-amount)}`;
  const cents = Math.round(amount * 100);
  const dollars = Math.floor(cents / 100);
  const c = cents % 100;
  const d = `${numberInWords(dollars)} ${dollars === 1 ? 'dollar' : 'dollars'}`;
  const cc = `${numberInWords(c)} ${c === 1 ? 'cent' : 'cents'}`;
  if (c === 0) return d;
  return dollars === 0 ? cc : `${d} and ${cc}`;
}
