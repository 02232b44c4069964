/**
 * Formats claim values the way a person says them on the phone.
 */

const MONTHS = [
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
];

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

/** `2026-03-03` → `March 3rd, 2026`. Returns the input if it is not YYYY-MM-DD. */
export function dateForSpeech(isoDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) return isoDate;
  const month = MONTHS[Number(m[2]) - 1];
  return month ? `${month} ${ordinal(Number(m[3]))}, ${m[1]}` : isoDate;
}

/** `1250.5` → `$1,250.50`; whole amounts drop the cents (`$900`). */
export function amountForSpeech(amount: number): string {
  const whole = Number.isInteger(amount);
  return (
    '$' +
    amount.toLocaleString('en-US', {
      minimumFractionDigits: whole ? 0 : 2,
      maximumFractionDigits: 2,
    })
  );
}
