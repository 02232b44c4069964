/**
 * How a stored call ended, in words: whether it is still live, filed its claim, was transferred,
 * or ended before the claim was done (so an unfinished call never looks live), why it ended, and
 * what kind of call it was (phone, browser voice or typed, terminal).
 */
import type { ConversationRow, TransitionRow } from './rows';

/** The outcome of a call, for a badge. */
export interface CallOutcome {
  kind: 'live' | 'filed' | 'transferred' | 'unfinished';
  text: string;
}

const REASONS: Record<string, string> = {
  completed: 'claim filed',
  caller_hung_up: 'caller hung up',
  caller_left: 'caller said goodbye',
  idle: 'caller silent',
  error: 'error',
  no_start: 'never started',
  stuck: 'stuck (watchdog)',
  server_crashed: 'server crashed',
  server_shutdown: 'server shut down',
  transferred: 'transferred to a person',
  ended: 'ended',
};

/** The end reasons the History filter offers (any other stored reason is still shown). */
export const KNOWN_END_REASONS = Object.keys(REASONS).filter((r) => r !== 'ended');

/** Words for a stored `end_reason` (unknown ones shown as they are, underscores as spaces). */
export function endReasonText(reason: string | null): string {
  if (!reason) return '—';
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}

/** Where the call is: live (not ended), filed, transferred, or ended unfinished at its claim state. */
export function callOutcomeOf(c: Pick<ConversationRow, 'ended_at' | 'end_reason' | 'state'>): CallOutcome {
  if (!c.ended_at) return { kind: 'live', text: 'live' };
  if (c.end_reason === 'transferred') return { kind: 'transferred', text: 'transferred' };
  if (c.state === 'done') return { kind: 'filed', text: 'filed' };
  return { kind: 'unfinished', text: `ended at ${c.state}` };
}

/** Whether a call carried the caller's voice: its call machine heard speech or transcripts. */
function heardVoice(transitions: readonly TransitionRow[]): boolean {
  return transitions.some((t) => t.actor === 'call' && /^(user\.speech\.|stt\.)/.test(t.event_type));
}

/**
 * The kind of call: phone, browser voice or typed, terminal. Voice or typed comes from the stored
 * `voice` column; for rows written before it, from the transitions when given (speech or
 * transcripts heard), else a browser call is just "browser".
 */
export function callKindOf(
  c: Pick<ConversationRow, 'channel' | 'voice'>,
  transitions?: readonly TransitionRow[],
): string {
  if (c.channel === 'phone') return 'phone';
  const voice = c.voice ?? (transitions ? heardVoice(transitions) : null);
  const base = c.channel === 'terminal' ? 'terminal' : 'browser';
  return voice === null ? base : `${base} (${voice ? 'voice' : 'typed'})`;
}
