/**
 * The post-call webhook's signature, Stripe-style: the receiver recomputes
 * `HMAC-SHA256(POST_CALL_WEBHOOK_SECRET, "<timestamp>.<raw body>")` and compares it (in constant
 * time) with `X-Statecall-Signature: sha256=<hex>`; `X-Statecall-Timestamp` (Unix seconds) is
 * signed too, so a captured request replayed later is refused by a receiver that checks the age.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `sha256=<hex>`. */
export const SIGNATURE_HEADER = 'x-statecall-signature';
/** Header carrying the signing time, Unix seconds. */
export const TIMESTAMP_HEADER = 'x-statecall-timestamp';
/** Default age beyond which {@link verifyWebhookSignature} refuses a request (5 minutes). */
export const DEFAULT_TOLERANCE_S = 300;

/** The signature header value for `body` signed at `timestampS`. */
export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does: true when `signature` is `body`'s at `timestamp` and the timestamp is
 * within `toleranceS` of `nowS`. Never throws (malformed headers are false).
 */
export function verifyWebhookSignature(opts: {
  secret: string;
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
  nowS?: number;
  toleranceS?: number;
}): boolean {
  const ts = Number(opts.timestamp);
  if (!opts.signature || !/^\d{1,12}$/.test(opts.timestamp ?? '')) return false;
  const now = opts.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (opts.toleranceS ?? DEFAULT_TOLERANCE_S)) return false;
  const expected = Buffer.from(signWebhook(opts.secret, ts, opts.body));
  const given = Buffer.from(opts.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
