/**
 * Keypad (DTMF) entry, pure: collect digits into an entry, then read a completed entry as a date
 * or an amount. The dialogue decides which reading applies from the claim state.
 *
 * - A date is `MMDDYYYY` (8 digits, US order, like the spoken slash dates).
 * - An amount is digits with `*` as the decimal point: `1250*50` = 1250.50, `900` = 900.
 * - `#` ends an entry. A lone `1` or `2` (yes / no, got it / repeat) is an answer on its own,
 *   without `#`, where the state asks a yes/no question (see {@link dtmfBufferReducer}).
 */
import { epochDayOf } from '../../../machines/claim.validation.js';

/** Longest entry kept: a date is 8 keys, an amount at most 9 + 1 + 2. Extra keys are dropped. */
export const MAX_DTMF_ENTRY_LENGTH = 16;

/** The immediate one-key answers of the default reducer. */
export const DTMF_IMMEDIATE_ANSWERS: readonly string[] = ['1', '2'];

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

/** The reducer's new state: the buffer, and the entry it completed, if any. */
export type DtmfBufferStep = { buffer: string; complete: string | null };

/**
 * Adds one keypad key to the pending entry.
 * - `#` completes the buffered entry (`complete` = the buffer, buffer cleared); `#` on an empty
 *   buffer is ignored.
 * - A key in `immediate` (default `1` and `2`) pressed on an empty buffer completes at once as that
 *   key. Pass `immediate: []` while a date or an amount is expected, or entries starting with 1 or 2
 *   (October to December dates, `1250#`) could never be typed.
 * - `0`–`9` and `*` are appended, up to {@link MAX_DTMF_ENTRY_LENGTH} keys (further keys are dropped,
 *   so a stuck key cannot grow the buffer without bound).
 * - Anything else (`A`–`D`, empty, several characters) is ignored.
 */
export function dtmfBufferReducer(
  buffer: string,
  digit: string,
  opts: { immediate?: readonly string[] } = {},
): DtmfBufferStep {
  const immediate = opts.immediate ?? DTMF_IMMEDIATE_ANSWERS;
  if (digit === '#') return buffer === '' ? { buffer: '', complete: null } : { buffer: '', complete: buffer };
  if (!/^[0-9*]$/.test(digit)) return { buffer, complete: null };
  if (buffer === '' && immediate.includes(digit)) return { buffer: '', complete: digit };
  if (buffer.length >= MAX_DTMF_ENTRY_LENGTH) return { buffer, complete: null };
  return { buffer: buffer + digit, complete: null };
}
