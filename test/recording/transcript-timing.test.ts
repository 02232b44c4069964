/**
 * Where the call page's player puts each transcript turn in the recording: a message is stored once
 * it was said, so its seek point is its time minus how long it took to say, never before the
 * previous turn ended. Numbers from a real recorded call (the sample in the README).
 */
import { messageStarts } from '../../src/recording/transcript-timing.js';
import type { MessageRow } from '../../src/store/types.js';

const T0 = '2026-12-02T01:44:16.098Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();

function row(seq: number, role: MessageRow['role'], text: string, atS: number, heard?: string): MessageRow {
  return {
    conversation_id: 'c',
    seq,
    role,
    text,
    heard_text: heard ?? null,
    interrupted: heard !== undefined,
    turn: seq,
    created_at: at(atS),
  };
}

const detail = (messages: MessageRow[]) => ({ conversation: { created_at: T0 }, messages });

describe('the recording player timeline', () => {
  it('starts each turn where it was said: stored time minus its speaking time', () => {
    const greeting = 'x'.repeat(300); // 20 s at 15 characters a second
    const starts = messageStarts(
      detail([
        row(0, 'assistant', greeting, 23.77),
        row(1, 'user', 'Okay, got it.', 27.06),
        row(2, 'tool', 'claim.number.acknowledged() -> ok', 27.1),
        row(3, 'assistant', 'Thank you. On what date did the incident happen?', 31.02),
      ]),
    );
    expect(starts[0]).toBeCloseTo(3.77, 2);
    expect(starts[1]).toBeCloseTo(27.06 - 0.5 - 3 * 0.35, 2);
    expect(starts[2]).toBeNull();
    expect(starts[3]).toBeCloseTo(31.02 - 48 / 15, 2);
  });

  it('never starts a turn before the previous one ended, and times a cut turn by what was heard', () => {
    const starts = messageStarts(
      detail([
        row(0, 'assistant', 'y'.repeat(600), 5, 'y'.repeat(30)),
        row(1, 'user', 'one two three four five six seven eight nine ten', 6),
      ]),
    );
    expect(starts[0]).toBeCloseTo(3, 5);
    expect(starts[1]).toBe(5);
  });
});
