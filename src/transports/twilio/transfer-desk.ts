/**
 * Transfers to a person over Twilio: the live call's TwiML is replaced (REST) by a `<Dial>` to
 * TRANSFER_NUMBER whose `<Number url>` is our whisper endpoint; when the person answers, Twilio
 * fetches it (signed POST) and plays them the claim summary before connecting the caller.
 *
 * What the whisper says is recorded at transfer time (the call session is over by the time the
 * person answers) and kept for `ttlMs`; a whisper request for a transfer this instance did not
 * make (several instances behind one PUBLIC_URL) reads the claim from the store instead.
 */
import type { Logger } from 'pino';
import {
  transferWhisperText,
  type TransferCause,
  type TransferClaimSummary,
} from '../../../machines/call/transfer.js';
import type { TransferRequest } from '../../session/session-types.js';
import type { CallRedirect } from './rest-client.js';
import { sayTwiml, transferTwiml } from './twiml.js';

/** Where Twilio fetches the whisper (a POST, signed like the voice webhook). */
export const WHISPER_PATH = '/twilio/whisper';

/** Query parameter of the whisper URL naming the conversation. */
export const WHISPER_CONVERSATION_PARAM = 'conversation';

/** How long the person's phone rings before `<Dial>` gives up (then the call ends). */
export const TRANSFER_RING_TIMEOUT_S = 30;

/** Options of {@link createTransferDesk}. */
export interface TransferDeskOptions {
  /** TRANSFER_NUMBER (E.164). */
  number: string;
  /** PUBLIC_URL (the whisper URL is built on it, and its signature checked against it). */
  publicUrl: string;
  redirect: CallRedirect;
  companyName: string;
  /** The claim of a conversation from the store (whisper for a transfer made elsewhere). */
  lookup?: (conversationId: string) => Promise<TransferClaimSummary | null>;
  logger: Logger;
  /** How long a transfer's whisper is kept in memory. Default 10 minutes. */
  ttlMs?: number;
  /** Milliseconds clock. Default `performance.now`. */
  now?: () => number;
}

/** Transfers live calls and answers their whispers. */
export interface TransferDesk {
  /** Redirects `callSid` to the person; rejects when Twilio refuses or the call is gone. */
  transfer(callSid: string, request: TransferRequest): Promise<void>;
  /** The whisper TwiML for a conversation (the summary, or that none was found). Never rejects. */
  whisperTwiml(conversationId: string): Promise<string>;
}

/** Most whispers kept at once (each is a few hundred bytes; the oldest go first). */
const MAX_PENDING = 1000;

/** A conversation id as our sessions make them (UUIDs), bounded. */
const CONVERSATION_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Whether a whisper URL's conversation parameter is one of ours in shape. */
export function isConversationId(value: unknown): value is string {
  return typeof value === 'string' && CONVERSATION_ID.test(value);
}

/** Creates the desk (see file header). */
export function createTransferDesk(opts: TransferDeskOptions): TransferDesk {
  const ttlMs = opts.ttlMs ?? 10 * 60_000;
  const now = opts.now ?? (() => performance.now());
  const base = opts.publicUrl.replace(/\/+$/, '');
  /** conversation id → what its whisper says, and until when. */
  const pending = new Map<
    string,
    { claim: TransferClaimSummary | null; cause: TransferCause; expiresAt: number }
  >();
  const sweep = () => {
    const t = now();
    for (const [id, p] of pending) if (p.expiresAt <= t) pending.delete(id);
    while (pending.size > MAX_PENDING) pending.delete(pending.keys().next().value as string);
  };
  const whisperUrl = (conversationId: string) => {
    const u = new URL(`${base}${WHISPER_PATH}`);
    u.searchParams.set(WHISPER_CONVERSATION_PARAM, conversationId);
    return u.toString();
  };

  return {
    async transfer(callSid, request) {
      sweep();
      pending.set(request.conversationId, {
        claim: request.claim,
        cause: request.cause,
        expiresAt: now() + ttlMs,
      });
      const twiml = transferTwiml(opts.number, whisperUrl(request.conversationId), TRANSFER_RING_TIMEOUT_S);
      const result = await opts.redirect.redirect(callSid, twiml);
      if (result === 'already_ended') {
        pending.delete(request.conversationId);
        throw new Error('the call ended before it could be transferred');
      }
    },
    async whisperTwiml(conversationId) {
      sweep();
      const known = pending.get(conversationId);
      let claim = known?.claim ?? null;
      if (!known && opts.lookup) {
        try {
          claim = await opts.lookup(conversationId);
        } catch (err) {
          opts.logger.warn({ err: (err as Error).message }, 'whisper: claim lookup failed');
        }
      }
      const text = transferWhisperText({
        claim,
        cause: known?.cause ?? null,
        companyName: opts.companyName,
      });
      return sayTwiml(text);
    },
  };
}
