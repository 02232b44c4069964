/**
 * The `/client/stream` codecs: talk to the bot from a browser (or the terminal chat) over one
 * WebSocket. Two carriers share the JSON control frames: browser text (typed turns, no audio) and
 * browser audio (`?audio=1`: binary mu-law 8 kHz both ways, plus marks).
 *
 * Client → server (JSON text frames, validated):
 *   {"event":"text","text":"..."}      a typed caller turn
 *   {"event":"dtmf","digit":"1"}       a keypad digit (0-9 * #)
 *   {"event":"hangup"}                 the caller leaves
 *   {"event":"ping"}                   answered with {"event":"pong"}
 *   {"event":"mark","name":"..."}      audio: the audio before this mark has played
 *   binary frames                      audio: raw mu-law 8 kHz mono (refused by the text codec)
 * Server → client: every SessionNotice as {"event": notice.type, ...fields} (browser-protocol.ts),
 * plus {"event":"clear"} (barge-in: stop local playback now), {"event":"error","message"} (a
 * message was refused; the session goes on), {"event":"hangup","reason"}, {"event":"mark","name"}
 * and binary bot audio (audio only). The session starts when the socket opens (the bot speaks
 * first); when the bot ends the call the client gets `hangup`, then `session.ended`, then a 1000
 * close.
 */
import { z } from 'zod';
import {
  frameText,
  type CallCodec,
  type Decoded,
  type TransportCommand,
  type TransportEvent,
} from '../codec.js';
import { noticeFrame, type ServerFrame } from './browser-protocol.js';

const clientMessage = z.discriminatedUnion('event', [
  z.object({ event: z.literal('text'), text: z.string().trim().min(1).max(2000) }),
  z.object({ event: z.literal('dtmf'), digit: z.string().regex(/^[0-9*#]$/) }),
  z.object({ event: z.literal('hangup') }),
  z.object({ event: z.literal('ping') }),
  z.object({ event: z.literal('mark'), name: z.string().min(1).max(128) }),
]);

/** Largest frame accepted (a 20 ms audio frame is 160 bytes). */
export const MAX_BROWSER_FRAME_BYTES = 64 * 1024;

const bad = (reason: string): Decoded => ({ kind: 'bad', reason });
const event = (e: TransportEvent): Decoded => ({ kind: 'event', event: e });

/** One JSON control frame. */
function decodeJson(text: string): Decoded {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return bad('invalid JSON');
  }
  const parsed = clientMessage.safeParse(data);
  if (!parsed.success) return bad(`unsupported message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const m = parsed.data;
  switch (m.event) {
    case 'text':
      return event({ type: 'text.received', text: m.text });
    case 'dtmf':
      return event({ type: 'dtmf.received', digit: m.digit });
    case 'mark':
      return event({ type: 'mark.received', name: m.name });
    case 'hangup':
      return event({ type: 'caller.hung_up', closeReason: 'bye' });
    case 'ping':
      return event({ type: 'ping.received' });
  }
}

/** The JSON frame of a command, or null (audio and marks: only the audio codec sends those). */
function encodeJson(command: TransportCommand): string | null {
  const frame = jsonFrameOf(command);
  return frame ? JSON.stringify(frame) : null;
}

function jsonFrameOf(command: TransportCommand): ServerFrame | null {
  switch (command.type) {
    case 'tell':
      return noticeFrame(command.notice);
    case 'clear':
      return { event: 'clear' };
    case 'hang_up':
      return { event: 'hangup', reason: command.reason };
    case 'report.error':
      return { event: 'error', message: command.message };
    case 'pong':
      return { event: 'pong' };
    default:
      return null;
  }
}

/** Typed turns: JSON control frames only; binary frames are refused. */
export function createBrowserTextCodec(): CallCodec {
  return {
    name: 'browser stream',
    channel: 'browser',
    maxFrameBytes: MAX_BROWSER_FRAME_BYTES,
    startsOnOpen: true,
    carriesAudio: false,
    decode: (frame) =>
      frame.binary
        ? bad('binary frames are not accepted (connect with ?audio=1 to send audio)')
        : decodeJson(frameText(frame.data)),
    encode: encodeJson,
  };
}

/** Audio calls: binary mu-law both ways, marks as JSON, plus the text codec's control frames. */
export function createBrowserAudioCodec(): CallCodec {
  return {
    name: 'browser stream',
    channel: 'browser',
    maxFrameBytes: MAX_BROWSER_FRAME_BYTES,
    startsOnOpen: true,
    carriesAudio: true,
    decode: (frame) =>
      frame.binary ? event({ type: 'audio.received', mulaw: frame.data }) : decodeJson(frameText(frame.data)),
    encode: (command) =>
      command.type === 'send.audio'
        ? command.mulaw
        : command.type === 'send.mark'
          ? JSON.stringify({ event: 'mark', name: command.name } satisfies ServerFrame)
          : encodeJson(command),
  };
}
