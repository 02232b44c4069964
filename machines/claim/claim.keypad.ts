/**
 * Keypad entries → claim events for the current state, so a caller can finish a claim with the
 * keypad alone. What the keys mean is the state's meta (`keypad`): in `answer` mode a lone digit
 * sends the event the meta maps it to; in `entry` mode the digits build the value the meta names
 * (a date as MMDDYYYY, an amount with `*` for the decimal point; entries end with `#`).
 */
import type { KeypadDigit } from './claim.machine.js';
import type { ClaimToolEvent } from './claim.events.js';
import type { ClaimView } from './claim.view.js';
import { parseDtmfAmount, parseDtmfDate } from './keypad-entry.js';

/** Maps a completed keypad entry to the claim events the state accepts (possibly none). */
export function dtmfToClaimEvents(view: ClaimView, entry: string): ClaimToolEvent[] {
  const keypad = view.keypad;
  if (!keypad) return [];
  if (keypad.mode === 'answer') {
    const type = keypad.answers[entry as KeypadDigit];
    return type && view.acceptedEvents.includes(type) ? [{ type } as ClaimToolEvent] : [];
  }
  if (keypad.builds === 'date') {
    const date = parseDtmfDate(entry);
    return date ? [{ type: 'claim.date.provided', date }] : [];
  }
  const amount = parseDtmfAmount(entry);
  return amount !== null ? [{ type: 'claim.amount.provided', amount }] : [];
}
