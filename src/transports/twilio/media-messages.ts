/**
 * Twilio Media Streams messages (PROTOCOLS.md §1), validated at the edge.
 * Inbound: connected, start, media, dtmf, mark, stop. Unknown events are ignored on purpose;
 * malformed ones are reported so the session can count and log them.
 *
 * `start` carries the identifiers that end up in the database: they must have Twilio's formats
 * (`CA`/`MZ`/`AC` + 32 hex digits), so a NUL or a lone surrogate can never reach a row (PostgreSQL
 * would refuse it and every later row of the call would fail on the foreign key). A custom
 * parameter that is not a clean string is dropped (and counted); the call goes on.
 *
 * `media` arrives every 20 ms per call: it is checked by hand ({@link parseMediaFast}, equivalent
 * to the zod schema, which stays as its specification and type); the rare events go through zod.
 */
import { z } from 'zod';

const numericString = z.string().regex(/^\d+$/);

/** Twilio's identifier format: a two-letter prefix and 32 hex digits (lowercase in practice). */
const sidPattern = (prefix: 'CA' | 'MZ' | 'AC') => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);
const sid = (prefix: 'CA' | 'MZ' | 'AC') =>
  z.string().regex(sidPattern(prefix), `must be ${prefix} followed by 32 hex digits`);

/** True for a Call SID in Twilio's format (`CA` + 32 hex digits). */
export const isCallSid = (s: string): boolean => CALL_SID.test(s);
const CALL_SID = sidPattern('CA');

/** Longest custom parameter name and value kept. */
const MAX_PARAMETER_NAME = 64;
const MAX_PARAMETER_VALUE = 512;

/** True for a string PostgreSQL text and XML accept: no NUL, no lone surrogate. */
export function isCleanText(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}
/** In `u` mode a paired surrogate is one code point, so only lone ones match. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Keeps the custom parameters that are clean strings of sane length; counts the others. */
function cleanParameters(raw: Record<string, unknown>): {
  parameters: Record<string, string>;
  dropped: number;
} {
  const parameters: Record<string, string> = {};
  let dropped = 0;
  for (const [name, value] of Object.entries(raw)) {
    const ok =
      name !== '__proto__' &&
      name.length > 0 &&
      name.length <= MAX_PARAMETER_NAME &&
      isCleanText(name) &&
      typeof value === 'string' &&
      value.length <= MAX_PARAMETER_VALUE &&
      isCleanText(value);
    if (ok) parameters[name] = value;
    else dropped += 1;
  }
  return { parameters, dropped };
}

const connected = z.object({
  event: z.literal('connected'),
  protocol: z.string().optional(),
  version: z.string().optional(),
});
const start = z.object({
  event: z.literal('start'),
  sequenceNumber: numericString.optional(),
  streamSid: sid('MZ'),
  start: z
    .object({
      accountSid: sid('AC').optional(),
      streamSid: sid('MZ').optional(),
      callSid: sid('CA'),
      tracks: z.array(z.string().max(64)).max(8).optional(),
      mediaFormat: z
        .object({ encoding: z.string().max(64), sampleRate: z.number(), channels: z.number() })
        .optional(),
      customParameters: z.record(z.string(), z.unknown()).optional(),
    })
    .transform(({ customParameters, ...rest }) => {
      const { parameters, dropped } = cleanParameters(customParameters ?? {});
      return { ...rest, customParameters: parameters, droppedParameters: dropped };
    }),
});
/** The `media` message as specified; parsed by {@link parseMediaFast}, which must agree with it. */
export const mediaSchema = z.object({
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
/** The `mark` echo as specified; parsed by {@link parseMarkFast}, which must agree with it. */
export const markSchema = z.object({
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
  ['media', mediaSchema],
  ['dtmf', dtmf],
  ['mark', markSchema],
  ['stop', stop],
]);

/** A validated inbound message. */
export type TwilioInbound =
  | z.infer<typeof connected>
  | z.infer<typeof start>
  | z.infer<typeof mediaSchema>
  | z.infer<typeof dtmf>
  | z.infer<typeof markSchema>
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
  // The two per-frame messages (caller audio, and the echo of every mark after a bot audio chunk)
  // are checked by hand; the rest, a few per call, by their zod schemas.
  if (event === 'media') return parseMediaFast(data as Record<string, unknown>);
  if (event === 'mark') return parseMarkFast(data as Record<string, unknown>);
  const schema = KNOWN.get(event);
  if (!schema) return { kind: 'ignored', event };
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { kind: 'invalid', reason: `bad ${event}: ${i ? `${i.path.join('.')} ${i.message}` : 'invalid'}` };
  }
  return { kind: 'ok', message: parsed.data as TwilioInbound };
}

const badMedia = (reason: string): ParsedInbound => ({ kind: 'invalid', reason: `bad media: ${reason}` });
/** `/^\d+$/` by hand: three of these per 20 ms frame, on the hot path. */
function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
const optionalNumeric = (v: unknown) => v === undefined || (typeof v === 'string' && isDigits(v));

/**
 * The `media` schema checked by hand (a few typeof and a digit loop per field): accepts and refuses
 * exactly what `media.safeParse` does, and like zod keeps only the known fields.
 */
export function parseMediaFast(d: Record<string, unknown>): ParsedInbound {
  const { streamSid, sequenceNumber } = d;
  if (typeof streamSid !== 'string' || streamSid.length < 1 || streamSid.length > 64)
    return badMedia('streamSid must be a string of 1-64 characters');
  if (!optionalNumeric(sequenceNumber)) return badMedia('sequenceNumber must be a numeric string');
  const m = d.media;
  if (!m || typeof m !== 'object' || Array.isArray(m)) return badMedia('media must be an object');
  const { track, chunk, timestamp, payload } = m as Record<string, unknown>;
  if (typeof payload !== 'string' || payload.length > 16_384)
    return badMedia('media.payload must be a string of at most 16384 characters');
  if (track !== undefined && typeof track !== 'string') return badMedia('media.track must be a string');
  if (!optionalNumeric(chunk)) return badMedia('media.chunk must be a numeric string');
  if (!optionalNumeric(timestamp)) return badMedia('media.timestamp must be a numeric string');
  const media: z.infer<typeof mediaSchema>['media'] = { payload };
  if (track !== undefined) media.track = track;
  if (chunk !== undefined) media.chunk = chunk as string;
  if (timestamp !== undefined) media.timestamp = timestamp as string;
  const message: z.infer<typeof mediaSchema> = { event: 'media', streamSid, media };
  if (sequenceNumber !== undefined) message.sequenceNumber = sequenceNumber as string;
  return { kind: 'ok', message };
}

const badMark = (reason: string): ParsedInbound => ({ kind: 'invalid', reason: `bad mark: ${reason}` });

/** The `mark` schema checked by hand: accepts and refuses exactly what `markSchema.safeParse` does. */
export function parseMarkFast(d: Record<string, unknown>): ParsedInbound {
  const { streamSid, sequenceNumber } = d;
  if (typeof streamSid !== 'string' || streamSid.length < 1 || streamSid.length > 64)
    return badMark('streamSid must be a string of 1-64 characters');
  if (!optionalNumeric(sequenceNumber)) return badMark('sequenceNumber must be a numeric string');
  const m = d.mark;
  if (!m || typeof m !== 'object' || Array.isArray(m)) return badMark('mark must be an object');
  const { name } = m as Record<string, unknown>;
  if (typeof name !== 'string' || name.length < 1 || name.length > 128)
    return badMark('mark.name must be a string of 1-128 characters');
  const message: z.infer<typeof markSchema> = { event: 'mark', streamSid, mark: { name } };
  if (sequenceNumber !== undefined) message.sequenceNumber = sequenceNumber as string;
  return { kind: 'ok', message };
}

/**
 * Decodes a base64 media payload; null when it is not valid base64. Node's decoder skips what is
 * not base64 and stops at padding, so a payload is valid exactly when it decodes to the length
 * its characters promise (no per-frame regex over the whole payload). The URL-safe alphabet
 * (RFC 4648 §5), which Node decodes alike, is accepted too.
 */
export function decodePayload(payload: string): Buffer | null {
  const n = payload.length;
  if (n % 4 !== 0) return null;
  const padding =
    n > 0 && payload.charCodeAt(n - 1) === EQUALS ? (payload.charCodeAt(n - 2) === EQUALS ? 2 : 1) : 0;
  const bytes = Buffer.from(payload, 'base64');
  return bytes.length === (n / 4) * 3 - padding ? bytes : null;
}
const EQUALS = 61; // '='

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
