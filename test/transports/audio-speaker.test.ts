/**
 * The audio speaker: TTS audio out with a mark after each chunk, a turn done only once the caller
 * heard it, barge-in with the heard part, and the fallback voice when the TTS fails or stalls.
 * A scripted in-memory TTS stands in for Cartesia (its wire protocol is tested with the SDK elsewhere).
 */
import { jest } from '@jest/globals';
import { createPlaybackTracker } from '../../src/audio/playback-tracker.js';
import {
  createAudioSpeaker,
  type AudioSink,
  type AudioSpeakerOptions,
} from '../../src/transports/audio-speaker.js';
import type { TtsConnection, TtsTurnHandlers } from '../../src/providers/tts-types.js';
import { ProviderError } from '../../src/providers/types.js';
import { runResumeTurn, unheardRest } from '../../src/session/resume-turn.js';

/** A TTS whose turns are driven by the test. */
function scriptedTts(name: string) {
  const turns: { id: string; texts: string[]; ended: boolean; cancelled: boolean; h: TtsTurnHandlers }[] = [];
  const connection: TtsConnection = {
    startTurn(id, h) {
      const t = { id, texts: [] as string[], ended: false, cancelled: false, h };
      turns.push(t);
      return {
        push: (text) => t.texts.push(text),
        end: () => (t.ended = true),
        cancel: () => (t.cancelled = true),
      };
    },
    close() {},
  };
  return { name, connection, turns };
}

/** A far end that records what it got and echoes marks on demand. */
function farEnd() {
  const sent: ({ audio: number } | { mark: string })[] = [];
  const sink: AudioSink = {
    sendAudio: (m) => sent.push({ audio: m.length }),
    sendMark: (name) => sent.push({ mark: name }),
  };
  const marks = () => sent.flatMap((e) => ('mark' in e ? [e.mark] : []));
  return { sink, sent, marks };
}

const audio = (ms: number) => new Uint8Array(ms * 8).fill(0x7f);
const tick = () => new Promise((r) => setImmediate(r));

/** A speaker over a scripted TTS (and, with `fallback`, a scripted local voice), recording TTS errors. */
function setup(
  opts: { fallback?: boolean; name?: string } & Partial<Omit<AudioSpeakerOptions, 'fallback'>> = {},
) {
  const { fallback, name = 'cartesia', ...options } = opts;
  const tts = scriptedTts(name);
  const local = scriptedTts('espeak-ng');
  const far = farEnd();
  const errors: [string, boolean][] = [];
  const speaker = createAudioSpeaker({
    name,
    tts: tts.connection,
    ...(fallback ? { fallback: { name: 'espeak-ng', tts: local.connection } } : {}),
    sink: far.sink,
    tracker: createPlaybackTracker(),
    onTtsError: (err, usingFallback) => errors.push([err.message, usingFallback]),
    ...options,
  });
  return { tts, local, far, errors, speaker };
}

describe('the audio speaker', () => {
  it('sends each chunk with a mark after it and ends the turn only when the last mark is echoed', async () => {
    const { tts, far, speaker } = setup();
    let firstAudio = 0;
    const turn = speaker.startTurn(1, { onFirstAudio: () => firstAudio++ });
    turn.push('Hello there.');
    turn.push('How are you?');
    turn.end();
    const t = tts.turns[0]!;
    expect(t.texts).toEqual(['Hello there.', 'How are you?']);
    t.h.onAudio(audio(400));
    t.h.onAudio(audio(400));
    t.h.onDone();
    expect(far.sent).toEqual([
      { audio: 3200 },
      { mark: far.marks()[0] },
      { audio: 3200 },
      { mark: far.marks()[1] },
    ]);
    expect(firstAudio).toBe(1);
    let settled = false;
    void turn.done.then(() => (settled = true));
    speaker.markReceived(far.marks()[0]!);
    await tick();
    expect(settled).toBe(false);
    speaker.markReceived(far.marks()[1]!);
    await expect(turn.done).resolves.toEqual({
      spokenText: 'Hello there. How are you?',
      heardText: 'Hello there. How are you?',
      interrupted: false,
    });
    expect(turn.timings.firstHeardAt).not.toBeNull();
  });

  it('on barge-in keeps only what the caller heard', async () => {
    const { tts, far, speaker } = setup();
    const turn = speaker.startTurn(2, { onFirstAudio: () => {} });
    turn.push('The incident happened on March third, and you are claiming nine hundred dollars.');
    turn.end();
    const t = tts.turns[0]!;
    for (let i = 0; i < 6; i++) t.h.onAudio(audio(500));
    speaker.markReceived(far.marks()[0]!);
    speaker.markReceived(far.marks()[1]!);
    turn.cancel();
    const r = await turn.done;
    expect(r.interrupted).toBe(true);
    expect(t.cancelled).toBe(true);
    expect(r.heardText.length).toBeGreaterThan(0);
    expect(r.spokenText.startsWith(r.heardText)).toBe(true);
    expect(r.heardText.length).toBeLessThan(r.spokenText.length);
  });

  it('resumes a false interruption from the heard position: the rest of the cut sentence, then the sentences after it', async () => {
    const { tts, far, speaker } = setup();
    const cut = speaker.startTurn(2, { onFirstAudio: () => {} });
    cut.push('The incident happened on March third.');
    tts.turns[0]!.h.onAudio(audio(1000));
    tts.turns[0]!.h.onAudio(audio(1000));
    cut.push('You are claiming nine hundred dollars.');
    tts.turns[0]!.h.onAudio(audio(1500));
    cut.end();
    speaker.markReceived(far.marks()[0]!); // the caller heard half of the first sentence
    cut.cancel();
    const r = await cut.done;
    const rest = unheardRest(r.spokenText, r.heardText);
    expect(r.heardText).not.toBe('');
    expect(`${r.heardText} ${rest}`).toBe(r.spokenText);
    expect(rest).toMatch(/third\. You are claiming nine hundred dollars\.$/);

    const history: { role: 'assistant'; content: string }[] = [];
    const resumed = runResumeTurn(
      {
        turn: 3,
        reason: 'resume',
        userText: '',
        dtmf: null,
        keypadOffer: null,
        dialogue: 'primary',
        resumeTurn: 2,
      },
      rest,
      { speaker, history, onFirstAudio: () => {}, onBotText: () => {} },
      new AbortController().signal,
    );
    const again = tts.turns[1]!;
    expect(again.texts.join(' ')).toBe(rest);
    expect(again.texts.at(-1)).toBe('You are claiming nine hundred dollars.');
    again.h.onAudio(audio(200));
    again.h.onDone();
    speaker.markReceived(far.marks().at(-1)!);
    await expect(resumed).resolves.toMatchObject({ speech: { spokenText: rest, interrupted: false } });
    expect(history).toEqual([{ role: 'assistant', content: rest }]);
  });

  it('finds nothing to resume when everything was heard, and ignores punctuation in heard words', () => {
    expect(unheardRest('Okay. Thanks!', 'okay thanks')).toBe('');
    expect(unheardRest('On March third, and you', 'On March third')).toBe('and you');
    expect(unheardRest('Hello there.', '')).toBe('Hello there.');
  });

  it('switches to the fallback voice when the TTS fails, re-speaking what was not voiced', async () => {
    const { tts, local, far, errors, speaker } = setup({ fallback: true });
    const turn = speaker.startTurn(3, { onFirstAudio: () => {} });
    turn.push('First sentence.');
    turn.push('Second sentence.');
    turn.end();
    tts.turns[0]!.h.onError(new ProviderError('tts', 'cartesia', 'context failed', true));
    expect(tts.turns[0]!.cancelled).toBe(true);
    const fb = local.turns[0]!;
    expect(fb.texts).toEqual(['First sentence.', 'Second sentence.']);
    expect(fb.ended).toBe(true);
    fb.h.onAudio(audio(300));
    fb.h.onDone();
    speaker.markReceived(far.marks()[0]!);
    await expect(turn.done).resolves.toMatchObject({
      interrupted: false,
      spokenText: 'First sentence. Second sentence.',
    });
    expect(errors).toEqual([['context failed', true]]);
  });

  it('treats a TTS that owes audio and sends none as failed', async () => {
    const { local, errors, speaker } = setup({ fallback: true, ttsStallMs: 200 });
    const turn = speaker.startTurn(4, { onFirstAudio: () => {} });
    turn.push('Hello.');
    turn.end();
    while (errors.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(errors.map(([message]) => message)).toEqual(['no audio for 200 ms']);
    expect(local.turns[0]!.texts).toEqual(['Hello.']);
    local.turns[0]!.h.onDone(); // the fallback had nothing to say after all
    await expect(turn.done).resolves.toMatchObject({ interrupted: false });
  });

  it('ends the turn when marks never come back, once the audio should have played', async () => {
    const { tts, speaker } = setup({ markGraceMs: 10 });
    const turn = speaker.startTurn(5, { onFirstAudio: () => {} });
    turn.push('Hi.');
    turn.end();
    tts.turns[0]!.h.onAudio(audio(20));
    tts.turns[0]!.h.onDone();
    await expect(turn.done).resolves.toMatchObject({ interrupted: false, heardText: 'Hi.' });
  });

  it('ends the turn with what was heard when the TTS fails and there is no fallback', async () => {
    const { tts, speaker } = setup({ name: 'espeak-ng' });
    const turn = speaker.startTurn(6, { onFirstAudio: () => {} });
    turn.push('Hello.');
    turn.end();
    tts.turns[0]!.h.onError(new ProviderError('tts', 'local', 'espeak-ng exited with 1', false));
    await expect(turn.done).resolves.toMatchObject({ spokenText: 'Hello.', heardText: '' });
  });
});

describe('a held turn of the audio speaker (preemptive generation)', () => {
  it('synthesizes on its own context but sends nothing until released, then all of it in order', async () => {
    const { tts, far, speaker } = setup();
    let firstAudio = 0;
    const turn = speaker.startTurn(3, { onFirstAudio: () => firstAudio++, held: true });
    turn.push('Got it, March third.');
    turn.push('How much are you claiming?');
    turn.end();
    const t = tts.turns[0]!;
    expect(t.id).toBe('t3-held1');
    t.h.onAudio(audio(300));
    t.h.onWordTimestamps?.(['Got', 'it'], [0, 0.2], [0.2, 0.3]);
    t.h.onAudio(audio(300));
    t.h.onDone();
    expect(far.sent).toEqual([]);
    expect(firstAudio).toBe(0);
    expect(turn.timings.firstSynthesizedAt).not.toBeNull();
    expect(turn.timings.firstAudioAt).toBeNull();

    turn.release();
    expect(firstAudio).toBe(1);
    expect(far.sent).toEqual([
      { audio: 2400 },
      { mark: far.marks()[0] },
      { audio: 2400 },
      { mark: far.marks()[1] },
    ]);
    for (const m of far.marks()) speaker.markReceived(m);
    await expect(turn.done).resolves.toEqual({
      spokenText: 'Got it, March third. How much are you claiming?',
      heardText: 'Got it, March third. How much are you claiming?',
      interrupted: false,
    });
  });

  it('goes on live after its release: later audio is sent at once', () => {
    const { tts, far, speaker } = setup();
    const turn = speaker.startTurn(3, { onFirstAudio: () => {}, held: true });
    turn.push('One.');
    const t = tts.turns[0]!;
    t.h.onAudio(audio(100));
    turn.release();
    expect(far.sent).toHaveLength(2);
    turn.push('Two.');
    t.h.onAudio(audio(100));
    expect(far.sent).toHaveLength(4);
    turn.release(); // a second release changes nothing
    expect(far.sent).toHaveLength(4);
  });

  it('is dropped by a cancel before its release: its context cancelled, nothing sent, nothing heard', async () => {
    const { tts, far, speaker } = setup();
    const held = speaker.startTurn(3, { onFirstAudio: () => {}, held: true });
    held.push('Sorry, could you say that again?');
    tts.turns[0]!.h.onAudio(audio(400));
    held.cancel();
    await expect(held.done).resolves.toEqual({ spokenText: '', heardText: '', interrupted: true });
    expect(tts.turns[0]!.cancelled).toBe(true);
    held.release();
    tts.turns[0]!.h.onAudio(audio(400)); // a late chunk of the cancelled context
    expect(far.sent).toEqual([]);

    // The fresh turn with the same number gets its own context and plays normally.
    const fresh = speaker.startTurn(3, { onFirstAudio: () => {} });
    fresh.push('Got it, March third.');
    fresh.end();
    const t = tts.turns[1]!;
    expect(t.id).toBe('t3');
    t.h.onAudio(audio(200));
    t.h.onDone();
    speaker.markReceived(far.marks()[0]!);
    await expect(fresh.done).resolves.toMatchObject({
      heardText: 'Got it, March third.',
      interrupted: false,
    });
  });
});

describe('the audio speaker joining chunks', () => {
  afterEach(() => jest.useRealTimers());

  it('sends the first chunk at once and joins a burst into messages of up to 200 ms, each with its mark', () => {
    jest.useFakeTimers();
    const { tts, far, speaker } = setup();
    const turn = speaker.startTurn(1, { onFirstAudio: () => {} });
    turn.push('A long read-back.');
    turn.end();
    const t = tts.turns[0]!;
    // A voice faster than real time: 40 chunks of 50 ms (2 s of audio) in one burst.
    for (let i = 0; i < 40; i++) t.h.onAudio(audio(50));
    t.h.onDone();
    const audioSizes = far.sent.flatMap((e) => ('audio' in e ? [e.audio / 8] : []));
    // The first three go out alone while the far end's queue is under 100 ms; then 200 ms each.
    // 13 messages instead of 40, and as many marks.
    expect(audioSizes).toEqual([50, 50, 50, ...Array<number>(9).fill(200), 50]);
    // Every message is followed by its mark.
    far.sent.forEach((e, i) => expect('audio' in e ? 'mark' in far.sent[i + 1]! : true).toBe(true));
  });

  it('never holds a slow voice back into a gap: a chunk goes out before the queue drops under 100 ms', () => {
    jest.useFakeTimers();
    const { tts, far, speaker } = setup();
    speaker.startTurn(1, { onFirstAudio: () => {} }).push('Slowly.');
    const t = tts.turns[0]!;
    t.h.onAudio(audio(50));
    t.h.onAudio(audio(50));
    t.h.onAudio(audio(50));
    t.h.onAudio(audio(50)); // queued: 150 ms ahead of playback; this one waits
    const count = () => far.sent.filter((e) => 'audio' in e).length;
    expect(count()).toBe(3);
    jest.advanceTimersByTime(49);
    expect(count()).toBe(3);
    jest.advanceTimersByTime(1); // 50 ms on, the far end has 100 ms left: send
    expect(count()).toBe(4);
  });

  it('drops what is pending on a barge-in (never sent, nothing to clear) and flushes it at the end of the audio', async () => {
    jest.useFakeTimers();
    const a = setup();
    const cut = a.speaker.startTurn(1, { onFirstAudio: () => {} });
    cut.push('Cut short.');
    for (let i = 0; i < 6; i++) a.tts.turns[0]!.h.onAudio(audio(50));
    const sentBefore = a.far.sent.filter((e) => 'audio' in e).length;
    cut.cancel();
    jest.advanceTimersByTime(1000);
    expect(a.far.sent.filter((e) => 'audio' in e).length).toBe(sentBefore);
    expect((await cut.done).interrupted).toBe(true);

    const b = setup();
    const whole = b.speaker.startTurn(1, { onFirstAudio: () => {} });
    whole.push('All of it.');
    whole.end();
    for (let i = 0; i < 6; i++) b.tts.turns[0]!.h.onAudio(audio(50));
    b.tts.turns[0]!.h.onDone();
    const sizes = b.far.sent.flatMap((e) => ('audio' in e ? [e.audio / 8] : []));
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(300);
  });

  it('with coalesceMs 0 sends every chunk as it comes', () => {
    const { tts, far, speaker } = setup({ coalesceMs: 0 });
    speaker.startTurn(1, { onFirstAudio: () => {} }).push('Each one.');
    for (let i = 0; i < 10; i++) tts.turns[0]!.h.onAudio(audio(50));
    expect(far.sent.filter((e) => 'audio' in e)).toHaveLength(10);
  });
});
