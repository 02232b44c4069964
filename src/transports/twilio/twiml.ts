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

/**
 * A transfer: `<Dial>` the number; when the person answers, Twilio fetches `whisperUrl` (POST,
 * signed) and plays its TwiML to them alone before the two are connected.
 */
export function transferTwiml(number: string, whisperUrl: string, timeoutS: number): string {
  const response = new twilio.twiml.VoiceResponse();
  response.dial({ timeout: timeoutS }).number({ url: whisperUrl, method: 'POST' }, number);
  return response.toString();
}

/** Words said, nothing else (the whisper: the call is connected when it ends). */
export function sayTwiml(message: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(message);
  return response.toString();
}

/** A polite spoken refusal, then hang up (used at MAX_CONCURRENT_CALLS). */
export function busyTwiml(message: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(message);
  response.hangup();
  return response.toString();
}
