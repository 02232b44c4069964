/**
 * The Media Streams parser on its own: event names that are members of Object.prototype are
 * ordinary unknown events; `start` identifiers must have Twilio's formats and custom parameters
 * that are not clean text are dropped; the hand-written `media` fast path agrees with its zod
 * schema on every mutation tried.
 */
import { randomBytes } from 'node:crypto';
import {
  markSchema,
  mediaSchema,
  parseMarkFast,
  parseMediaFast,
  parseTwilioMessage,
  type ParsedInbound,
} from '../../src/transports/twilio/media-messages.js';

const hex32 = () => randomBytes(16).toString('hex');

function startMessage(
  over: { callSid?: unknown; streamSid?: unknown; accountSid?: unknown; params?: unknown } = {},
) {
  const streamSid = over.streamSid ?? `MZ${hex32()}`;
  return JSON.stringify({
    event: 'start',
    sequenceNumber: '1',
    streamSid,
    start: {
      accountSid: over.accountSid ?? `AC${hex32()}`,
      streamSid,
      callSid: over.callSid ?? `CA${hex32()}`,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: over.params ?? { from: '+15551234567' },
    },
  });
}

/** A hand-written parser accepts, refuses and keeps exactly what its zod schema does, on every case. */
function expectSameAsZod(
  cases: Record<string, unknown>[],
  fast: (d: Record<string, unknown>) => ParsedInbound,
  schema: { safeParse(d: unknown): { success: true; data: unknown } | { success: false } },
) {
  for (const c of cases) {
    const clean = JSON.parse(JSON.stringify(c)) as Record<string, unknown>;
    const parsed = fast(clean);
    const zod = schema.safeParse(clean);
    expect({ case: clean, ok: parsed.kind === 'ok' }).toEqual({ case: clean, ok: zod.success });
    if (parsed.kind === 'ok' && zod.success) expect(parsed.message).toEqual(zod.data);
  }
}

describe('the Media Streams parser', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
    'ignores an event named %s like any unknown event',
    (event) => {
      expect(parseTwilioMessage(JSON.stringify({ event, streamSid: 'MZ1' }))).toEqual({
        kind: 'ignored',
        event,
      });
    },
  );

  it("accepts a start with Twilio's identifiers, in lower or upper case hex", () => {
    expect(parseTwilioMessage(startMessage()).kind).toBe('ok');
    const upper = `CA${hex32().toUpperCase()}`;
    expect(parseTwilioMessage(startMessage({ callSid: upper }))).toMatchObject({
      kind: 'ok',
      message: {
        start: { callSid: upper, customParameters: { from: '+15551234567' }, droppedParameters: 0 },
      },
    });
  });

  it.each([
    ['a short callSid', { callSid: 'CA123' }],
    ['a callSid with a NUL', { callSid: `CA${hex32().slice(0, 31)}\u0000` }],
    ['a callSid with a lone surrogate', { callSid: `CA${hex32().slice(0, 31)}\uD800` }],
    ['a callSid of another kind', { callSid: `MZ${hex32()}` }],
    ['a callSid that is not hex', { callSid: `CA${'g'.repeat(32)}` }],
    ['a streamSid that is not MZ + 32 hex', { streamSid: 'MZraw' }],
    ['an accountSid that is not AC + 32 hex', { accountSid: 'ACme' }],
  ])('refuses a start with %s', (_what, over) => {
    expect(parseTwilioMessage(startMessage(over))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/^bad start/),
    });
  });

  it('drops custom parameters that are not clean text and keeps the call going', () => {
    const params = {
      from: '+15551234567',
      to: '+1555\u00007654321',
      note: 'half a pair \uDC00',
      emoji: 'fine 😀',
      nested: { a: 1 },
      long: 'x'.repeat(513),
      ['bad\u0000name']: 'v',
    };
    const r = parseTwilioMessage(startMessage({ params }));
    expect(r).toMatchObject({
      kind: 'ok',
      message: {
        start: { customParameters: { from: '+15551234567', emoji: 'fine 😀' }, droppedParameters: 5 },
      },
    });
    if (r.kind === 'ok' && r.message.event === 'start')
      expect(Object.keys(r.message.start.customParameters).sort()).toEqual(['emoji', 'from']);
  });

  it('never lets a __proto__ parameter change the parameters object', () => {
    const r = parseTwilioMessage(
      startMessage({ params: JSON.parse('{"__proto__": {"polluted": "yes"}, "from": "+1"}') }),
    );
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok' && r.message.event === 'start') {
      expect(Object.getPrototypeOf(r.message.start.customParameters)).toBe(Object.prototype);
      expect((r.message.start.customParameters as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('parses media on the fast path exactly as its zod schema does', () => {
    const values: unknown[] = [undefined, null, 0, 12, '', '12', '1a', 'x'.repeat(70), [], {}, true];
    const base = {
      event: 'media',
      sequenceNumber: '4',
      streamSid: `MZ${hex32()}`,
      media: { track: 'inbound', chunk: '2', timestamp: '5', payload: 'AAAA', extra: 1 },
      extra: 'dropped',
    };
    const cases: Record<string, unknown>[] = [base];
    for (const key of ['sequenceNumber', 'streamSid', 'media'] as const)
      for (const v of values) cases.push({ ...base, [key]: v });
    for (const key of ['track', 'chunk', 'timestamp', 'payload'] as const)
      for (const v of [...values, 'x'.repeat(16_385)])
        cases.push({ ...base, media: { ...base.media, [key]: v } });
    expectSameAsZod(cases, parseMediaFast, mediaSchema);
  });

  it('parses marks on the fast path exactly as their zod schema does', () => {
    const values: unknown[] = [
      undefined,
      null,
      0,
      12,
      '',
      '12',
      '1a',
      'x'.repeat(70),
      'x'.repeat(129),
      [],
      {},
      true,
    ];
    const base = {
      event: 'mark',
      sequenceNumber: '9',
      streamSid: `MZ${hex32()}`,
      mark: { name: 't3-c2', extra: 1 },
      extra: 'x',
    };
    const cases: Record<string, unknown>[] = [base];
    for (const key of ['sequenceNumber', 'streamSid', 'mark'] as const)
      for (const v of values) cases.push({ ...base, [key]: v });
    for (const v of [...values, 'x'.repeat(128)]) cases.push({ ...base, mark: { name: v } });
    expectSameAsZod(cases, parseMarkFast, markSchema);
  });
});
