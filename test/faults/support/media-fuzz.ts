/**
 * A Media Streams fuzzer: mutated Twilio messages (PROTOCOLS.md §1) from a seeded PRNG, so a failing
 * run can be repeated with the same `seed`. Each socket gets its own plausible stream (`connected`,
 * often a valid `start`), then a mix of valid frames and mutations: truncated JSON, wrong types,
 * huge strings, unknown events (`constructor`, `__proto__`...), `__proto__` keys, NUL and lone
 * surrogates in sids and parameters, bad base64, binary frames, out-of-order start/stop, wrong
 * streamSid, non-object JSON and deep nesting.
 */
import { randomBytes } from 'node:crypto';

/** One message to send. */
export interface FuzzMessage {
  kind: string;
  data: string | Buffer;
  binary: boolean;
}

/** mulberry32: small, fast, good enough to pick mutations reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UNKNOWN_EVENTS = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'then',
  'prototype',
  'isPrototypeOf',
  'clear',
  'Media',
  '',
  'media ',
  'closed',
];
const WEIRD = [
  '\u0000',
  '\ud800',
  '\udfff',
  'a\u0000b',
  '\ud83d',
  '\u0000'.repeat(40),
  'CA\ud800'.padEnd(34, 'f'),
];
const WRONG_TYPES: unknown[] = [null, 42, -1, 1e308, true, [], [1, 2], {}, { a: 1 }, '', 'x'.repeat(70)];

const hex32 = () => randomBytes(16).toString('hex');

/** The state of one fuzzed stream: which sids it announced, whether it started or stopped. */
export class FuzzStream {
  readonly callSid = `CA${hex32()}`;
  readonly streamSid = `MZ${hex32()}`;
  private seq = 0;
  private chunk = 0;
  started = false;
  stopped = false;

  constructor(private readonly rnd: () => number) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  private nextSeq(): string {
    return String(++this.seq);
  }

  connected(): FuzzMessage {
    return {
      kind: 'valid connected',
      data: JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }),
      binary: false,
    };
  }

  startMessage(over: { callSid?: string; streamSid?: string; params?: Record<string, string> } = {}) {
    const streamSid = over.streamSid ?? this.streamSid;
    return {
      event: 'start',
      sequenceNumber: this.nextSeq(),
      streamSid,
      start: {
        accountSid: `AC${'a'.repeat(32)}`,
        streamSid,
        callSid: over.callSid ?? this.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: over.params ?? { from: '+15550001111', to: '+15550002222', callSid: this.callSid },
      },
    };
  }

  start(): FuzzMessage {
    this.started = true;
    return { kind: 'valid start', data: JSON.stringify(this.startMessage()), binary: false };
  }

  private media(payload?: string, streamSid = this.streamSid) {
    this.chunk++;
    return {
      event: 'media',
      sequenceNumber: this.nextSeq(),
      streamSid,
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String(this.chunk * 20),
        payload:
          payload ?? (this.rnd() < 0.5 ? Buffer.alloc(160, 0xff) : randomBytes(160)).toString('base64'),
      },
    };
  }

  private template(): Record<string, unknown> {
    const r = this.rnd();
    if (r < 0.55) return this.media();
    if (r < 0.7)
      return {
        event: 'dtmf',
        sequenceNumber: this.nextSeq(),
        streamSid: this.streamSid,
        dtmf: { track: 'inbound_track', digit: this.pick(['1', '2', '#', '*', '0']) },
      };
    if (r < 0.85)
      return {
        event: 'mark',
        sequenceNumber: this.nextSeq(),
        streamSid: this.streamSid,
        mark: { name: `m${this.seq}` },
      };
    if (r < 0.95) return this.startMessage();
    return {
      event: 'stop',
      sequenceNumber: this.nextSeq(),
      streamSid: this.streamSid,
      stop: { accountSid: `AC${'a'.repeat(32)}`, callSid: this.callSid },
    };
  }

  /** Sets a random (possibly nested) field of `msg` to `value`. */
  private mutateField(msg: Record<string, unknown>, value: unknown): Record<string, unknown> {
    const paths: string[][] = [];
    const walk = (o: Record<string, unknown>, at: string[]) => {
      for (const [k, v] of Object.entries(o)) {
        paths.push([...at, k]);
        if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, [...at, k]);
      }
    };
    walk(msg, []);
    const p = this.pick(paths);
    let o = msg;
    for (const k of p.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[p.at(-1)!] = value;
    return msg;
  }

  /** The next message of this stream. */
  next(): FuzzMessage {
    const r = this.rnd();
    const text = (kind: string, v: unknown): FuzzMessage => ({
      kind,
      data: JSON.stringify(v),
      binary: false,
    });
    if (r < 0.3) return text('valid frame', this.template());
    if (r < 0.38) {
      const s = JSON.stringify(this.template());
      return { kind: 'truncated JSON', data: s.slice(0, Math.floor(this.rnd() * s.length)), binary: false };
    }
    if (r < 0.46) return text('wrong type', this.mutateField(this.template(), this.pick(WRONG_TYPES)));
    if (r < 0.49) {
      const size = this.rnd() < 0.5 ? 20_000 : 40_000;
      return text('huge string', this.mutateField(this.template(), 'A'.repeat(size)));
    }
    if (r < 0.55) {
      const event = this.pick(UNKNOWN_EVENTS);
      return text('unknown event', { ...this.template(), event });
    }
    if (r < 0.59) {
      // `__proto__` as an own JSON key survives JSON.parse: a merge that trusts it pollutes prototypes.
      const base = JSON.stringify(this.rnd() < 0.5 ? this.startMessage() : this.media());
      const injected =
        this.rnd() < 0.5
          ? base.replace('{', '{"__proto__":{"polluted":true,"event":"stop"},')
          : base.replace('"streamSid"', '"constructor":{"prototype":{"polluted":true}},"streamSid"');
      return { kind: '__proto__ key', data: injected, binary: false };
    }
    if (r < 0.67) {
      const weird = this.pick(WEIRD);
      const which = this.rnd();
      const msg =
        which < 0.3
          ? this.startMessage({ callSid: weird })
          : which < 0.5
            ? this.startMessage({ streamSid: weird })
            : which < 0.75
              ? this.startMessage({ params: { from: weird, to: `+1555${weird}`, [weird]: 'x' } })
              : this.media(undefined, weird);
      return text('NUL / lone surrogate', msg);
    }
    if (r < 0.72) {
      const payload = this.pick([
        '!!!!',
        'abc',
        '====',
        'AAAA=AAA',
        '\u0000\u0000\u0000\u0000',
        'ÿÿÿÿ',
        'A'.repeat(16_385),
        '-_-!',
      ]);
      return text('bad base64', this.media(payload));
    }
    if (r < 0.77) {
      const big = this.rnd() < 0.02;
      return {
        kind: 'binary frame',
        data: randomBytes(big ? 300_000 : Math.floor(this.rnd() * 400)),
        binary: true,
      };
    }
    if (r < 0.83) {
      const kind = 'out-of-order start/stop';
      const pick = this.rnd();
      if (pick < 0.35) return text(kind, this.startMessage({ callSid: `CA${hex32()}` })); // a second start
      if (pick < 0.6) {
        this.stopped = true;
        return text(kind, { event: 'stop', sequenceNumber: this.nextSeq(), streamSid: this.streamSid });
      }
      return text(kind, { event: 'stop', streamSid: `MZ${hex32()}` }); // stop of another stream
    }
    if (r < 0.9) return text('wrong streamSid', { ...this.template(), streamSid: `MZ${hex32()}` });
    const junk = this.pick([
      'null',
      '[]',
      '42',
      '"media"',
      'true',
      '{}',
      '{"event":null}',
      '{"event":{"toString":1}}',
      `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
      `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
      '\u0000',
      '\ufeff{"event":"connected"}',
    ]);
    return { kind: 'non-object / nesting', data: junk, binary: false };
  }
}
