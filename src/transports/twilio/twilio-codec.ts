/**
 * The Twilio Media Streams codec (PROTOCOLS.md §1): JSON text frames in, validated at the edge by
 * media-messages.ts (`start` carries Twilio-format sids, `media` is checked by hand), become
 * transport events; commands become `media` (base64 mu-law), `mark` and `clear` frames for the
 * stream's `streamSid`. Twilio has no frame for notices, errors or a hang-up: those encode to null.
 *
 * State: the streamSid of the first valid `start`. Anything but `connected` and `start` before it,
 * a second `start`, a wrong streamSid, bad base64 and binary frames are bad messages; unknown
 * events are ignored on purpose (Twilio may add some). One codec per stream.
 */
import { frameText, type CallCodec, type Decoded } from '../codec.js';
import {
  clearMessage,
  decodePayload,
  markMessage,
  mediaMessage,
  parseTwilioMessage,
  MAX_TWILIO_FRAME_BYTES,
} from './media-messages.js';

const bad = (reason: string): Decoded => ({ kind: 'bad', reason });
const NONE: Decoded = { kind: 'none' };

/** Creates the codec of one media stream (see file header). */
export function createTwilioCodec(): CallCodec {
  let streamSid: string | null = null;
  return {
    name: 'media stream',
    channel: 'phone',
    maxFrameBytes: MAX_TWILIO_FRAME_BYTES,
    startsOnOpen: false,
    carriesAudio: true,
    decode(frame) {
      if (frame.binary) return bad('binary frame');
      const parsed = parseTwilioMessage(frameText(frame.data));
      if (parsed.kind === 'invalid') return bad(parsed.reason);
      if (parsed.kind === 'ignored') return { kind: 'ignored', what: parsed.event };
      const m = parsed.message;
      if (m.event === 'connected') return NONE;
      if (m.event === 'start') {
        if (streamSid) return bad('second start');
        streamSid = m.streamSid;
        const { callSid, customParameters, droppedParameters } = m.start;
        return {
          kind: 'event',
          event: {
            type: 'stream.started',
            callSid,
            streamSid: m.streamSid,
            parameters: customParameters,
            droppedParameters,
          },
        };
      }
      if (!streamSid) return bad(`${m.event} before start`);
      if (m.streamSid !== streamSid) return bad('wrong streamSid');
      switch (m.event) {
        case 'media': {
          // Our own outbound track, if Twilio ever echoes it: not the caller.
          if (m.media.track && m.media.track !== 'inbound' && m.media.track !== 'inbound_track') return NONE;
          const mulaw = decodePayload(m.media.payload);
          return mulaw
            ? { kind: 'event', event: { type: 'audio.received', mulaw } }
            : bad('bad base64 payload');
        }
        case 'mark':
          return { kind: 'event', event: { type: 'mark.received', name: m.mark.name } };
        case 'dtmf':
          return { kind: 'event', event: { type: 'dtmf.received', digit: m.dtmf.digit } };
        case 'stop':
          return { kind: 'event', event: { type: 'caller.hung_up', closeReason: 'stopped' } };
      }
    },
    encode(command) {
      if (!streamSid) return null;
      switch (command.type) {
        case 'send.audio':
          return mediaMessage(streamSid, command.mulaw);
        case 'send.mark':
          return markMessage(streamSid, command.name);
        case 'clear':
          return clearMessage(streamSid);
        default:
          return null;
      }
    },
  };
}
