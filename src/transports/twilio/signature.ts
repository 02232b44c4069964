/**
 * X-Twilio-Signature checks, always against the configured public URL (never one rebuilt from the
 * request: behind a proxy or ngrok the Host differs).
 */
import twilio from 'twilio';

/** Validates a webhook POST: URL = PUBLIC_URL + path, params = the form body. */
export function isValidWebhookSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, unknown>,
): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, url, params);
}

/** Validates the WebSocket upgrade: signed over the `<Stream url>` exactly as written, no params. */
export function isValidStreamSignature(
  authToken: string,
  signature: string | undefined,
  streamUrl: string,
): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, streamUrl, {});
}
