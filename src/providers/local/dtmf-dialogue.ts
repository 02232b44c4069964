/**
 * Keypad entries → claim events for the current state, so a caller can finish a claim with the
 * keypad alone: `1` = yes/acknowledge/confirm, `2` = no/repeat, a date as MMDDYYYY, an amount as
 * digits with `*` for the decimal point (entries end with `#`).
 */
import type { ClaimToolEvent } from '../../../machines/claim.events.js';
import type { ClaimView } from '../../../machines/claim.view.js';
import { parseDtmfAmount, parseDtmfDate } from './dtmf-entry.js';

/** Maps a completed keypad entry to the claim events the state accepts (possibly none). */
export function dtmfToClaimEvents(view: ClaimView, entry: string): ClaimToolEvent[] {
  switch (view.path) {
    case 'initial':
      if (entry === '1') return [{ type: 'claim.number.acknowledged' }];
      if (entry === '2') return [{ type: 'claim.number.repeat_requested' }];
      return [];
    case 'ongoing.collectingDate': {
      const date = parseDtmfDate(entry);
      return date ? [{ type: 'claim.date.provided', date }] : [];
    }
    case 'ongoing.collectingAmount': {
      const amount = parseDtmfAmount(entry);
      return amount !== null ? [{ type: 'claim.amount.provided', amount }] : [];
    }
    case 'ongoing.verifying':
      return entry === '1' ? [{ type: 'claim.details.confirmed' }] : [];
    default:
      return [];
  }
}
