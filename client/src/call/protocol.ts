/**
 * The `/client/stream` protocol as the browser sees it (README "Browser client protocol"): the
 * server sends each session notice as `{"event": <type>, ...fields}`, plus `clear`, `mark`,
 * `error`, `hangup`; in audio mode bot audio arrives as binary frames (mu-law 8 kHz).
 */
import type { TurnTiming } from '../lib/rows';

/** The claim card as the server reports it. */
export interface ClaimCard {
  claimId: string;
  claimDate: string | null;
  claimAmount: number | null;
  claimStatus: string;
  state: string;
  path: string;
}

/** A JSON frame from the server. Unknown events are ignored by the client. */
export type ServerFrame =
  | { event: 'session.started'; conversationId: string; claimId: string; channel: string }
  | {
      event: 'state.changed';
      actor: 'call' | 'claim';
      value: unknown;
      /** The event that caused the change (older servers named it `event`, clashing with the frame type). */
      eventType?: string;
    }
  | { event: 'claim.updated'; claim: ClaimCard }
  | { event: 'transcript.partial'; text: string }
  | { event: 'transcript.final'; text: string }
  | { event: 'user.turn'; turn: number; text: string }
  | { event: 'bot.turn.started'; turn: number }
  | { event: 'bot.text'; turn: number; text: string }
  | { event: 'bot.turn.ended'; turn: number; text: string; heardText: string; interrupted: boolean }
  | { event: 'tool.called'; turn: number; name: string; arguments: string; result: string }
  | { event: 'metrics.turn'; timing: TurnTiming }
  | { event: 'session.ended'; reason: string }
  | { event: 'clear' }
  | { event: 'mark'; name: string }
  | { event: 'error'; message: string }
  | { event: 'hangup'; reason?: string }
  | { event: 'pong' };

/** A JSON frame to the server. */
export type ClientFrame =
  | { event: 'text'; text: string }
  | { event: 'dtmf'; digit: string }
  | { event: 'mark'; name: string }
  | { event: 'hangup' };

const KNOWN = new Set([
  'session.started',
  'state.changed',
  'claim.updated',
  'transcript.partial',
  'transcript.final',
  'user.turn',
  'bot.turn.started',
  'bot.text',
  'bot.turn.ended',
  'tool.called',
  'metrics.turn',
  'session.ended',
  'clear',
  'mark',
  'error',
  'hangup',
  'pong',
]);

/** Parses a text frame; null for anything that is not a known event object. */
export function parseServerFrame(text: string): ServerFrame | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object') return null;
  const ev = (data as { event?: unknown }).event;
  return typeof ev === 'string' && KNOWN.has(ev) ? (data as ServerFrame) : null;
}
