/**
 * The Twilio Media Streams codec on its own: frames in, transport events out; commands in,
 * frames for the stream's streamSid out. No socket, no session.
 */
import { createTwilioCodec } from '../../src/transports/twilio/twilio-codec.js';
import type { CallCodec, Decoded } from '../../src/transports/codec.js';

const CALL_SID = `CA${'1'.repeat(32)}`;
const STREAM_SID = `MZ${'2'.repeat(32)}`;
const text = (codec: CallCodec, m: unknown): Decoded =>
  codec.decode({
    binary: false,
    data: new TextEncoder().encode(typeof m === 'string' ? m : JSON.stringify(m)),
  });
const start = (codec: CallCodec, customParameters: Record<string, unknown> = { from: '+15550001111' }) =>
  text(codec, { event: 'start', streamSid: STREAM_SID, start: { callSid: CALL_SID, customParameters } });
const media = (payload: string, streamSid = STREAM_SID, track?: string) => ({
  event: 'media',
  streamSid,
  media: { payload, ...(track ? { track } : {}) },
});

describe('the Twilio codec', () => {
  it('turns a valid start into stream.started with its sids and clean parameters, counting dropped ones', () => {
    const codec = createTwilioCodec();
    expect(start(codec, { from: '+15550001111', note: 'bad\u0000' })).toEqual({
      kind: 'event',
      event: {
        type: 'stream.started',
        callSid: CALL_SID,
        streamSid: STREAM_SID,
        parameters: { from: '+15550001111' },
        droppedParameters: 1,
      },
    });
  });

  it('refuses a start whose callSid is not Twilio-shaped, and then still accepts a valid one', () => {
    const codec = createTwilioCodec();
    const badStart = text(codec, { event: 'start', streamSid: STREAM_SID, start: { callSid: 'CA1\u0000' } });
    expect(badStart.kind).toBe('bad');
    expect(start(codec).kind).toBe('event');
  });

  it('treats media, marks and digits before start, a second start and a wrong streamSid as bad', () => {
    const codec = createTwilioCodec();
    expect(text(codec, media('AAAA'))).toEqual({ kind: 'bad', reason: 'media before start' });
    start(codec);
    expect(start(codec)).toEqual({ kind: 'bad', reason: 'second start' });
    expect(text(codec, media('AAAA', `MZ${'3'.repeat(32)}`))).toEqual({
      kind: 'bad',
      reason: 'wrong streamSid',
    });
    expect(text(codec, media('!!not base64!!'))).toEqual({ kind: 'bad', reason: 'bad base64 payload' });
    expect(codec.decode({ binary: true, data: new Uint8Array([1]) })).toEqual({
      kind: 'bad',
      reason: 'binary frame',
    });
    expect(text(codec, 'not json')).toEqual({ kind: 'bad', reason: 'invalid JSON' });
  });

  it('decodes inbound media, marks, digits and stop; ignores connected, outbound audio and unknown events', () => {
    const codec = createTwilioCodec();
    expect(text(codec, { event: 'connected', protocol: 'Call' })).toEqual({ kind: 'none' });
    start(codec);
    expect(text(codec, media('/38='))).toEqual({
      kind: 'event',
      event: { type: 'audio.received', mulaw: Buffer.from([0xff, 0x7f]) },
    });
    expect(text(codec, media('/38=', STREAM_SID, 'outbound'))).toEqual({ kind: 'none' });
    expect(text(codec, { event: 'mark', streamSid: STREAM_SID, mark: { name: 't1-0' } })).toEqual({
      kind: 'event',
      event: { type: 'mark.received', name: 't1-0' },
    });
    expect(text(codec, { event: 'dtmf', streamSid: STREAM_SID, dtmf: { digit: '#' } })).toEqual({
      kind: 'event',
      event: { type: 'dtmf.received', digit: '#' },
    });
    expect(text(codec, { event: 'stop', streamSid: STREAM_SID })).toEqual({
      kind: 'event',
      event: { type: 'caller.hung_up', closeReason: 'stopped' },
    });
    expect(text(codec, { event: 'something-new', streamSid: STREAM_SID })).toEqual({
      kind: 'ignored',
      what: 'something-new',
    });
  });

  it('encodes audio as base64 media, marks and clear for its streamSid, and nothing before start', () => {
    const codec = createTwilioCodec();
    expect(codec.encode({ type: 'clear' })).toBeNull();
    start(codec);
    expect(
      JSON.parse(codec.encode({ type: 'send.audio', mulaw: new Uint8Array([0xff, 0x7f]) }) as string),
    ).toEqual({
      event: 'media',
      streamSid: STREAM_SID,
      media: { payload: '/38=' },
    });
    expect(JSON.parse(codec.encode({ type: 'send.mark', name: 't1-0' }) as string)).toEqual({
      event: 'mark',
      streamSid: STREAM_SID,
      mark: { name: 't1-0' },
    });
    expect(JSON.parse(codec.encode({ type: 'clear' }) as string)).toEqual({
      event: 'clear',
      streamSid: STREAM_SID,
    });
  });

  it('has no frame for notices, errors, hang-ups or pong (Twilio is answered by nothing)', () => {
    const codec = createTwilioCodec();
    start(codec);
    expect(codec.encode({ type: 'tell', notice: { type: 'session.ended', reason: 'completed' } })).toBeNull();
    expect(codec.encode({ type: 'report.error', message: 'invalid JSON' })).toBeNull();
    expect(codec.encode({ type: 'hang_up', reason: 'completed' })).toBeNull();
    expect(codec.encode({ type: 'pong' })).toBeNull();
  });
});
