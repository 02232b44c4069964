/**
 * Hanging up through the Twilio REST API, with a configurable base URL (TWILIO_API_URL) for
 * regional endpoints and test fakes. The twilio client has no base-URL option, so a RequestClient
 * subclass rewrites each request's URI (PROTOCOLS.md §0).
 */
import twilio from 'twilio';

/** Gives a live call new TwiML (a transfer's `<Dial>`). */
export interface CallRedirect {
  /**
   * Replaces what the call runs with `twiml` (Twilio ends our `<Connect><Stream>` and runs it).
   * `already_ended`: the call is gone (404 / 20404). Throws on other errors.
   */
  redirect(callSid: string, twiml: string): Promise<'redirected' | 'already_ended'>;
}

/** Hangs up calls. */
export interface CallHangUp {
  /** Completes the call. An already-ended call (404 / code 20404) counts as done. Throws on other errors. */
  hangUp(callSid: string): Promise<'completed' | 'already_ended'>;
  /**
   * Ends the call with a last message in Twilio's own voice (`<Say>` then `<Hangup/>`): the way out
   * when our speech synthesis is down. Same error semantics as `hangUp`.
   */
  hangUpWithMessage(callSid: string, message: string): Promise<'completed' | 'already_ended'>;
}

/** Creates the REST hang-up client. */
export function createTwilioHangUp(opts: {
  accountSid: string;
  authToken: string;
  apiUrl?: string;
  timeoutMs?: number;
}): CallHangUp & CallRedirect {
  const base = opts.apiUrl?.replace(/\/+$/, '');
  class RewritingRequestClient extends twilio.RequestClient {
    override request<T>(o: Parameters<twilio.RequestClient['request']>[0]) {
      if (base && typeof o.uri === 'string') o.uri = o.uri.replace(/^https:\/\/api\.twilio\.com/, base);
      o.timeout ??= opts.timeoutMs ?? 5000;
      return super.request<T>(o as never);
    }
  }
  const client = twilio(opts.accountSid, opts.authToken, { httpClient: new RewritingRequestClient() });
  const update = async (callSid: string, params: { status: 'completed' } | { twiml: string }) => {
    try {
      await client.calls(callSid).update(params);
      return 'completed' as const;
    } catch (err) {
      const e = err as { status?: number; code?: number };
      if (e.status === 404 || e.code === 20404) return 'already_ended' as const;
      throw err;
    }
  };
  return {
    hangUp: (callSid) => update(callSid, { status: 'completed' }),
    redirect: async (callSid, twiml) =>
      (await update(callSid, { twiml })) === 'completed' ? 'redirected' : 'already_ended',
    hangUpWithMessage(callSid, message) {
      const response = new twilio.twiml.VoiceResponse();
      response.say(message);
      response.hangup();
      return update(callSid, { twiml: response.toString() });
    },
  };
}
