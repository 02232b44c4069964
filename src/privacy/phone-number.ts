/**
 * What of a phone number may leave the call: its last four digits. Used wherever a number would
 * reach a log line, a database row, a prompt or the inspector; no layer may store it whole.
 */

/** Last four digits of a phone number for display/speech (`+15551234567` → `…4567`), never the whole number. */
export function maskPhoneNumber(number: string | null | undefined): string | null {
  if (!number) return null;
  const digits = number.replace(/\D/g, '');
  if (digits.length < 4) return '…';
  return `…${digits.slice(-4)}`;
}
