/**
 * Where each transcript turn sits in a call's recording, for the call page's player
 * (client/src/call/recording-player.ts). Pure; shared with the client (type imports only).
 *
 * The recording starts with the call (the conversation's `created_at`), and each stored
 * message has its own time. A message is stored once it was said: a caller's when their words were
 * recognised, a bot turn's when its audio finished (or was cut). So a turn's seek point is its
 * stored time minus an estimate of how long it took to say (the caller at about 0.35 s a word; the
 * bot at 15 characters a second, the playback tracker's rate, over what the caller heard), never
 * before the previous message ended.
 */
import type { MessageRow } from '../store/types.js';

/** Seconds a caller takes per word, and before their first word (the seek estimate above). */
const SECONDS_PER_WORD = 0.35;
const CALLER_LEAD_S = 0.5;
/** The bot's speaking rate (characters per second), as the playback tracker assumes. */
const BOT_CHARS_PER_SECOND = 15;

/** About how long a stored message took to say, in seconds. */
function spokenSeconds(m: MessageRow): number {
  if (m.role === 'user') {
    const words = m.text.trim().split(/\s+/).filter(Boolean).length;
    return CALLER_LEAD_S + words * SECONDS_PER_WORD;
  }
  const said = m.interrupted ? (m.heard_text ?? '') : m.text;
  return said.trim().length / BOT_CHARS_PER_SECOND;
}

/** Where each spoken message starts in the recording, in seconds (null for tool/system rows). */
export function messageStarts(d: {
  conversation: { created_at: string };
  messages: readonly MessageRow[];
}): Array<number | null> {
  const t0 = Date.parse(d.conversation.created_at);
  let previous = 0;
  return d.messages.map((m) => {
    if (m.role !== 'user' && m.role !== 'assistant') return null;
    const at = Math.max(0, (Date.parse(m.created_at) - t0) / 1000);
    const start = Math.max(previous, at - spokenSeconds(m));
    previous = at;
    return Number.isFinite(start) ? start : null;
  });
}
