/**
 * The outside world of a fault scenario: the Cartesia fake (an audible voice) and the Twilio REST
 * fake in this process, the environment that points a server process at them, and the simulated
 * phone callers (signed webhook + signed stream upgrade, as Twilio sends them).
 *
 * The real calls file a claim on the keypad (local dialogue, no Deepgram/OpenAI): DTMF is exact, so
 * the fuzzer's noise on other sockets cannot consume another call's scripted speech.
 *
 * Lifecycle: `const stack = await startPhoneStack()`, `stack.serverEnv(extra)` for each server
 * process, `await stack.close()` at the end.
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { startCartesiaFake, type CartesiaFake } from '../../fakes/cartesia-server.js';
import { startTwilioCall, type StartTwilioCallOptions, type TwilioCall } from '../../fakes/twilio-caller.js';
import { startTwilioRestFake, type TwilioRestFake } from '../../fakes/twilio-rest.js';
import { waitForBotToFinish } from '../../support/phone-harness.js';

export const AUTH_TOKEN = 'faults-twilio-auth-token';
export const PUBLIC_URL = 'https://statecall.faults.test';
export const DASHBOARD_TOKEN = 'faults-dashboard-token';
/** Playback and line-clock speed of the simulated callers. */
export const SPEEDUP = 8;

/** The claim every real call files, and the keys that give it. */
export const CLAIM = {
  date: '2026-03-03',
  amount: 1250.5,
  keys: { acknowledge: '1', date: '03032026#', amount: '1250*50#', confirm: '1' },
} as const;

/** A running set of fakes. */
export interface PhoneStack {
  cartesia: CartesiaFake;
  rest: TwilioRestFake;
  /** The server environment: fakes' URLs, dummy keys, Twilio credentials, PUBLIC_URL. */
  serverEnv(extra?: Record<string, string>): Record<string, string>;
  /** Places a signed call on `serverUrl` (webhook, then stream upgrade, `connected` + `start`). */
  call(serverUrl: string, opts?: Partial<StartTwilioCallOptions>): Promise<TwilioCall>;
  /** POSTs a signed voice webhook and returns the TwiML. */
  webhook(serverUrl: string, callSid?: string): Promise<{ status: number; twiml: string; callSid: string }>;
  /** Headers of a signed stream upgrade (what Twilio sends on `/twilio/stream`). */
  streamHeaders(): Record<string, string>;
  close(): Promise<void>;
}

/** A random Twilio-format call SID (`CA` + 32 hex). */
export const newCallSid = () => `CA${randomBytes(16).toString('hex')}`;

/** Starts the fakes (see file header). */
export async function startPhoneStack(): Promise<PhoneStack> {
  const cartesia = await startCartesiaFake({ msPerChar: 10 });
  const rest = await startTwilioRestFake({ authToken: AUTH_TOKEN });
  rest.events.setMaxListeners(0);
  const streamUrl = `${PUBLIC_URL.replace(/^http/, 'ws')}/twilio/stream`;
  return {
    cartesia,
    rest,
    serverEnv: (extra = {}) => ({
      CARTESIA_API_KEY: 'test-cartesia-key',
      CARTESIA_URL: cartesia.url,
      TWILIO_ACCOUNT_SID: rest.accountSid,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_URL: rest.url,
      PUBLIC_URL,
      DASHBOARD_TOKEN,
      ...extra,
    }),
    call: (serverUrl, opts = {}) =>
      startTwilioCall({
        serverBaseUrl: serverUrl,
        from: '+15551230000',
        to: '+15557654321',
        authToken: AUTH_TOKEN,
        publicUrl: PUBLIC_URL,
        rest,
        speedup: SPEEDUP,
        ...opts,
      }),
    async webhook(serverUrl, callSid = newCallSid()) {
      rest.addCall(callSid);
      const params = {
        CallSid: callSid,
        AccountSid: rest.accountSid,
        From: '+15551230001',
        To: '+15557654321',
        CallStatus: 'ringing',
        Direction: 'inbound',
      };
      const res = await fetch(`${serverUrl}/twilio/voice`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Twilio-Signature': twilio.getExpectedTwilioSignature(
            AUTH_TOKEN,
            `${PUBLIC_URL}/twilio/voice`,
            params,
          ),
        },
        body: new URLSearchParams(params).toString(),
      });
      return { status: res.status, twiml: await res.text(), callSid };
    },
    streamHeaders: () => ({
      'User-Agent': 'Twilio.TmeWs/1.0',
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, streamUrl, {}),
    }),
    async close() {
      await Promise.all([cartesia.close(), rest.close()]);
    },
  };
}

/** TwiML kinds the webhook answers with. */
export function twimlKind(twiml: string): 'connect' | 'refusal' | 'other' {
  if (/<Connect>\s*<Stream/.test(twiml)) return 'connect';
  if (/<Say[\s>]/.test(twiml) && /<Hangup\s*\/>/.test(twiml)) return 'refusal';
  return 'other';
}

/** The steps of the keypad claim, in order. */
export type ClaimStep = keyof typeof CLAIM.keys;
export const CLAIM_STEPS: ClaimStep[] = ['acknowledge', 'date', 'amount', 'confirm'];

/**
 * Files the claim on the keypad: waits for the greeting, then presses each step's keys and waits
 * for the bot's answer (not after `confirm`: the bot says goodbye and hangs up). `before(step)` runs
 * before a step's keys (where scenarios inject their fault); `until` stops after that step; `from`
 * resumes a call stopped that way (no greeting to wait for).
 */
export async function fileClaimByKeypad(
  call: TwilioCall,
  hooks: {
    before?: (step: ClaimStep) => Promise<void> | void;
    until?: ClaimStep;
    from?: ClaimStep;
    timeoutMs?: number;
  } = {},
): Promise<void> {
  const timeoutMs = hooks.timeoutMs ?? 60_000;
  // A call the server dropped fails the step at once instead of waiting out the timeout.
  const answer = (since: number) =>
    Promise.race([
      waitForBotToFinish(call, since, timeoutMs),
      call.waitForClosed(timeoutMs).then((c) => {
        throw new Error(`the call closed (${c.code} by ${c.by}) while waiting for the bot`);
      }),
    ]);
  if (!hooks.from) await answer(0);
  for (const step of CLAIM_STEPS.slice(hooks.from ? CLAIM_STEPS.indexOf(hooks.from) : 0)) {
    await hooks.before?.(step);
    const since = call.receivedBytes;
    for (const d of CLAIM.keys[step]) call.sendDtmf(d);
    if (step !== 'confirm') await answer(since);
    if (step === hooks.until) return;
  }
}

/** Reads the API (dashboard token) of a running server. */
export async function apiGet<T>(serverUrl: string, path: string): Promise<T> {
  const res = await fetch(`${serverUrl}${path}`, { headers: { Authorization: `Bearer ${DASHBOARD_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}
