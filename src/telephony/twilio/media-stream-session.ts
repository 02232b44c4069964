/**
 * One Twilio bidirectional Media Stream (`/twilio/stream`): parses every inbound message with zod,
 * feeds caller audio to the call's audio plumbing (VAD + STT), echoes marks into the playback
 * tracker, turns DTMF into machine events, and sends bot audio back as `media` + `mark` frames
 * (and `clear` on barge-in).
 *
 * Bad input (invalid JSON, media before `start`, a wrong streamSid, bad base64, oversized or binary
 * frames) is counted and logged, never thrown; after `MAX_BAD_MESSAGES` the socket is closed with
 * 1008 (policy violation). Unknown events are ignored on purpose (Twilio may add some) but counted.
 * Nothing here can affect another call.
 */
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { createAudioCall, type AudioCall } from '../../engine/audio-call.js';
import type { CallSession } from '../../engine/call-session.js';
import type { SessionNotice, SessionOptions, SessionTransport } from '../../engine/session-types.js';
import type { Providers } from '../../providers/create-providers.js';
import { maskPhoneNumber } from '../../providers/local/speech-format.js';
import {
  clearMessage,
  decodePayload,
  markMessage,
  mediaMessage,
  parseTwilioMessage,
  MAX_TWILIO_FRAME_BYTES,
} from './media-messages.js';
import type { CallHangUp } from './rest-client.js';
import { claimNumberForSpeech } from '../../../machines/claim-number.js';
import type { Slot } from '../../server/session-registry.js';

/** Said in Twilio's voice when our own speech synthesis is down (see AudioCallOptions.onSpeechFailed). */
export const SPEECH_FAILED_MESSAGE =
  'We are sorry, we are having technical difficulties right now. Your claim has been saved. Please call again in a few minutes. Goodbye.';

/** Said in Twilio's voice to a caller still on the line when a server drain runs out of time. */
export function shutdownMessage(claimId: string | null): string {
  const claim = claimId
    ? ` Your claim number is ${claimNumberForSpeech(claimId)}, and what you told us is saved.`
    : '';
  return `We are sorry, we have to end this call now for a system update.${claim} Please call again in a few minutes to finish. Goodbye.`;
}

/** Invalid messages tolerated on one stream before it is closed. */
export const MAX_BAD_MESSAGES = 50;
/** Close code for a stream that kept sending garbage. */
export const CLOSE_POLICY_VIOLATION = 1008;

/** What a media stream needs from the server. */
export interface MediaStreamDeps {
  startSession: (transport: SessionTransport, opts?: SessionOptions) => Promise<CallSession>;
  providers: Pick<Providers, 'stt' | 'tts' | 'localTts' | 'makeVad'>;
  /** REST hang-up (null without Twilio credentials: closing the socket ends `<Connect>` anyway). */
  hangUp: CallHangUp | null;
  logger: Logger;
  /** Session observers (tests, live dashboards). */
  onNotice?: (n: SessionNotice) => void;
  /**
   * Admission at `start` (the first moment the CallSid is known): the webhook's reservation for
   * this call, or a fresh slot; null refuses the call (closed with 1013, try again later). The
   * slot is released when the socket closes. Without it every stream is admitted.
   */
  admit?: (callSid: string) => Slot | null;
}

/** Close code for a stream refused at capacity or while the server drains (RFC 6455 "try again later"). */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** Counters of one stream, for logs and tests. */
export interface MediaStreamStats {
  bad: number;
  ignored: number;
  media: number;
  marks: number;
  dtmf: number;
}

/** Serves one Twilio media stream until it closes (see file header). */
export function handleTwilioMediaStream(ws: WebSocket, deps: MediaStreamDeps): MediaStreamStats {
  const stats: MediaStreamStats = { bad: 0, ignored: 0, media: 0, marks: 0, dtmf: 0 };
  let log = deps.logger.child({ component: 'twilio-stream' });
  let streamSid: string | null = null;
  let callSid: string | null = null;
  let audio: AudioCall | null = null;
  let session: CallSession | null = null;
  const early: { type: 'dtmf.received'; digit: string }[] = [];
  let closed = false;
  /** Refused at `start`: the rest of what this socket sends is dropped unread. */
  let refused = false;

  const send = (frame: string) => {
    if (ws.readyState === ws.OPEN) ws.send(frame);
  };

  const bad = (reason: string) => {
    stats.bad += 1;
    // First few in full, then every 10th: a flood must not flood the logs too.
    if (stats.bad <= 5 || stats.bad % 10 === 0)
      log.warn({ bad: stats.bad, reason }, 'invalid media stream message');
    if (stats.bad >= MAX_BAD_MESSAGES && !closed) {
      log.warn({ bad: stats.bad }, 'closing media stream: too many invalid messages');
      ws.close(CLOSE_POLICY_VIOLATION, 'too many invalid messages');
    }
  };

  const onStart = (
    sid: string,
    start: { callSid: string; customParameters: Record<string, string>; droppedParameters: number },
  ) => {
    const slot = deps.admit ? deps.admit(start.callSid) : { release() {} };
    if (!slot) {
      refused = true;
      log.warn('media stream refused at start: no call slot (at capacity or draining)');
      ws.close(CLOSE_TRY_AGAIN_LATER, 'at capacity');
      return;
    }
    // 'close' fires once for every socket that was open: the slot cannot leak.
    ws.once('close', () => slot.release());
    streamSid = sid;
    callSid = start.callSid;
    const params = start.customParameters;
    log = log.child({ callSid: start.callSid });
    if (start.droppedParameters > 0)
      log.warn({ dropped: start.droppedParameters }, 'custom parameters dropped: not clean text');
    // Last 4 digits only: phone numbers never reach the logs.
    log.info({ from: maskPhoneNumber(params.from), to: maskPhoneNumber(params.to) }, 'media stream started');
    const a = createAudioCall({
      stt: deps.providers.stt,
      tts: deps.providers.tts,
      fallbackTts: deps.providers.localTts,
      makeVad: deps.providers.makeVad,
      onSpeechFailed: () => {
        log.error(
          'speech synthesis is down and no local voice is installed: ending the call with an apology',
        );
        session?.stop('tts_failed');
        void (async () => {
          if (deps.hangUp && callSid) {
            try {
              await deps.hangUp.hangUpWithMessage(callSid, SPEECH_FAILED_MESSAGE);
            } catch (err) {
              log.warn({ err: (err as Error).message }, 'REST apology failed; closing the stream');
            }
          }
          if (ws.readyState === ws.OPEN) ws.close(1000, 'speech unavailable');
        })();
      },
      logger: log,
      output: {
        sendAudio: (mulaw) => send(mediaMessage(sid, mulaw)),
        sendMark: (name) => send(markMessage(sid, name)),
        clear: () => send(clearMessage(sid)),
      },
    });
    audio = a;
    const transport: SessionTransport = {
      channel: 'phone',
      speaker: a.speaker,
      sttLogic: a.sttLogic,
      interrupt: () => a.interrupt(),
      hangUp: async (reason) => {
        log.info({ reason }, 'hanging up');
        if (deps.hangUp && callSid) {
          try {
            // A drain that ran out of time: a last word in Twilio's voice, then the hang-up.
            const r =
              reason === 'server_shutdown'
                ? await deps.hangUp.hangUpWithMessage(callSid, shutdownMessage(session?.claimId ?? null))
                : await deps.hangUp.hangUp(callSid);
            log.info({ result: r }, 'twilio call completed');
          } catch (err) {
            log.warn({ err: (err as Error).message }, 'REST hang-up failed; closing the stream');
          }
        }
        if (ws.readyState === ws.OPEN) ws.close(1000, 'call ended');
      },
      notify: (n) => deps.onNotice?.(n),
    };
    deps
      .startSession(transport, {
        callSid: start.callSid,
        streamSid: sid,
        from: params.from ?? null,
        to: params.to ?? null,
        customParameters: params,
      })
      .then((s) => {
        session = s;
        a.attach(s);
        if (closed) s.stop('caller_hung_up');
        for (const e of early.splice(0)) s.send(e);
      })
      .catch((err: unknown) => {
        log.error({ err: (err as Error).message }, 'could not start the call session');
        ws.close(1011, 'session start failed');
      });
  };

  const onText = (raw: string) => {
    const parsed = parseTwilioMessage(raw);
    if (parsed.kind === 'invalid') return bad(parsed.reason);
    if (parsed.kind === 'ignored') {
      stats.ignored += 1;
      log.debug({ event: parsed.event.slice(0, 40) }, 'unknown media stream event ignored');
      return;
    }
    const m = parsed.message;
    if (m.event === 'connected') return;
    if (m.event === 'start') {
      if (streamSid) return bad('second start');
      return onStart(m.streamSid, m.start);
    }
    if (!streamSid) return bad(`${m.event} before start`);
    if (m.streamSid !== streamSid) return bad('wrong streamSid');
    switch (m.event) {
      case 'media': {
        if (m.media.track && m.media.track !== 'inbound' && m.media.track !== 'inbound_track') return;
        const bytes = decodePayload(m.media.payload);
        if (!bytes) return bad('bad base64 payload');
        stats.media += 1;
        audio?.pushAudio(bytes);
        return;
      }
      case 'mark':
        stats.marks += 1;
        audio?.markReceived(m.mark.name);
        return;
      case 'dtmf': {
        stats.dtmf += 1;
        const e = { type: 'dtmf.received' as const, digit: m.dtmf.digit };
        if (session) session.send(e);
        else early.push(e);
        return;
      }
      case 'stop':
        log.info({ stats }, 'media stream stopped by Twilio');
        session?.stop('caller_hung_up');
        if (ws.readyState === ws.OPEN) ws.close(1000, 'stopped');
        return;
    }
  };

  ws.on('message', (data, isBinary) => {
    if (refused) return;
    try {
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength;
      if (isBinary) return bad('binary frame');
      if (size > MAX_TWILIO_FRAME_BYTES) return bad('frame too large');
      onText(
        Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'),
      );
    } catch (err) {
      // Defensive: a bug here must cost one message, not the process.
      bad(`handler error: ${(err as Error).message}`);
    }
  });
  ws.on('close', (code) => {
    closed = true;
    log.info({ code, stats: { ...stats, ...audio?.stats() } }, 'media stream closed');
    session?.stop('caller_hung_up');
    audio?.close();
  });
  ws.on('error', (err) => log.warn({ err: err.message }, 'media stream socket error'));
  return stats;
}
