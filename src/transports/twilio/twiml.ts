/**
 * TwiML answers for the voice webhook.
 */
import twilio from 'twilio';

/**
 * `<Connect><Stream>`: a bidirectional media stream that holds the call until our socket closes.
 * Twilio strips query strings from the stream URL, so values travel as `<Parameter>`s.
 */
export function connectStreamTwiml(
  streamUrl: string,
  parameters: Record<string, string | undefined>,
): string {
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({ url: streamUrl });
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== '') stream.parameter({ name, value });
  }
  return response.toString();
}

/** A polite spoken refusal, then hang up (used at MAX_CONCURRENT_CALLS). */
export function busyTwiml(message: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(message);
  response.hangup();
  return response.toString();
}
