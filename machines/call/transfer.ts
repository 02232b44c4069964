/**
 * Transfer to a person: the rules the call machine applies and the words the agent hears.
 *
 * - A caller gets a person by asking for one (the dialogue's `caller.transfer.requested`), by
 *   pressing {@link TRANSFER_DIGIT} on the keypad, or after a configured number of misunderstood
 *   turns in a row (default {@link DEFAULT_TRANSFER_AFTER_MISUNDERSTANDINGS}).
 * - The whisper is what the agent hears before being connected: why the caller was transferred and
 *   the claim as it stands (number, date, amount, what is still missing). Pure; no I/O.
 */
import { claimNumberForSpeech } from '../claim/claim-number.js';

/** Why a call is being transferred. */
export type TransferCause = 'caller' | 'keypad' | 'misunderstood';

/** The keypad key that asks for a person (the operator key on every phone). */
export const TRANSFER_DIGIT = '0';

/** Misunderstood caller turns in a row after which a call is transferred, by default. */
export const DEFAULT_TRANSFER_AFTER_MISUNDERSTANDINGS = 3;

/**
 * Whether this keypad digit asks for a person, given the digits buffered so far. In `answer` mode
 * a lone `0` does, at once. In `entry` mode (collecting a date or an amount) `0` may start a value
 * (`03032026#`), so the request there is the entry `0#`.
 */
export function keypadAsksForPerson(buffer: string, digit: string, mode: 'answer' | 'entry'): boolean {
  if (mode === 'answer' && buffer === '' && digit === TRANSFER_DIGIT) return true;
  return digit === '#' && buffer === TRANSFER_DIGIT;
}

/** The claim as the agent is told it. */
export interface TransferClaimSummary {
  claimId: string;
  /** YYYY-MM-DD, or null when not collected yet. */
  claimDate: string | null;
  /** US dollars, or null when not collected yet. */
  claimAmount: number | null;
}

/** The agent's whisper, part by part (`{name}` placeholders; see {@link transferWhisperText}). */
export const transferWhisperWording = {
  intro: 'Claims call transferred by the {companyName} assistant.',
  cause: {
    caller: 'The caller asked to speak to a person.',
    keypad: 'The caller pressed zero for a person.',
    misunderstood: 'The assistant could not understand the caller.',
  } satisfies Record<TransferCause, string>,
  claimNumber: 'Claim number {claimNumber}.',
  claimDate: 'Date of the incident: {claimDate}.',
  claimAmount: 'Amount claimed: {claimAmount}.',
  missing: 'Still missing: {missing}.',
  complete: 'Date and amount are collected but not yet confirmed by the caller.',
  noClaim: 'No claim details were found for this call.',
  missingNames: { claimDate: 'the date of the incident', claimAmount: 'the amount' },
} as const;

const dateFormat = new Intl.DateTimeFormat('en-US', {
  month: 'long',
  day: 'numeric',
  year: 'numeric',
  timeZone: 'UTC',
});
const amountFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** A YYYY-MM-DD date as "March 3, 2026" (what a speech engine reads well); anything else as given. */
function dateForWhisper(date: string): string {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  return Number.isNaN(t) ? date : dateFormat.format(t);
}

/**
 * The words the agent hears before being connected. `claim` null: the conversation is unknown
 * (the whisper still plays, so the agent is never connected to silence).
 */
export function transferWhisperText(o: {
  claim: TransferClaimSummary | null;
  cause: TransferCause | null;
  companyName: string;
}): string {
  const w = transferWhisperWording;
  const parts: string[] = [w.intro.replace('{companyName}', o.companyName)];
  if (o.cause) parts.push(w.cause[o.cause]);
  const c = o.claim;
  if (!c) return [...parts, w.noClaim].join(' ');
  parts.push(w.claimNumber.replace('{claimNumber}', claimNumberForSpeech(c.claimId)));
  if (c.claimDate) parts.push(w.claimDate.replace('{claimDate}', dateForWhisper(c.claimDate)));
  if (c.claimAmount !== null)
    parts.push(w.claimAmount.replace('{claimAmount}', amountFormat.format(c.claimAmount)));
  const missing: string[] = [];
  if (!c.claimDate) missing.push(w.missingNames.claimDate);
  if (c.claimAmount === null) missing.push(w.missingNames.claimAmount);
  parts.push(missing.length > 0 ? w.missing.replace('{missing}', missing.join(' and ')) : w.complete);
  return parts.join(' ');
}
