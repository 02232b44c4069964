/**
 * Twilio Media Streams messages (PROTOCOLS.md §1), validated with zod at the edge.
 * Inbound: connected, start, media, dtmf, mark, stop. Unknown events are ignored on purpose;
 * malformed ones are reported so the session can count and log them.
 */
import { z } from 'zod';

const numericString = z.string().regex(/^\d+$/);

const connected = z.object({
  event: z.literal('connected'),
  protocol: z.string().optional(),
  version: z.string().optional(),
});
const start = z.object({
  event: z.literal('start'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1).max(64),
  start: z.object({
    accountSid: z.string().max(64).optional(),
    streamSid: z.string().max(64).optional(),
    callSid: z.string().min(1).max(64),
    tracks: z.array(z.string()).optional(),
    mediaFormat: z.object({ encoding: z.string(), sampleRate: z.number(), channels: z.number() }).optional(),
    customParameters: z.record(z.string(), z.string().max(512)).optional(),
  }),
});
const media = z.object({
  event: z.literal('media'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1).max(64),
  media: z.object({
    track: z.string().optional(),
    chunk: numericString.optional(),
    timestamp: numericString.optional(),
    payload: z.string().max(16_384),
  }),
});
const dtmf = z.object({
  event: z.literal('dtmf'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1).max(64),
  dtmf: z.object({ track: z.string().optional(), digit: z.string().regex(/^[0-9*#A-D]$/) }),
});
const mark = z.object({
  event: z.literal('mark'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1).max(64),
  mark: z.object({ name: z.string().min(1).max(128) }),
});
const stop = z.object({
  event: z.literal('stop'),
  sequenceNumber: numericString.optional(),
  streamSid: z.string().min(1).max(64),
  stop: z.object({ accountSid: z.string().optional(), callSid: z.string().optional() }).optional(),
});

/** A Map, not an object: an event named `constructor` or `__proto__` must not find a prototype member. */
const KNOWN = new Map<string, z.ZodType>([
  ['connected', connected],
  ['start', start],
  ['media', media],
  ['dtmf', dtmf],
  ['mark', mark],
  ['stop', stop],
]);

/** A validated inbound message. */
export type TwilioInbound =
  | z.infer<typeof connected>
  | z.infer<typeof start>
  | z.infer<typeof media>
  | z.infer<typeof dtmf>
  | z.infer<typeof mark>
  | z.infer<typeof stop>;

/** Result of parsing one text frame. */
export type ParsedInbound =
  | { kind: 'ok'; message: TwilioInbound }
  | { kind: 'ignored'; event: string }
  | { kind: 'invalid'; reason: string };

/** Largest text frame accepted (a 20 ms media frame is ~350 bytes; Twilio never sends large ones). */
export const MAX_TWILIO_FRAME_BYTES = 32 * 1024;

/** Parses and validates one inbound text frame. Never throws. */
export function parseTwilioMessage(raw: string): ParsedInbound {
  if (raw.length > MAX_TWILIO_FRAME_BYTES) return { kind: 'invalid', reason: 'frame too large' };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { kind: 'invalid', reason: 'invalid JSON' };
  }
  if (!data || typeof data !== 'object' || typeof (data as { event?: unknown }).event !== 'string') {
    return { kind: 'invalid', reason: 'missing event' };
  }
  const event = (data as { event: string }).event;
  const schema = KNOWN.get(event);
  if (!schema) return { kind: 'ignored', event };
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { kind: 'invalid', reason: `bad ${event}: ${i ? `${i.path.join('.')} ${i.message}` : 'invalid'}` };
  }
  return { kind: 'ok', message: parsed.data as TwilioInbound };
}

/** Decodes a base64 media payload; null when it is not valid base64. */
export function decodePayload(payload: string): Buffer | null {
  if (payload.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) return null;
  return Buffer.from(payload, 'base64');
}

/** Outbound `media` frame. */
export function mediaMessage(streamSid: string, audio: Uint8Array): string {
  return JSON.stringify({
    event: 'media',
    streamSid,
    media: { payload: Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength).toString('base64') }, // a view, not a copy
  });
}

/** Outbound `mark` frame. */
export function markMessage(streamSid: string, name: string): string {
  return JSON.stringify({ event: 'mark', streamSid, mark: { name } });
}

/** Outbound `clear` frame. */
export function clearMessage(streamSid: string): string {
  return JSON.stringify({ event: 'clear', streamSid });
}
