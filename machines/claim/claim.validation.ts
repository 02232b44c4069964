/**
 * Pure validation of claim fields. The claim machine's guards call these; a rejection's `reason`
 * is stored in the machine context and shown to the dialogue as the tool result, so it asks again.
 * Reasons are said to the caller as they are: values in words (`February 30th`, `one million
 * dollars`), never as `2026-02-30` or `1000000`.
 */
import { amountForSpeech, dateForSpeech, daysInMonth, MONTH_NAMES } from './claim-speech.js';

/** Result of validating a field: the normalized value, or a reason the caller can be told. */
export type FieldValidation<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Days since 1970-01-01 for a YYYY-MM-DD string, or null if it is not a real calendar date. */
export function epochDayOf(isoDate: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return Math.floor(ms / 86_400_000);
}

/** Why a YYYY-MM-DD-shaped string is not a calendar day, in words the caller can be told. */
function nonexistentDateReason(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const [y, mo] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const month = MONTH_NAMES[mo - 1];
  if (!month || y < 1) return "that date doesn't exist";
  return `that date doesn't exist: ${month} has only ${daysInMonth(y, mo)} days${mo === 2 ? ` in ${y}` : ''}`;
}

/**
 * A claim date must be a real calendar date, not after `today`, and at most `maxAgeDays` old.
 * `today` is passed in (machine input) so this stays pure and replayable. A date that does not
 * exist (`2026-02-30`) is refused as such, never moved to a nearby day.
 */
export function validateClaimDate(date: string, today: string, maxAgeDays: number): FieldValidation<string> {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date))
    return { ok: false, reason: 'that is not a date I can use' };
  const day = epochDayOf(date);
  if (day === null) return { ok: false, reason: nonexistentDateReason(date) };
  const todayDay = epochDayOf(today);
  if (todayDay === null) return { ok: false, reason: 'today is unknown' };
  if (day > todayDay) return { ok: false, reason: `${dateForSpeech(date)} is in the future` };
  if (todayDay - day > maxAgeDays) {
    const years = Math.round(maxAgeDays / 365);
    return {
      ok: false,
      reason: `${dateForSpeech(date)} is more than ${years} years ago, and I can only take claims for the last ${years} years`,
    };
  }
  return { ok: true, value: date };
}

/**
 * A claim amount must be a finite positive number of dollars with at most 2 decimals and at most
 * `maxAmount`. Accepts a number or a decimal string ("1,250.50" and "$900" are tolerated).
 */
export function validateClaimAmount(amount: number | string, maxAmount: number): FieldValidation<number> {
  const n = typeof amount === 'number' ? amount : Number(String(amount).replace(/[$,\s]/g, ''));
  if (!Number.isFinite(n)) return { ok: false, reason: 'that is not an amount I can use' };
  if (n <= 0) return { ok: false, reason: 'the amount must be more than zero' };
  const cents = Math.round(n * 100);
  if (Math.abs(cents - n * 100) > 1e-6)
    return { ok: false, reason: 'the amount can have at most two decimals' };
  if (n > maxAmount)
    return { ok: false, reason: `the amount is above the limit of ${amountForSpeech(maxAmount)}` };
  return { ok: true, value: cents / 100 };
}
