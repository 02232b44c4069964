/**
 * Keypad entries → claim events for the current state, so a caller can finish a claim with the
 * keypad alone: `1` = yes/acknowledge/confirm, `2` = no/repeat, a date as MMDDYYYY, an amount as
 * digits with `*` for the decimal point (entries end with `#`).
 */
import type { ClaimToolEvent } from '../../../machines/claim.events.js';
import type { ClaimView } from '../../../machines/claim.view.js';
import { epochDayOf } from '../../../machines/claim.validation.js';

/** `03032026` → `2026-03-03` if it is a real calendar date, else null. */
export function dtmfDate(entry: string): string | null {
  const m = /^(\d{2})(\d{2})(\d{4})$/.exec(entry);
  if (!m) return null;
  const iso = `${m[3]}-${m[1]}-${m[2]}`;
  return epochDayOf(iso) === null ? null : iso;
}

/** `1250*50` → 1250.5; null when not digits with an optional `*` and at most 2 decimals. */
export function dtmfAmount(entry: string): number | null {
  const m = /^(\d{1,9})(?:\*(\d{1,2}))?$/.exec(entry);
  if (!m) return null;
  return Number(`${m[1]}.${m[2] ?? '0'}`);
}

/** Maps a completed keypad entry to the claim events the state accepts (possibly none). */
export function dtmfToClaimEvents(view: ClaimView, entry: string): ClaimToolEvent[] {
  switch (view.path) {
    case 'initial':
      if (entry === '1') return [{ type: 'claim.number.acknowledged' }];
      if (entry === '2') return [{ type: 'claim.number.repeat_requested' }];
      return [];
    case 'ongoing.collectingDate': {
      const date = dtmfDate(entry);
      return date ? [{ type: 'claim.date.provided', date }] : [];
    }
    case 'ongoing.collectingAmount': {
      const amount = dtmfAmount(entry);
      return amount !== null ? [{ type: 'claim.amount.provided', amount }] : [];
    }
    case 'ongoing.verifying':
      return entry === '1' ? [{ type: 'claim.details.confirmed' }] : [];
    default:
      return [];
  }
}
