/**
 * The `/client/stream` codecs on their own (browser text and browser audio): JSON control frames
 * and binary audio in, transport events out; commands in, frames out. No socket, no session.
 */
import {
  createBrowserAudioCodec,
  createBrowserTextCodec,
} from '../../src/transports/browser/browser-codec.js';
import type { CallCodec, Decoded } from '../../src/transports/codec.js';

const text = (codec: CallCodec, m: unknown): Decoded =>
  codec.decode({
    binary: false,
    data: new TextEncoder().encode(typeof m === 'string' ? m : JSON.stringify(m)),
  });
const frame = (f: string | Uint8Array | null) => (typeof f === 'string' ? JSON.parse(f) : f);

describe.each([
  ['browser text', createBrowserTextCodec],
  ['browser audio', createBrowserAudioCodec],
])('the %s codec', (_name, create) => {
  const codec = create();

  it('decodes typed turns, digits, marks, ping and hangup', () => {
    expect(text(codec, { event: 'text', text: ' hello ' })).toEqual({
      kind: 'event',
      event: { type: 'text.received', text: 'hello' },
    });
    expect(text(codec, { event: 'dtmf', digit: '*' })).toEqual({
      kind: 'event',
      event: { type: 'dtmf.received', digit: '*' },
    });
    expect(text(codec, { event: 'mark', name: 'm1' })).toEqual({
      kind: 'event',
      event: { type: 'mark.received', name: 'm1' },
    });
    expect(text(codec, { event: 'ping' })).toEqual({ kind: 'event', event: { type: 'ping.received' } });
    expect(text(codec, { event: 'hangup' })).toEqual({
      kind: 'event',
      event: { type: 'caller.hung_up', closeReason: 'bye' },
    });
  });

  it('refuses invalid JSON and unsupported or malformed messages with a reason the client is shown', () => {
    expect(text(codec, '{"event":"text",')).toEqual({ kind: 'bad', reason: 'invalid JSON' });
    for (const m of [{ event: 'teleport' }, { event: 'text', text: '   ' }, { event: 'dtmf', digit: '12' }])
      expect(text(codec, m)).toMatchObject({
        kind: 'bad',
        reason: expect.stringMatching(/^unsupported message/),
      });
  });

  it('encodes notices as frames named by their type, a state change carrying its event as eventType', () => {
    expect(
      frame(
        codec.encode({
          type: 'tell',
          notice: { type: 'state.changed', actor: 'call', value: 'active', event: 'x' },
        }),
      ),
    ).toEqual({ event: 'state.changed', actor: 'call', value: 'active', eventType: 'x' });
    expect(frame(codec.encode({ type: 'tell', notice: { type: 'bot.text', turn: 1, text: 'Hi' } }))).toEqual({
      event: 'bot.text',
      turn: 1,
      text: 'Hi',
    });
  });

  it('encodes clear, hangup, error and pong as JSON frames', () => {
    expect(frame(codec.encode({ type: 'clear' }))).toEqual({ event: 'clear' });
    expect(frame(codec.encode({ type: 'hang_up', reason: 'completed' }))).toEqual({
      event: 'hangup',
      reason: 'completed',
    });
    expect(frame(codec.encode({ type: 'report.error', message: 'nope' }))).toEqual({
      event: 'error',
      message: 'nope',
    });
    expect(frame(codec.encode({ type: 'pong' }))).toEqual({ event: 'pong' });
  });
});

describe('browser audio vs text', () => {
  it('takes binary frames as caller audio in audio mode and sends bot audio as binary with JSON marks', () => {
    const codec = createBrowserAudioCodec();
    const bytes = new Uint8Array([0xff, 0x7f]);
    expect(codec.decode({ binary: true, data: bytes })).toEqual({
      kind: 'event',
      event: { type: 'audio.received', mulaw: bytes },
    });
    expect(codec.encode({ type: 'send.audio', mulaw: bytes })).toBe(bytes);
    expect(frame(codec.encode({ type: 'send.mark', name: 'm1' }))).toEqual({ event: 'mark', name: 'm1' });
  });

  it('refuses binary frames in text mode and has no frame for audio or marks', () => {
    const codec = createBrowserTextCodec();
    expect(codec.decode({ binary: true, data: new Uint8Array([1, 2, 3]) })).toEqual({
      kind: 'bad',
      reason: 'binary frames are not accepted (connect with ?audio=1 to send audio)',
    });
    expect(codec.encode({ type: 'send.audio', mulaw: new Uint8Array([1]) })).toBeNull();
    expect(codec.encode({ type: 'send.mark', name: 'm1' })).toBeNull();
  });
});
