/**
 * A carrier's codec: its wire messages become transport events (facts, past tense), and the
 * orchestration's commands (imperative) become its wire messages. One codec per carrier, the way
 * Pipecat keeps one serializer per carrier: Twilio Media Streams (src/transports/twilio/twilio-codec.ts),
 * browser audio and browser text (src/transports/browser/browser-codec.ts). A codec holds only the
 * state its wire needs (Twilio's streamSid); it never touches a socket or a session.
 */
import type { CallChannel } from '../../machines/call/call.machine.js';
import type { SessionNotice } from '../session/session-types.js';
import type { InboundFrame } from './call-socket.js';

const decoder = new TextDecoder();

/**
 * A text frame's string, for every codec: invalid bytes become U+FFFD (each codec then validates
 * its fields). Buffer's own UTF-8 slice when the bytes are a Buffer (what ws hands over), which is
 * faster than `TextDecoder` on the 20 ms path.
 */
export function frameText(data: Uint8Array): string {
  return Buffer.isBuffer(data) ? data.toString('utf8') : decoder.decode(data);
}

/** What the far end did. */
export type TransportEvent =
  /** The carrier announced the call (Twilio `start`): its validated identifiers and parameters. */
  | {
      type: 'stream.started';
      callSid: string;
      streamSid: string;
      parameters: Record<string, string>;
      /** Custom parameters refused at the edge (not clean text). */
      droppedParameters: number;
    }
  /** Caller audio, raw mu-law 8 kHz. */
  | { type: 'audio.received'; mulaw: Uint8Array }
  /** A mark we sent came back: the audio before it was played. */
  | { type: 'mark.received'; name: string }
  | { type: 'dtmf.received'; digit: string }
  /** A typed caller turn. */
  | { type: 'text.received'; text: string }
  | { type: 'ping.received' }
  /** The caller left (Twilio `stop`, browser `hangup`); the socket closes with `closeReason`. */
  | { type: 'caller.hung_up'; closeReason: string };

/** What a frame meant. `none`: nothing to do (e.g. Twilio `connected`); `ignored`: unknown, on purpose. */
export type Decoded =
  | { kind: 'event'; event: TransportEvent }
  | { kind: 'none' }
  | { kind: 'ignored'; what: string }
  | { kind: 'bad'; reason: string };

/** What the orchestration tells the far end. */
export type TransportCommand =
  | { type: 'send.audio'; mulaw: Uint8Array }
  | { type: 'send.mark'; name: string }
  /** Barge-in: drop the audio queued at the far end. */
  | { type: 'clear' }
  /** A session notice for the far end's observers (browser UI). */
  | { type: 'tell'; notice: SessionNotice }
  /** The bot ends the call. */
  | { type: 'hang_up'; reason: string }
  /** A message was refused (or the call could not start). */
  | { type: 'report.error'; message: string }
  | { type: 'pong' };

/** One carrier's wire format (see file header). `decode` and `encode` never throw. */
export interface CallCodec {
  /** Named in log lines (`invalid media stream message`). */
  readonly name: string;
  readonly channel: CallChannel;
  /** Larger frames are refused unread. */
  readonly maxFrameBytes: number;
  /** True: the session starts when the socket opens (browser); false: at `stream.started` (Twilio). */
  readonly startsOnOpen: boolean;
  /** True: caller and bot audio travel on this socket (an audio call is built); false: typed turns. */
  readonly carriesAudio: boolean;
  decode(frame: InboundFrame): Decoded;
  /** The wire frame of a command; null when this carrier has no such frame. */
  encode(command: TransportCommand): string | Uint8Array | null;
}
