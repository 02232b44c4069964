/**
 * The Twilio edge of the server:
 * - `POST /twilio/voice` (and `POST /`, like the Pipecat example): answers TwiML
 *   `<Connect><Stream url="wss://<PUBLIC_URL host>/twilio/stream">` (without PUBLIC_URL: from the
 *   trusted forwarded headers or the Host, see stream-url.ts) with `<Parameter>`s (from, to,
 *   callSid), or a polite spoken refusal at MAX_CONCURRENT_CALLS;
 * - `WS /twilio/stream`: the bidirectional media stream (see media-stream-session.ts).
 *
 * With TWILIO_AUTH_TOKEN set, `X-Twilio-Signature` is checked against PUBLIC_URL on both (403 on
 * mismatch).
 *
 * Admission (session-registry.ts): the webhook reserves a slot for its CallSid before answering
 * `<Connect>` (else the polite refusal, or the draining refusal after SIGTERM); the stream claims
 * that reservation at `start` (or takes a fresh slot when there was none, e.g. a local test
 * without the webhook) and releases it when its socket closes. Nothing is held before the socket
 * is open, so a refused or malformed upgrade cannot leak a slot.
 */
import { randomUUID } from 'node:crypto';
import type express from 'express';
import type { Logger } from 'pino';
import { streamUrlOf, type AppConfig } from '../../config.js';
import type { CallAdmission, RouteHost } from '../host.js';
import type { MediaStreamDeps } from './media-stream-session.js';
import { handleTwilioMediaStream } from './media-stream-session.js';
import { busyTwiml, connectStreamTwiml } from './twiml.js';
import { isConversationId, WHISPER_CONVERSATION_PARAM, WHISPER_PATH } from './transfer-desk.js';
import { advertisedStreamUrl } from './stream-url.js';
import { isCallSid, isCleanText } from './media-messages.js';
import { isValidStreamSignature, isValidWebhookSignature } from './signature.js';

/** What the Twilio routes need. */
export interface TwilioRouteDeps extends Omit<MediaStreamDeps, 'logger'> {
  config: Pick<AppConfig, 'PUBLIC_URL' | 'TWILIO_AUTH_TOKEN' | 'PORT' | 'TRUST_PROXY'> &
    Partial<Pick<AppConfig, 'PUBLIC_STREAM_URL'>>;
  sessions: CallAdmission;
  logger: Logger;
}

/** Spoken when every slot is taken. */
export const BUSY_MESSAGE =
  'Thank you for calling. All of our claim assistants are busy right now. Please call again in a few minutes. Goodbye.';

/** Spoken while the server drains for a restart (SIGTERM): the caller should simply call back. */
export const DRAINING_MESSAGE =
  'Thank you for calling. We are updating our system right now. Please call again in a minute. Goodbye.';

/** Mounts the webhook and the media stream route on the app. */
export function registerTwilioRoutes(app: RouteHost, deps: TwilioRouteDeps): void {
  const log = deps.logger.child({ component: 'twilio' });
  const token = deps.config.TWILIO_AUTH_TOKEN;
  const publicUrl = deps.config.PUBLIC_URL?.replace(/\/+$/, '');
  // Many instances behind one number: each one advertises its own stream URL (PUBLIC_STREAM_URL),
  // so the media stream reaches the instance that answered the webhook.
  const ownStreamUrl = deps.config.PUBLIC_STREAM_URL;
  /** The URL Twilio signs the upgrade over: the one we advertise. */
  const signedStreamUrl = ownStreamUrl ?? (publicUrl ? streamUrlOf(publicUrl) : undefined);

  /** Stream URLs already logged: each distinct one once (bounded: Host headers are the caller's). */
  const logged = new Set<string>();
  /** The stream URL Twilio is told to open (and that it signs the upgrade with), see stream-url.ts. */
  const streamUrlFor = (req: express.Request): string => {
    const url =
      ownStreamUrl ??
      advertisedStreamUrl(
        { headers: req.headers, remoteAddress: req.socket.remoteAddress },
        {
          publicUrl,
          trustProxy: deps.config.TRUST_PROXY,
          fallbackHost: `localhost:${deps.config.PORT}`,
        },
      );
    if (!logged.has(url) && logged.size < 16) {
      logged.add(url);
      log.info(
        {
          streamUrl: url,
          from: ownStreamUrl ? 'PUBLIC_STREAM_URL' : publicUrl ? 'PUBLIC_URL' : 'request headers',
        },
        'advertising this media stream URL to Twilio',
      );
    }
    return url;
  };

  const webhook = (path: string) => (req: express.Request, res: express.Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (token) {
      const sig = req.get('x-twilio-signature');
      if (!isValidWebhookSignature(token, sig, `${publicUrl}${path}`, body)) {
        log.warn({ path }, 'webhook refused: bad X-Twilio-Signature');
        res.status(403).type('text/plain').send('invalid signature');
        return;
      }
    }
    // Only clean text goes into the TwiML (a NUL would make it invalid XML) and back to us.
    const str = (k: string) => {
      const v = body[k];
      return typeof v === 'string' && v.length <= 64 && isCleanText(v) ? v : undefined;
    };
    const rawSid = str('CallSid');
    const callSid = rawSid && isCallSid(rawSid) ? rawSid : undefined;
    res.type('text/xml');
    if (deps.sessions.isDraining()) {
      log.info('draining: refusing a new call politely');
      res.send(busyTwiml(DRAINING_MESSAGE));
      return;
    }
    // Without a CallSid (not Twilio) the reservation cannot be claimed: it just expires.
    if (!deps.sessions.reserve(callSid ?? `anonymous-${randomUUID()}`)) {
      log.warn({ limit: deps.sessions.limit }, 'at capacity: refusing the call politely');
      res.send(busyTwiml(BUSY_MESSAGE));
      return;
    }
    res.send(connectStreamTwiml(streamUrlFor(req), { from: str('From'), to: str('To'), callSid }));
  };
  app.express.post('/twilio/voice', webhook('/twilio/voice'));
  app.express.post('/', webhook('/'));

  // The whisper of a transfer: Twilio fetches it when the person answers. It tells claim data, so
  // it is served only to signed requests (signed over the URL with its query, as written in the
  // `<Number url>`), never without a token.
  const desk = deps.transferDesk;
  if (desk) {
    app.express.post(WHISPER_PATH, (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const sig = req.get('x-twilio-signature');
      if (
        !token ||
        !publicUrl ||
        !isValidWebhookSignature(token, sig, `${publicUrl}${req.originalUrl}`, body)
      ) {
        log.warn('whisper refused: bad X-Twilio-Signature');
        res.status(403).type('text/plain').send('invalid signature');
        return;
      }
      const id = req.query[WHISPER_CONVERSATION_PARAM];
      void desk
        .whisperTwiml(isConversationId(id) ? id : '')
        .then((twiml) => {
          log.info({ conversationId: isConversationId(id) ? id : null }, 'whisper served to the transfer');
          res.type('text/xml').send(twiml);
        })
        .catch((err: unknown) => {
          log.error({ err: (err as Error).message }, 'whisper failed');
          if (!res.headersSent) res.status(500).type('text/plain').send('whisper unavailable');
        });
    });
  }

  app.addWsRoute({
    path: '/twilio/stream',
    authorize: (req) => {
      if (token && signedStreamUrl) {
        const sig = req.headers['x-twilio-signature'];
        if (!isValidStreamSignature(token, typeof sig === 'string' ? sig : undefined, signedStreamUrl)) {
          log.warn('media stream refused: bad X-Twilio-Signature');
          return { ok: false, status: 403, message: 'invalid signature' };
        }
      }
      // Nothing is reserved here: `ws` may still refuse the upgrade without calling back. A stream
      // that could not be admitted at `start` anyway (every slot live, none reserved) is refused now.
      const { reserved } = deps.sessions.stats();
      if (reserved === 0 && (deps.sessions.isFull() || deps.sessions.isDraining()))
        return { ok: false, status: 503, message: 'at capacity' };
      return { ok: true };
    },
    onConnection: (ws) => {
      handleTwilioMediaStream(ws, {
        ...deps,
        logger: log,
        admit: (callSid) => deps.sessions.claim(callSid) ?? deps.sessions.tryAcquire(),
      });
    },
  });
}
