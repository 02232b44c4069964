/**
 * How caller turns that are not words appear in the transcript (stored `conversation_messages`
 * rows with role `user`, and the `user.turn` notice): a keypad entry as one turn
 * (`keypad: 03032026#`), and an utterance the bot heard but could not understand. Pure, no
 * imports: the browser client reads the same texts (client/tsconfig.json includes this file).
 */

const KEYPAD_PREFIX = 'keypad: ';

/** Transcript text of one keypad entry (`03032026#`). */
export function keypadTurnText(entry: string): string {
  return `${KEYPAD_PREFIX}${entry}`;
}

/** The keypad entry of a transcript text made by {@link keypadTurnText}, else null. */
export function keypadEntryOf(text: string): string | null {
  return text.startsWith(KEYPAD_PREFIX) ? text.slice(KEYPAD_PREFIX.length) : null;
}

/** Transcript text of an utterance the bot heard but could not understand. */
export function unheardTurnText(sttConfigured: boolean): string {
  return sttConfigured ? 'speech not understood' : 'speech not understood (no speech-to-text configured)';
}

/** Whether a transcript text is one made by {@link unheardTurnText}. */
export function isUnheardTurnText(text: string): boolean {
  return text === unheardTurnText(true) || text === unheardTurnText(false);
}
