/**
 * Pure validation of claim fields. The claim machine's guards call these; a rejection's `reason`
 * is stored in the machine context and shown to the dialogue as the tool result, so it asks again.
 */

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

/**
 * A claim date must be a real calendar date, not after `today`, and at most `maxAgeDays` old.
 * `today` is passed in (machine input) so this stays pure and replayable.
 */
export function validateClaimDate(date: string, today: string, maxAgeDays: number): FieldValidation<string> {
  const day = epochDayOf(date);
  if (day === null) return { ok: false, reason: `${date} is not a real calendar date` };
  const todayDay = epochDayOf(today);
  if (todayDay === null) return { ok: false, reason: 'today is unknown' };
  if (day > todayDay) return { ok: false, reason: `${date} is in the future` };
  if (todayDay - day > maxAgeDays) {
    return { ok: false, reason: `${date} is more than ${Math.round(maxAgeDays / 365)} years ago` };
  }
  return { ok: true, value: date };
}

/**
 * A claim amount must be a finite positive number of dollars with at most 2 decimals and at most
 * `maxAmount`. Accepts a number or a decimal string ("1,250.50" and "$900" are tolerated).
 */
export function validateClaimAmount(amount: number | string, maxAmount: number): FieldValidation<number> {
  const n = typeof amount === 'number' ? amount : Number(String(amount).replace(/[$,\s]/g, ''));
  if (!Number.isFinite(n)) return { ok: false, reason: `${String(amount)} is not a number` };
  if (n <= 0) return { ok: false, reason: 'the amount must be more than zero' };
  const cents = Math.round(n * 100);
  if (Math.abs(cents - n * 100) > 1e-6)
    return { ok: false, reason: 'the amount can have at most two decimals' };
  if (n > maxAmount) return { ok: false, reason: `the amount is above the limit of ${maxAmount} dollars` };
  return { ok: true, value: cents / 100 };
}
