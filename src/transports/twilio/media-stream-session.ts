/**
 * One Twilio bidirectional Media Stream (`/twilio/stream`): the shared call orchestration
 * (src/transports/call-orchestration.ts) over the Twilio codec (twilio-codec.ts), with the phone
 * call itself as the carrier's call: the bot's hang-up goes through the REST API (last words in
 * Twilio's voice when a drain runs out of time) before the stream closes, and a call whose speech
 * synthesis is down ends with an apology in Twilio's voice.
 */
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { claimNumberForSpeech } from '../../../machines/claim/claim-number.js';
import type { SessionNotice } from '../../session/session-types.js';
import { wsCallSocket } from '../call-socket.js';
import {
  runCall,
  type AudioProviders,
  type CallStats,
  type CarrierCall,
  type SessionStarter,
} from '../call-orchestration.js';
import type { Slot } from '../host.js';
import type { CallHangUp } from './rest-client.js';
import type { TransferDesk } from './transfer-desk.js';
import { createTwilioCodec } from './twilio-codec.js';

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

/** What a media stream needs from the server. */
export interface MediaStreamDeps {
  startSession: SessionStarter;
  providers: AudioProviders;
  /** REST hang-up (null without Twilio credentials: closing the socket ends `<Connect>` anyway). */
  hangUp: CallHangUp | null;
  /** Transfers to a person (null or absent without TRANSFER_NUMBER: the bot says it cannot). */
  transferDesk?: TransferDesk | null;
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

/**
 * The phone call behind a stream, ended over REST (without credentials: nothing to do), and
 * transferred to a person through the desk when there is one.
 */
export function twilioCarrierCall(rest: CallHangUp | null, desk: TransferDesk | null = null): CarrierCall {
  return {
    ...(desk
      ? {
          async transfer(request, { callSid, log }) {
            if (!callSid) throw new Error('no CallSid: this stream cannot be transferred');
            try {
              await desk.transfer(callSid, request);
              log.info({ cause: request.cause }, 'twilio call redirected to a person');
            } catch (err) {
              log.warn({ err: (err as Error).message }, 'transfer refused; the bot goes on');
              throw err;
            }
          },
        }
      : {}),
    async hangUp(reason, { callSid, claimId, log }) {
      // A transferred call is the person's now: only our stream closes.
      if (!rest || !callSid || reason === 'transferred') return;
      try {
        // A drain that ran out of time: a last word in Twilio's voice, then the hang-up.
        const r =
          reason === 'server_shutdown'
            ? await rest.hangUpWithMessage(callSid, shutdownMessage(claimId))
            : await rest.hangUp(callSid);
        log.info({ result: r }, 'twilio call completed');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'REST hang-up failed; closing the stream');
      }
    },
    async apologize({ callSid, log }) {
      if (!rest || !callSid) return;
      try {
        await rest.hangUpWithMessage(callSid, SPEECH_FAILED_MESSAGE);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'REST apology failed; closing the stream');
      }
    },
  };
}

/** Serves one Twilio media stream until it closes (see file header). */
export function handleTwilioMediaStream(ws: WebSocket, deps: MediaStreamDeps): CallStats {
  return runCall(wsCallSocket(ws), createTwilioCodec(), {
    startSession: deps.startSession,
    logger: deps.logger,
    audio: deps.providers,
    carrier: twilioCarrierCall(deps.hangUp, deps.transferDesk ?? null),
    ...(deps.admit ? { admit: deps.admit } : {}),
    ...(deps.onNotice ? { onNotice: deps.onNotice } : {}),
  });
}
