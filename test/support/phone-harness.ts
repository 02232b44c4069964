/**
 * A whole phone stack for end-to-end tests and benchmarks: the real server (startServer) with the
 * real provider SDKs pointed at protocol-faithful fakes (Deepgram, OpenAI, Cartesia, Twilio REST),
 * the embedded PGlite store in a temp DATA_DIR, and simulated Twilio callers.
 *
 * Lifecycle: `const h = await startPhoneHarness(opts)`, `await h.call()` per caller, then
 * `await h.close()` (stops the server, flushes the store, closes every fake).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallTimings } from '../../machines/call/call.machine.js';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer, type ServerOverrides } from '../../src/http/start-server.js';
import type { ConversationDetail, ConversationStore } from '../../src/store/types.js';
import { startCartesiaFake, type CartesiaFake, type CartesiaFakeOptions } from '../fakes/cartesia-server.js';
import { startDeepgramFake, type DeepgramFake, type DeepgramFakeOptions } from '../fakes/deepgram-server.js';
import { startOpenAIFake, type OpenAIFake, type OpenAIFakeOptions } from '../fakes/openai-server.js';
import { startTwilioRestFake, type TwilioRestFake } from '../fakes/twilio-rest.js';
import { startTwilioCall, type StartTwilioCallOptions, type TwilioCall } from '../fakes/twilio-caller.js';
import { waitForBotToFinish } from '../../src/loadtest/bot-turns.js';

/** Which fakes to run (a role left out uses the local provider, as with a missing key). */
export interface PhoneHarnessOptions {
  deepgram?: DeepgramFakeOptions | false;
  openai?: OpenAIFakeOptions | false;
  cartesia?: CartesiaFakeOptions | false;
  /** Twilio credentials + REST fake + signed requests. Default true. */
  twilio?: boolean;
  /** Extra env for loadConfig. */
  env?: Record<string, string>;
  overrides?: ServerOverrides;
  /** Call-machine timers for every session (e.g. a stretched endpointing patience). */
  timings?: Partial<CallTimings>;
  /** Today's date for the claim guards (YYYY-MM-DD). */
  today?: string;
  /** pino level for the server. Default 'silent'. */
  logLevel?: AppConfig['LOG_LEVEL'];
  /** An existing store (benchmarks share one). */
  store?: ConversationStore;
}

/** A running stack. */
export interface PhoneHarness {
  server: RunningServer;
  config: AppConfig;
  deepgram: DeepgramFake | null;
  openai: OpenAIFake | null;
  cartesia: CartesiaFake | null;
  rest: TwilioRestFake | null;
  dataDir: string;
  /** Places a simulated call (signed when Twilio credentials are on). */
  call(opts?: Partial<StartTwilioCallOptions>): Promise<TwilioCall>;
  /**
   * Reads a conversation as the API returns it, after flushing the outbox; waits (up to 5 s) for
   * the call to have ended unless `ended: false`.
   */
  conversationByCallSid(callSid: string, opts?: { ended?: boolean }): Promise<ConversationDetail>;
  close(): Promise<void>;
}

const AUTH_TOKEN = 'test-twilio-auth-token';

/** Starts the stack (see file header). */
export async function startPhoneHarness(opts: PhoneHarnessOptions = {}): Promise<PhoneHarness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-phone-'));
  const deepgram = opts.deepgram === false ? null : await startDeepgramFake(opts.deepgram ?? {});
  const openai =
    opts.openai === undefined || opts.openai === false ? null : await startOpenAIFake(opts.openai);
  const cartesia = opts.cartesia === false ? null : await startCartesiaFake(opts.cartesia ?? {});
  const rest = opts.twilio === false ? null : await startTwilioRestFake({ authToken: AUTH_TOKEN });

  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: opts.logLevel ?? 'silent',
    ...(deepgram ? { DEEPGRAM_API_KEY: 'test-deepgram-key', DEEPGRAM_URL: deepgram.url } : {}),
    ...(openai ? { OPENAI_API_KEY: 'test-openai-key', OPENAI_BASE_URL: `${openai.url}/v1` } : {}),
    ...(cartesia ? { CARTESIA_API_KEY: 'test-cartesia-key', CARTESIA_URL: cartesia.url } : {}),
    ...opts.env,
  };
  // PUBLIC_URL must be known before the port is: sign against a fixed public name, like ngrok.
  if (rest) {
    Object.assign(env, {
      TWILIO_ACCOUNT_SID: rest.accountSid,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_URL: rest.url,
      PUBLIC_URL: 'https://statecall.example.test',
      DASHBOARD_TOKEN: 'test-dashboard-token',
    });
  }
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL, { pretty: false });
  const today = opts.today;
  const server = await startServer(config, logger, {
    ...(opts.store ? { store: opts.store } : {}),
    ...(today ? { today: () => today } : {}),
    ...(opts.timings ? { sessionTimings: opts.timings } : {}),
    ...opts.overrides,
  });

  return {
    server,
    config,
    deepgram,
    openai,
    cartesia,
    rest,
    dataDir,
    call: (o = {}) =>
      startTwilioCall({
        serverBaseUrl: server.url,
        from: '+15551234567',
        to: '+15557654321',
        ...(rest ? { authToken: AUTH_TOKEN, publicUrl: config.PUBLIC_URL!, rest } : {}),
        ...o,
      }),
    async conversationByCallSid(callSid, opts = {}) {
      // The session writes its last rows right after the socket closes: wait for `ended_at`.
      for (let attempt = 0; ; attempt++) {
        await server.flush();
        const list = await server.store.listConversations({ limit: 200 });
        const row = list.find((c) => c.call_sid === callSid);
        const detail = row ? await server.store.getConversation(row.id) : null;
        if (detail && (detail.conversation.ended_at || opts.ended === false)) return detail;
        if (attempt >= 50) {
          if (detail) return detail;
          throw new Error(`no conversation for ${callSid}`);
        }
        await sleep(100);
      }
    },
    async close() {
      await server.stop();
      await Promise.all([deepgram?.close(), openai?.close(), cartesia?.close(), rest?.close()]);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once the bot has answered (the load tester's own wait, shared). */
export { waitForBotToFinish };

/** Runs `body` against a fresh stack, closed afterwards whatever happens. */
export async function withPhoneHarness(
  opts: PhoneHarnessOptions,
  body: (h: PhoneHarness) => Promise<void>,
): Promise<void> {
  const h = await startPhoneHarness(opts);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/** Presses keys on the caller's keypad; with `wait`, until the bot has answered them. */
export async function pressKeys(call: TwilioCall, digits: string, wait = true): Promise<void> {
  const since = call.receivedBytes;
  for (const d of digits) call.sendDtmf(d);
  if (wait) await waitForBotToFinish(call, since);
}

/** The caller says `audio` once the bot is quiet, then waits for the bot's answer to finish. */
export async function sayAndWait(
  call: TwilioCall,
  audio: Uint8Array,
  opts: { speedup?: number; waitForAnswer?: boolean } = {},
): Promise<void> {
  const since = call.receivedBytes;
  await call.sendAudio(audio, opts.speedup ? { speedup: opts.speedup } : {});
  if (opts.waitForAnswer !== false) await waitForBotToFinish(call, since);
}
