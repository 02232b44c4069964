/**
 * The audio call's STT side: what reaches the call machine from the transcript stream. Deepgram
 * repeats an interim while the words stand still; only a change of words is a machine event, and
 * a final, an utterance end or a reconnect starts a new segment (the same words are news again).
 */
import pino from 'pino';
import { createActor, createMachine, fromCallback } from 'xstate';
import { createAudioCall } from '../../src/transports/audio-call.js';
import type { SttListener, SttProvider } from '../../src/providers/stt-types.js';
import type { TtsProvider } from '../../src/providers/tts-types.js';

function setup() {
  let listener: SttListener | null = null;
  const stt: SttProvider = {
    name: 'deepgram',
    open(l) {
      listener = l;
      return { sendAudio() {}, finalize() {}, close: async () => {} };
    },
  };
  const tts: TtsProvider = {
    name: 'cartesia',
    audible: true,
    connect: () => ({
      startTurn: () => ({ push() {}, end() {}, cancel() {} }),
      close() {},
    }),
  };
  const call = createAudioCall({
    stt,
    tts,
    output: { sendAudio() {}, sendMark() {}, clear() {} },
    hooks: { userStarted() {}, userStopped() {}, sttTiming() {}, providerChanged() {} },
    logger: pino({ level: 'silent' }),
  });
  const events: Array<{ type: string; text?: string }> = [];
  const parent = createMachine({
    invoke: { src: fromCallback(call.stt), input: { conversationId: 'c1' } },
    on: { '*': { actions: ({ event }) => events.push(event as { type: string; text?: string }) } },
  });
  const actor = createActor(parent).start();
  const say = {
    partial: (text: string) => listener!.onTranscript({ type: 'partial', text, at: 0 }),
    final: (text: string) => listener!.onTranscript({ type: 'final', text, speechFinal: true, at: 0 }),
    utteranceEnd: () => listener!.onTranscript({ type: 'utterance_end', at: 0 }),
    reconnect: () => listener!.onReconnect?.(1),
  };
  const seen = () =>
    events.filter((e) => e.type.startsWith('stt.')).map((e) => `${e.type} ${e.text ?? ''}`.trim());
  return { say, seen, stop: () => (actor.stop(), call.close()) };
}

describe('the audio call transcript events', () => {
  it('hands the machine an interim only when its words change', () => {
    const { say, seen, stop } = setup();
    for (const t of ['Okay,', 'Okay,', 'Okay, got', 'Okay, got', ' Okay, got ', 'Okay, got it.'])
      say.partial(t);
    say.final('Okay, got it.');
    expect(seen()).toEqual([
      'stt.transcript.partial Okay,',
      'stt.transcript.partial Okay, got',
      'stt.transcript.partial Okay, got it.',
      'stt.transcript.final Okay, got it.',
    ]);
    stop();
  });

  it('starts a new segment after a final, an utterance end or a reconnect: the same words are news again', () => {
    const { say, seen, stop } = setup();
    say.partial('Yes');
    say.final('Yes');
    say.partial('Yes');
    say.utteranceEnd();
    say.partial('Yes');
    say.reconnect();
    say.partial('Yes');
    say.partial('');
    expect(seen()).toEqual([
      'stt.transcript.partial Yes',
      'stt.transcript.final Yes',
      'stt.transcript.partial Yes',
      'stt.utterance.ended',
      'stt.transcript.partial Yes',
      'stt.transcript.partial Yes',
    ]);
    stop();
  });
});
