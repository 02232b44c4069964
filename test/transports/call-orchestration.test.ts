/**
 * The call orchestration without a socket or a server: a fake socket (test/fakes/call-socket.ts),
 * the real codecs, a fake session starter that builds the speech side the way the real session
 * does (at construction, with its hooks) and records what reaches the session.
 */
import { jest } from '@jest/globals';
import { createLogger } from '../../src/logger.js';
import type { CallEvent } from '../../machines/call/call.machine.js';
import type { CallSession } from '../../src/session/call-session.js';
import type { CallSpeech, SessionOptions, SessionTransport } from '../../src/session/session-types.js';
import { ProviderError } from '../../src/providers/types.js';
import type { TtsProvider } from '../../src/providers/tts-types.js';
import {
  MAX_BAD_MESSAGES,
  MAX_EARLY_EVENTS,
  runCall,
  type AudioProviders,
  type CallRunDeps,
  type CarrierCall,
} from '../../src/transports/call-orchestration.js';
import type { CallCodec } from '../../src/transports/codec.js';
import {
  createBrowserAudioCodec,
  createBrowserTextCodec,
} from '../../src/transports/browser/browser-codec.js';
import { createTwilioCodec } from '../../src/transports/twilio/twilio-codec.js';
import { createToneTts } from '../fakes/tone-tts.js';
import { createFakeCallSocket, type FakeCallSocket } from '../fakes/call-socket.js';
import { concat, silencePcm, sine, toFrames } from '../audio/signals.js';

const logger = createLogger('silent', { pretty: false });
const CALL_SID = `CA${'a'.repeat(32)}`;
const STREAM_SID = `MZ${'b'.repeat(32)}`;
const twilioStart = (callSid = CALL_SID) => ({
  event: 'start',
  streamSid: STREAM_SID,
  start: { callSid, customParameters: { from: '+15551234567', to: '+15557654321' } },
});
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** What reached one session. */
interface StartedSession {
  transport: SessionTransport;
  opts: SessionOptions | undefined;
  speech: CallSpeech;
  events: CallEvent[];
  stops: string[];
  hooks: string[];
}

/** A session starter that answers when `release()` is called (or at once). */
function fakeSessions(opts: { hold?: boolean } = {}) {
  const started: StartedSession[] = [];
  let release: () => void = () => {};
  const gate = opts.hold ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  const startSession = async (transport: SessionTransport, o?: SessionOptions): Promise<CallSession> => {
    const rec: StartedSession = { transport, opts: o, speech: null!, events: [], stops: [], hooks: [] };
    // Like startCallSession: the speech side is built at construction, with the session's hooks.
    rec.speech = transport.openSpeech(
      {
        userStarted: () => rec.hooks.push('userStarted'),
        userStopped: () => rec.hooks.push('userStopped'),
        sttTiming: () => rec.hooks.push('sttTiming'),
        providerChanged: (role, name) => rec.hooks.push(`provider ${role} ${name}`),
      },
      { conversationId: 'conv-1' },
    );
    started.push(rec);
    await gate;
    return {
      conversationId: 'conv-1',
      claimId: 'CLM-1',
      send: (e) => rec.events.push(e),
      // Idempotent, like CallSession.stop: the first reason is the one recorded.
      stop: (r) => void (rec.stops.length === 0 && rec.stops.push(r)),
      hangUp: () => {},
      snapshot: () => ({ call: null, claim: null }),
      done: new Promise(() => {}),
    };
  };
  return { started, startSession, release: () => release() };
}

const flush = () => new Promise((r) => setImmediate(r));

const audioProviders = (tts: TtsProvider = createToneTts()): AudioProviders => ({
  stt: null,
  tts,
  localTts: tts,
});

function run(
  codec: CallCodec,
  deps: Partial<CallRunDeps> & Pick<CallRunDeps, 'startSession'>,
): FakeCallSocket {
  const fake = createFakeCallSocket();
  runCall(fake.socket, codec, { logger, audio: null, ...deps });
  return fake;
}

/** A TTS whose every turn fails, with no audible fallback: the call's voice is gone. */
const brokenTts: TtsProvider = {
  name: 'broken',
  audible: false,
  connect: () => ({
    startTurn: (_id, h) => ({
      push: () => queueMicrotask(() => h.onError(new ProviderError('tts', 'broken', 'down', false))),
      end: () => {},
      cancel: () => {},
    }),
    close: () => {},
  }),
};

describe('the call orchestration', () => {
  it('delivers the DTMF and caller speech that arrive before the session exists, once it starts', async () => {
    const s = fakeSessions({ hold: true });
    const fake = run(createTwilioCodec(), { startSession: s.startSession, audio: audioProviders() });
    fake.receiveText(twilioStart());
    const speech = concat(silencePcm(200), sine(300, 400, -20), silencePcm(800));
    for (const { frame } of toFrames(speech))
      fake.receiveText({ event: 'media', streamSid: STREAM_SID, media: { payload: b64(frame) } });
    fake.receiveText({ event: 'dtmf', streamSid: STREAM_SID, dtmf: { digit: '1' } });
    await flush();
    expect(s.started[0]!.events).toEqual([]);

    s.release();
    await flush();
    expect(s.started[0]!.hooks).toEqual(['userStarted', 'userStopped']);
    expect(s.started[0]!.events).toEqual([{ type: 'dtmf.received', digit: '1' }]);
  });

  it('starts a Twilio session at start with the validated sids and the custom parameters', async () => {
    const s = fakeSessions();
    const fake = run(createTwilioCodec(), { startSession: s.startSession });
    fake.receiveText({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    expect(s.started).toHaveLength(0);
    fake.receiveText(twilioStart());
    expect(s.started[0]!.opts).toEqual({
      callSid: CALL_SID,
      streamSid: STREAM_SID,
      from: '+15551234567',
      to: '+15557654321',
      customParameters: { from: '+15551234567', to: '+15557654321' },
      // Chosen by the transport, so its own log lines for the call carry it too.
      conversationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(s.started[0]!.transport.channel).toBe('phone');
  });

  it.each([
    ['Twilio', createTwilioCodec],
    ['the browser', createBrowserTextCodec],
  ] as const)(
    'closes %s with 1008 after MAX_BAD_MESSAGES bad messages and ends its session as too_many_invalid_messages',
    async (_name, codec) => {
      const s = fakeSessions();
      const fake = run(codec(), { startSession: s.startSession });
      fake.receiveText(twilioStart()); // the browser refuses it as unsupported: one more bad message
      await flush();
      for (let i = 0; fake.closedWith === null && i < 100; i++) fake.receiveText('{"event":');
      expect(fake.closedWith).toEqual({ code: 1008, reason: 'too many invalid messages' });
      expect(s.started[0]!.stops[0]).toBe('too_many_invalid_messages');
    },
  );

  it('counts exactly MAX_BAD_MESSAGES refusals before the close, each answered on the browser', async () => {
    const s = fakeSessions();
    const fake = run(createBrowserTextCodec(), { startSession: s.startSession });
    await flush();
    for (let i = 0; i < MAX_BAD_MESSAGES - 1; i++) fake.receiveText(`not json ${i}`);
    expect(fake.closedWith).toBeNull();
    fake.receiveText('not json, the last straw');
    expect(fake.closedWith?.code).toBe(1008);
    expect(fake.json().filter((f) => f.event === 'error')).toHaveLength(MAX_BAD_MESSAGES);
  });

  it('answers nothing to Twilio garbage and refuses oversized and binary frames', async () => {
    const s = fakeSessions();
    const fake = run(createTwilioCodec(), { startSession: s.startSession });
    fake.receiveText('x'.repeat(40_000));
    fake.receiveBinary(new Uint8Array([1, 2, 3]));
    fake.receiveText({ event: 'media', streamSid: STREAM_SID, media: { payload: 'AAAA' } });
    expect(fake.sent).toEqual([]);
    expect(fake.closedWith).toBeNull();
    expect(s.started).toHaveLength(0);
  });

  it('counts a codec that throws as one bad message and goes on', async () => {
    const s = fakeSessions();
    const throwing: CallCodec = {
      ...createBrowserTextCodec(),
      decode: () => {
        throw new Error('bug');
      },
    };
    const fake = run(throwing, { startSession: s.startSession });
    fake.receiveText('{}');
    expect(fake.json()).toContainEqual({ event: 'error', message: 'handler error: bug' });
    expect(fake.closedWith).toBeNull();
  });

  it('stops a session that starts after the socket closed, as caller_hung_up', async () => {
    const s = fakeSessions({ hold: true });
    const fake = run(createBrowserTextCodec(), { startSession: s.startSession });
    fake.receiveText({ event: 'text', text: 'hello' });
    fake.hangUp(1001);
    s.release();
    await flush();
    expect(s.started[0]!.stops).toEqual(['caller_hung_up']);
    expect(s.started[0]!.events).toEqual([]);
  });

  it('keeps at most MAX_EARLY_EVENTS events while the session starts', async () => {
    const s = fakeSessions({ hold: true });
    const fake = run(createBrowserTextCodec(), { startSession: s.startSession });
    for (let i = 0; i < MAX_EARLY_EVENTS + 10; i++) fake.receiveText({ event: 'dtmf', digit: '1' });
    s.release();
    await flush();
    expect(s.started[0]!.events).toHaveLength(MAX_EARLY_EVENTS);
  });

  it('refuses a stream with no slot at start with 1013, starts no session and reads nothing more', async () => {
    const s = fakeSessions();
    const fake = run(createTwilioCodec(), { startSession: s.startSession, admit: () => null });
    fake.receiveText(twilioStart());
    expect(fake.closedWith).toEqual({ code: 1013, reason: 'at capacity' });
    expect(s.started).toHaveLength(0);
  });

  it('closes a Twilio socket that never sends start, and keeps one that did', () => {
    jest.useFakeTimers();
    try {
      const s = fakeSessions();
      const silent = run(createTwilioCodec(), { startSession: s.startSession, startTimeoutMs: 1000 });
      const started = run(createTwilioCodec(), { startSession: s.startSession, startTimeoutMs: 1000 });
      started.receiveText(twilioStart());
      jest.advanceTimersByTime(1000);
      expect(silent.closedWith).toEqual({ code: 1008, reason: 'no start message' });
      expect(started.closedWith).toBeNull();
      expect(s.started).toHaveLength(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('releases the admitted slot when the socket closes', async () => {
    const s = fakeSessions();
    let released = 0;
    const admitted: string[] = [];
    const fake = run(createTwilioCodec(), {
      startSession: s.startSession,
      admit: (sid) => {
        admitted.push(sid);
        return { release: () => (released += 1) };
      },
    });
    fake.receiveText(twilioStart());
    await flush();
    fake.hangUp();
    expect(admitted).toEqual([CALL_SID]);
    expect(released).toBe(1);
    expect(s.started[0]!.stops).toEqual(['caller_hung_up']);
  });

  it("forwards the browser's typed turns and digits, answers ping, and ends the call on hangup", async () => {
    const s = fakeSessions();
    const fake = run(createBrowserTextCodec(), { startSession: s.startSession });
    await flush();
    fake.receiveText({ event: 'text', text: ' got it ' });
    fake.receiveText({ event: 'dtmf', digit: '#' });
    fake.receiveText({ event: 'ping' });
    fake.receiveText({ event: 'hangup' });
    expect(s.started[0]!.events).toEqual([
      { type: 'user.text.received', text: 'got it' },
      { type: 'dtmf.received', digit: '#' },
    ]);
    expect(fake.json()).toEqual([{ event: 'pong' }]);
    expect(s.started[0]!.stops).toEqual(['caller_hung_up']);
    expect(fake.closedWith).toEqual({ code: 1000, reason: 'bye' });
  });

  it('sends Twilio clear for its stream on barge-in', async () => {
    const s = fakeSessions();
    const fake = run(createTwilioCodec(), { startSession: s.startSession, audio: audioProviders() });
    fake.receiveText(twilioStart());
    s.started[0]!.speech.interrupt();
    expect(fake.json()).toEqual([{ event: 'clear', streamSid: STREAM_SID }]);
  });

  it('sends bot audio and a mark after each chunk, and feeds echoed marks back to the speaker', async () => {
    const s = fakeSessions();
    const fake = run(createBrowserAudioCodec(), { startSession: s.startSession, audio: audioProviders() });
    await flush();
    const turn = s.started[0]!.speech.speaker.startTurn(1, { onFirstAudio: () => {} });
    turn.push('Hello.');
    turn.end();
    await flush();
    const marks = fake.json().filter((f) => f.event === 'mark');
    expect(marks.length).toBeGreaterThan(0);
    expect(fake.sent.some((f) => f instanceof Uint8Array)).toBe(true);
    for (const m of marks) fake.receiveText({ event: 'mark', name: m.name as string });
    await expect(turn.done).resolves.toMatchObject({ spokenText: 'Hello.', interrupted: false });
  });

  it('hangs up the phone through the carrier, then closes the stream', async () => {
    const s = fakeSessions();
    const calls: string[] = [];
    const carrier: CarrierCall = {
      hangUp: async (reason, call) => void calls.push(`hangUp ${reason} ${call.callSid} ${call.claimId}`),
      apologize: async () => void calls.push('apologize'),
    };
    const fake = run(createTwilioCodec(), { startSession: s.startSession, carrier });
    fake.receiveText(twilioStart());
    await flush();
    await s.started[0]!.transport.hangUp('completed');
    expect(calls).toEqual([`hangUp completed ${CALL_SID} CLM-1`]);
    expect(fake.closedWith).toEqual({ code: 1000, reason: 'call ended' });
  });

  it('tells the browser hangup, and closes only once session.ended was sent', async () => {
    const s = fakeSessions();
    const fake = run(createBrowserTextCodec(), { startSession: s.startSession });
    await flush();
    const t = s.started[0]!.transport;
    await t.hangUp('completed');
    expect(fake.closedWith).toBeNull();
    t.notify({ type: 'session.ended', reason: 'completed' });
    expect(fake.json()).toEqual([
      { event: 'hangup', reason: 'completed' },
      { event: 'session.ended', reason: 'completed' },
    ]);
    expect(fake.closedWith).toEqual({ code: 1000, reason: 'call ended' });
  });

  it('ends a phone call whose voice is gone with the carrier apology, as tts_failed', async () => {
    const s = fakeSessions();
    const calls: string[] = [];
    const carrier: CarrierCall = {
      hangUp: async () => void calls.push('hangUp'),
      apologize: async () => void calls.push('apologize'),
    };
    const fake = run(createTwilioCodec(), {
      startSession: s.startSession,
      carrier,
      audio: { stt: null, tts: brokenTts, localTts: brokenTts },
    });
    fake.receiveText(twilioStart());
    await flush();
    s.started[0]!.speech.speaker.startTurn(1, { onFirstAudio: () => {} }).push('Hello.');
    await flush();
    expect(s.started[0]!.stops).toEqual(['tts_failed']);
    expect(calls).toEqual(['apologize']);
    expect(fake.closedWith).toEqual({ code: 1000, reason: 'speech unavailable' });
  });

  it('tells a browser whose voice is gone that the bot answers in text, and keeps the call', async () => {
    const s = fakeSessions();
    const fake = run(createBrowserAudioCodec(), {
      startSession: s.startSession,
      audio: { stt: null, tts: brokenTts, localTts: brokenTts },
    });
    await flush();
    s.started[0]!.speech.speaker.startTurn(1, { onFirstAudio: () => {} }).push('Hello.');
    await flush();
    expect(fake.json()).toContainEqual({
      event: 'error',
      message: 'speech synthesis is unavailable: the bot answers in text only',
    });
    expect(s.started[0]!.stops).toEqual([]);
    expect(fake.closedWith).toBeNull();
  });

  it('reports a session that could not start and closes with 1011', async () => {
    const fake = run(createBrowserTextCodec(), {
      startSession: () => Promise.reject(new Error('no database')),
    });
    await flush();
    expect(fake.json()).toEqual([{ event: 'error', message: 'could not start a session' }]);
    expect(fake.closedWith).toEqual({ code: 1011, reason: 'session start failed' });
  });
});
