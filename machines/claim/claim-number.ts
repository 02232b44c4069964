/**
 * Claim numbers that are easy to say and hear on a phone line: `CLM-DDDD-DDDD`.
 *
 * - Digits only after the prefix: no letters to confuse over a narrow-band line (B/D/P/T/V,
 *   M/N, F/S all sound alike at 8 kHz); callers read digits back reliably.
 * - Two groups of four, read digit by digit with a pause between groups (`claimNumberForSpeech`).
 * - The 8th digit is a Damm check digit over the first 7: it catches every single-digit error and
 *   every adjacent transposition, which are the two mistakes people make when they note a number
 *   down or read it back. A number typed or said back can be checked before any lookup.
 * - The first digit is never 0. People (and spreadsheets) drop a leading zero ("oh eight two one"
 *   becomes "eight two one", `0821` becomes `821`), and a number that starts with "zero" or "oh" is
 *   the one most often misheard. So `isValidClaimNumber` also rejects a leading 0: such a number
 *   cannot have been issued. This leaves 9 × 10^6 = 9,000,000 numbers; uniqueness is enforced by the
 *   store (unique `claim_id`), and the caller of `generateClaimNumber` retries on a collision.
 *
 * Pure: randomness comes from the injected `randomInt`.
 */

/**
 * The Damm operation table: a totally anti-symmetric quasigroup of order 10 (Damm, 2004), whose
 * diagonal is all zeros, so the check digit of a valid number's full digit string is 0.
 */
const DAMM_TABLE: readonly (readonly number[])[] = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/** The fixed prefix of every claim number. */
export const CLAIM_NUMBER_PREFIX = 'CLM';

/**
 * The Damm check digit of a string of decimal digits: append it and the whole string checks to 0.
 * Throws a `TypeError` if `digits` contains anything but 0–9 (a programming error, not input).
 */
export function dammCheckDigit(digits: string): number {
  let interim = 0;
  for (const ch of digits) {
    const d = ch.charCodeAt(0) - 48;
    const row = DAMM_TABLE[interim];
    const next = d >= 0 && d <= 9 ? row?.[d] : undefined;
    if (next === undefined)
      throw new TypeError(`dammCheckDigit: not a digit string: ${JSON.stringify(digits)}`);
    interim = next;
  }
  return interim;
}

function drawDigit(randomInt: (maxExclusive: number) => number, maxExclusive: number): number {
  const n = randomInt(maxExclusive);
  if (!Number.isInteger(n) || n < 0 || n >= maxExclusive) {
    throw new RangeError(
      `randomInt(${maxExclusive}) returned ${String(n)}; expected an integer in [0, ${maxExclusive})`,
    );
  }
  return n;
}

/**
 * A new claim number, e.g. `CLM-4821-0934`: a first digit 1–9, six digits 0–9, then the Damm
 * check digit. `randomInt(max)` must return an integer in `[0, max)` (e.g. `crypto.randomInt`);
 * anything else throws a `RangeError` rather than producing a biased or malformed number.
 * Uniqueness is not checked here: the store's unique constraint does that.
 */
export function generateClaimNumber(randomInt: (maxExclusive: number) => number): string {
  let body = String(1 + drawDigit(randomInt, 9));
  for (let i = 0; i < 6; i++) body += String(drawDigit(randomInt, 10));
  const digits = body + String(dammCheckDigit(body));
  return `${CLAIM_NUMBER_PREFIX}-${digits.slice(0, 4)}-${digits.slice(4)}`;
}

/** The 8 digits of a claim number written any usual way (`CLM-4821-0934`, `clm 4821 0934`, `48210934`), or null. */
function digitsOf(s: string): string | null {
  if (typeof s !== 'string' || s.length > 64) return null;
  const m = /^\s*(?:clm)?[\s.\-_#:]*(\d{4})[\s.\-_]*(\d{4})\s*$/i.exec(s);
  return m ? `${m[1]}${m[2]}` : null;
}

/**
 * Whether `s` is a claim number we could have issued: 8 digits (the `CLM` prefix optional, any
 * case; dashes, dots or spaces between groups allowed), first digit not 0, Damm check digit right.
 */
export function isValidClaimNumber(s: string): boolean {
  return normalizeClaimNumber(s) !== null;
}

/** The canonical form `CLM-DDDD-DDDD` of a valid claim number (see {@link isValidClaimNumber}), or null. */
export function normalizeClaimNumber(s: string): string | null {
  const digits = digitsOf(s);
  if (!digits || digits.startsWith('0') || dammCheckDigit(digits) !== 0) return null;
  return `${CLAIM_NUMBER_PREFIX}-${digits.slice(0, 4)}-${digits.slice(4)}`;
}

/**
 * How a claim number is read aloud: `CLM-4821-0937` → `C. L. M. 4 8 2 1, 0 9 3 7` (no final stop: the sentence around it ends it). The letters are
 * spelled with full stops and the digits spaced so any TTS reads them one by one ("four eight two
 * one", never "four thousand…"), with a pause between the groups. Formats any `CLM` + 8 digits,
 * whether or not the check digit is right (it is presentation, not validation); any other input is
 * spelled out character by character so the caller still hears exactly what is stored.
 */
export function claimNumberForSpeech(id: string): string {
  const digits = digitsOf(id);
  if (digits) {
    const spaced = (g: string) => g.split('').join(' ');
    return `C. L. M. ${spaced(digits.slice(0, 4))}, ${spaced(digits.slice(4))}`;
  }
  const chars = String(id)
    .slice(0, 64)
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')
    .split('')
    .map((c) => (/[A-Z]/.test(c) ? `${c}.` : c));
  return chars.join(' ').replace(/\.$/, '');
}
