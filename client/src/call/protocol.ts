/**
 * The `/client/stream` protocol as the browser sees it (README "Browser client protocol"): the
 * server sends each session notice as `{"event": <type>, ...fields}`, plus `clear`, `mark`,
 * `error`, `hangup`; in audio mode bot audio arrives as binary frames (mu-law 8 kHz).
 */
import type { ServerFrame } from '../../../src/transports/browser/browser-protocol';

export type { ClaimCard, ServerFrame } from '../../../src/transports/browser/browser-protocol';

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
