import { createPlaybackTracker } from '../../src/audio/playback-tracker.js';

/** 100 ms of mu-law at 8 kHz. */
const CHUNK = 800;

describe('playback tracker', () => {
  it('names one unique mark per chunk and reports marks echoed in order as played audio', () => {
    const tr = createPlaybackTracker();
    const names = [1, 2, 3].map(() => tr.chunkSent({ turnId: 3, bytes: CHUNK }));
    expect(names).toEqual(['t3-c1', 't3-c2', 't3-c3']);
    expect(tr.pendingMarks(3)).toBe(3);
    expect(tr.sentMs(3)).toBe(300);
    expect(tr.markReceived('t3-c1')).toEqual({ turnId: 3, playedMs: 100, firstForTurn: true });
    expect(tr.markReceived('t3-c2')).toEqual({ turnId: 3, playedMs: 200, firstForTurn: false });
    expect(tr.playedMs(3)).toBe(200);
    expect(tr.pendingMarks(3)).toBe(1);
    expect(tr.markReceived('t3-c3')).toEqual({ turnId: 3, playedMs: 300, firstForTurn: false });
    expect(tr.pendingMarks(3)).toBe(0);
  });

  it('accepts chunk buffers as well as byte counts, and string turn ids as mark prefixes', () => {
    const tr = createPlaybackTracker();
    expect(tr.chunkSent({ turnId: 't7', bytes: new Uint8Array(160) })).toBe('t7-c1');
    expect(tr.chunkSent({ turnId: 't7', bytes: Buffer.alloc(320) })).toBe('t7-c2');
    expect(tr.sentMs('t7')).toBe(60);
    expect(tr.markReceived('t7-c2')?.playedMs).toBe(60);
  });

  it('ignores marks that are not its own, and a mark echoed twice counts once', () => {
    const tr = createPlaybackTracker();
    const m = tr.chunkSent({ turnId: 1, bytes: CHUNK });
    expect(tr.markReceived('greeting-end')).toBeNull();
    expect(tr.markReceived(m)).not.toBeNull();
    expect(tr.markReceived(m)).toBeNull();
    expect(tr.playedMs(1)).toBe(100);
  });

  it('does not count marks flushed by clear as heard, even when Twilio echoes them all at once', () => {
    const tr = createPlaybackTracker();
    tr.chunkSent({ turnId: 4, bytes: CHUNK, text: 'Your claim number is' });
    const marks = [1, 2, 3, 4].map(() => tr.chunkSent({ turnId: 4, bytes: CHUNK }));
    tr.markReceived('t4-c1');
    tr.markReceived(marks[0]!);
    expect(tr.playedMs(4)).toBe(200);
    // Barge-in: we send Twilio `clear`...
    tr.clear();
    expect(tr.pendingMarks(4)).toBe(0);
    // ...and Twilio echoes the three pending marks immediately.
    for (const m of marks.slice(1)) expect(tr.markReceived(m)).toBeNull();
    expect(tr.playedMs(4)).toBe(200);
    tr.turnAudioEnded(4);
    expect(tr.allPlayed(4)).toBe(false);
  });

  it('counts audio sent after a clear normally (the next turn is not affected by the flush)', () => {
    const tr = createPlaybackTracker();
    const old = tr.chunkSent({ turnId: 1, bytes: CHUNK });
    tr.clear();
    const fresh = tr.chunkSent({ turnId: 2, bytes: CHUNK });
    expect(tr.markReceived(old)).toBeNull();
    expect(tr.markReceived(fresh)).toEqual({ turnId: 2, playedMs: 100, firstForTurn: true });
    tr.turnAudioEnded(2);
    expect(tr.allPlayed(2)).toBe(true);
  });

  it('says a turn was all played only once its audio ended and every mark came back', () => {
    const tr = createPlaybackTracker();
    const a = tr.chunkSent({ turnId: 5, bytes: CHUNK });
    const b = tr.chunkSent({ turnId: 5, bytes: CHUNK });
    tr.markReceived(a);
    tr.markReceived(b);
    expect(tr.allPlayed(5)).toBe(false); // more audio may still come
    const c = tr.chunkSent({ turnId: 5, bytes: CHUNK });
    tr.turnAudioEnded(5);
    expect(tr.allPlayed(5)).toBe(false);
    tr.markReceived(c);
    expect(tr.allPlayed(5)).toBe(true);
    expect(tr.allPlayed(99)).toBe(false);
  });

  it('uses word timestamps for heard text: only words whose end was played', () => {
    const tr = createPlaybackTracker();
    for (let i = 0; i < 10; i++) tr.chunkSent({ turnId: 6, bytes: CHUNK }); // 1 s of audio
    tr.wordTimestamps(6, {
      words: ['Your', 'claim', 'number'],
      start: [0, 0.2, 0.45],
      end: [0.18, 0.42, 0.7],
    });
    tr.wordTimestamps(6, { words: ['is', 'seven.'], start: [0.72, 0.8], end: [0.78, 1.0] });
    expect(tr.heardText(6)).toBe('');
    for (let i = 1; i <= 5; i++) tr.markReceived(`t6-c${i}`); // 500 ms played
    expect(tr.heardText(6)).toBe('Your claim');
    tr.markReceived('t6-c6');
    tr.markReceived('t6-c7'); // 700 ms
    expect(tr.heardText(6)).toBe('Your claim number');
    tr.clear();
    expect(tr.heardText(6)).toBe('Your claim number');
  });

  it('without timestamps, splits each text span by the share of its audio played, at a word boundary', () => {
    const tr = createPlaybackTracker();
    // Two sentences, each attributed to the chunk where its audio starts; 4 chunks each.
    tr.chunkSent({ turnId: 8, bytes: CHUNK, text: 'I have your date as March third.' });
    for (let i = 0; i < 3; i++) tr.chunkSent({ turnId: 8, bytes: CHUNK });
    tr.chunkSent({ turnId: 8, bytes: CHUNK, text: 'Is that right?' });
    for (let i = 0; i < 3; i++) tr.chunkSent({ turnId: 8, bytes: CHUNK });
    tr.turnAudioEnded(8);
    expect(tr.fullText(8)).toBe('I have your date as March third. Is that right?');
    tr.markReceived('t8-c1');
    tr.markReceived('t8-c2'); // half of the first sentence: 16 of 32 chars
    expect(tr.heardText(8)).toBe('I have your date');
    tr.markReceived('t8-c3');
    tr.markReceived('t8-c4');
    expect(tr.heardText(8)).toBe('I have your date as March third.');
    tr.markReceived('t8-c5'); // a quarter of "Is that right?" is 3 chars: "Is" fits whole
    expect(tr.heardText(8)).toBe('I have your date as March third. Is');
    for (let i = 6; i <= 8; i++) tr.markReceived(`t8-c${i}`);
    expect(tr.heardText(8)).toBe(tr.fullText(8));
  });

  it('never counts a word cut in the middle as heard', () => {
    const tr = createPlaybackTracker();
    tr.chunkSent({ turnId: 9, bytes: CHUNK, text: 'Supercalifragilistic' });
    tr.chunkSent({ turnId: 9, bytes: CHUNK });
    tr.turnAudioEnded(9);
    tr.markReceived('t9-c1');
    expect(tr.heardText(9)).toBe('');
  });

  it('does not take a half-synthesised sentence as fully heard when barge-in stops synthesis early', () => {
    const tr = createPlaybackTracker({ charsPerSecond: 15 });
    // 60 chars would take about 4 s; only 1 s of its audio was ever sent before the barge-in.
    const text = 'Thanks. I will now read back the amount and the date to you.';
    tr.chunkSent({ turnId: 10, bytes: 8000, text });
    const m = tr.chunkSent({ turnId: 10, bytes: 0 });
    tr.markReceived('t10-c1');
    tr.clear();
    tr.markReceived(m);
    const heard = tr.heardText(10);
    expect(heard.length).toBeLessThan(text.length / 2);
    expect(text.startsWith(heard)).toBe(true);
    expect(heard).toBe('Thanks. I will');
  });

  it('keeps turns apart and forgets a turn on request', () => {
    const tr = createPlaybackTracker();
    tr.chunkSent({ turnId: 1, bytes: CHUNK, text: 'One.' });
    const m2 = tr.chunkSent({ turnId: 2, bytes: CHUNK, text: 'Two.' });
    tr.turnAudioEnded(1);
    tr.turnAudioEnded(2);
    tr.markReceived('t1-c1');
    expect(tr.heardText(1)).toBe('One.');
    expect(tr.heardText(2)).toBe('');
    expect(tr.markReceived(m2)?.firstForTurn).toBe(true);
    tr.forgetTurn(1);
    expect(tr.playedMs(1)).toBe(0);
    expect(tr.heardText(1)).toBe('');
    expect(tr.heardText(2)).toBe('Two.');
  });

  it('never throws on malformed input and reads unknown turns as empty', () => {
    const tr = createPlaybackTracker({ bytesPerSecond: Number.NaN, charsPerSecond: -1 });
    expect(() => tr.chunkSent({ turnId: 1, bytes: -5 })).not.toThrow();
    expect(() => tr.chunkSent({ turnId: 1, bytes: Number.NaN })).not.toThrow();
    expect(() => tr.chunkSent(undefined as never)).not.toThrow();
    expect(() => tr.chunkSent({ turnId: null as never, bytes: null as never })).not.toThrow();
    expect(tr.sentMs(1)).toBe(0);
    expect(tr.markReceived(undefined as never)).toBeNull();
    expect(tr.markReceived(42 as never)).toBeNull();
    expect(() => tr.wordTimestamps(1, null as never)).not.toThrow();
    expect(() =>
      tr.wordTimestamps(1, { words: ['a', 3 as never], start: [], end: [Number.NaN] }),
    ).not.toThrow();
    expect(() => tr.turnAudioEnded(undefined as never)).not.toThrow();
    expect(tr.heardText('nope')).toBe('');
    expect(tr.fullText('nope')).toBe('');
    expect(tr.pendingMarks('nope')).toBe(0);
    expect(tr.playedMs('nope')).toBe(0);
    expect(tr.allPlayed('nope')).toBe(false);
    expect(() => tr.forgetTurn('nope')).not.toThrow();
    tr.clear();
    tr.clear();
  });

  it('keeps mark names unique even when a turn id could collide with another', () => {
    const tr = createPlaybackTracker();
    const a = tr.chunkSent({ turnId: 3, bytes: 1 });
    const b = tr.chunkSent({ turnId: 't3', bytes: 1 });
    expect(a).not.toBe(b);
    expect(tr.markReceived(b)?.turnId).toBe('t3');
    expect(tr.markReceived(a)?.turnId).toBe(3);
  });
});
