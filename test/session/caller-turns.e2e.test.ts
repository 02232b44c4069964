/**
 * Caller turns that are not words, through the whole engine (local dialogue, `/client/stream`
 * over a real WebSocket, PGlite): a keypad entry is one caller turn in the stored transcript and
 * in the `user.turn` notice (not one line per key), and the call still replays.
 */
import { keypadEntryOf } from '../../src/session/caller-turn-text.js';
import {
  expectReplayMatches,
  fetchConversation,
  runScriptedCall,
  useLocalServer,
} from '../support/replay-helper.js';

const local = useLocalServer();

describe('keypad entries in the transcript (whole engine)', () => {
  it('stores each keypad entry as one caller turn, and tells clients the same', async () => {
    const call = await runScriptedCall(local.current, [
      { press: '1' },
      { press: '03032026#' },
      { say: 'bye' },
    ]);
    const detail = await fetchConversation(local.current.url, call.conversationId);
    expect(detail.conversation.claim_date).toBe('2026-03-03');
    const callerTurns = detail.messages.filter((m) => m.role === 'user').map((m) => m.text);
    const entries = callerTurns.map(keypadEntryOf).filter((e): e is string => e !== null);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toBe('1');
    expect(entries[1]).toMatch(/^03032026#?$/);
    expect(callerTurns.at(-1)).toBe('bye');
    const notices = call.messages
      .filter((m) => m.event === 'user.turn')
      .map((m) => (m as { text?: string }).text);
    expect(notices).toEqual(callerTurns);
    expectReplayMatches(detail);
  }, 60_000);
});
