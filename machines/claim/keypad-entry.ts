/**
 * Keypad (DTMF) entry, pure: collect digits into an entry, then read a completed entry as a date
 * or an amount. The dialogue decides which reading applies from the claim state.
 *
 * - A date is `MMDDYYYY` (8 digits, US order, like the spoken slash dates).
 * - An amount is digits with `*` as the decimal point: `1250*50` = 1250.50, `900` = 900.
 * - `#` ends an entry. A lone `1` or `2` (yes / no, got it / repeat) is an answer on its own,
 *   without `#`, where the state asks a yes/no question (`applyDtmfDigit` in the call machine
 *   collects the keys).
 */
import { epochDayOf } from './claim.validation.js';

/**
 * `03032026` → `2026-03-03`. Null unless the entry is exactly 8 digits forming a real calendar
 * date (`02302026` is null). Range rules (not in the future, not too old) are the claim machine's.
 */
export function parseDtmfDate(entry: string): string | null {
  const m = /^(\d{2})(\d{2})(\d{4})$/.exec(entry);
  if (!m) return null;
  const iso = `${m[3]}-${m[1]}-${m[2]}`;
  return epochDayOf(iso) === null ? null : iso;
}

/**
 * `1250*50` → 1250.5, `900` → 900, `*50` → 0.5, `1250*` → 1250 (a star with no decimals after it is
 * read as a decimal point with nothing after it). Null for an empty entry, a second `*`, more than
 * 2 decimals, more than 9 whole digits, or any other key. Zero is returned as 0 (the claim machine
 * rejects it with a reason the caller hears).
 */
export function parseDtmfAmount(entry: string): number | null {
  const m = /^(\d{0,9})(?:\*(\d{0,2}))?$/.exec(entry);
  if (!m || (m[1] === '' && !m[2])) return null;
  const cents = (m[2] ?? '').padEnd(2, '0');
  return Number(`${m[1] || '0'}.${cents}`);
}
