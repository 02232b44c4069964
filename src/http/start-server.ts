/**
 * Builds and starts the whole server from a config: store → outbox → providers → app → listen.
 * Used by `main.ts`, the terminal chat (when no server is running) and end-to-end tests.
 *
 * `stop()` closes sockets, ends live calls, flushes the outbox (journaling what the database
 * refuses) and closes the store. It never throws.
 */
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomInt } from 'node:crypto';
import type { CallTimings } from '../../machines/call/call.machine.js';
import { generateClaimNumber } from '../../machines/claim/claim-number.js';
import type { Logger } from 'pino';
import { inspectHostOf, type AppConfig } from '../config.js';
import { createStoreFromConfig } from '../store/create-store.js';
import { lockDataDir } from '../store/data-dir-lock.js';
import { createOutbox } from '../store/outbox.js';
import { createClaimNumberPool } from '../store/claim-number-pool.js';
import { startCrashSweep } from '../store/crash-sweep.js';
import { resolveInstanceId } from '../store/instance-id.js';
import type { ConversationStore } from '../store/types.js';
import { createProviders, type Providers } from '../providers/create-providers.js';
import { warmUnderstanding } from '../providers/local/understand.js';
import type { DialogueProvider } from '../providers/types.js';
import { createTwilioHangUp } from '../transports/twilio/rest-client.js';
import { createTransferDesk, type TransferDesk } from '../transports/twilio/transfer-desk.js';
import { maskPhoneNumber } from '../privacy/phone-number.js';
import { registerTwilioRoutes } from '../transports/twilio/twilio-routes.js';
import { startCallSession, type CallSession, type SessionDeps } from '../session/call-session.js';
import { createOutboxWriter } from '../session/outbox-writer.js';
import type { SessionOptions, SessionTransport } from '../session/session-types.js';
import { createApp, type App } from './app.js';
import type { StatecallInspector } from '../inspect/inspector.js';
import { createSessionRegistry } from './session-registry.js';
import { createServerMetrics } from '../telemetry/metrics.js';
import { startTracing } from '../telemetry/tracing.js';
import { combineObservers } from '../telemetry/observers.js';
import { createLiveCallTracker } from '../ops/live-calls/tracker.js';
import { createLiveCallsFeed } from '../ops/live-calls/create-feed.js';
import { observedTransport } from './live-call-observer.js';
import { createRecordings } from '../recording/recordings.js';
import { createPostCallWebhook } from '../reports/post-call-webhook.js';
import { startupWarnings } from './startup-warnings.js';

/** Optional replacements, mostly for tests. */
export interface ServerOverrides {
  store?: ConversationStore;
  dialogue?: DialogueProvider;
  /** Replaces providers built from config (tests). */
  providers?: Partial<Omit<Providers, 'describe'>>;
  today?: () => string;
  /** Call-machine timers for every session (tests), under the session's own. */
  sessionTimings?: Partial<CallTimings>;
  /** Extra wiring (e.g. Twilio routes) before listening. */
  extend?: (app: App, ctx: { startSession: StartSession; deps: SessionDeps }) => void;
}

/** Starts a session on a transport. */
export type StartSession = (transport: SessionTransport, opts?: SessionOptions) => Promise<CallSession>;

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  store: ConversationStore;
  app: App;
  /** Whether the browser client (client/dist) is served at `/`. */
  clientBuilt: boolean;
  /** Waits until every queued write reached the store (or the journal). */
  flush(): Promise<void>;
  /**
   * Graceful drain (SIGTERM): admits no new call from now on (webhook: polite refusal, readiness
   * false), lets live calls finish for up to `timeoutMs` (or until `signal` aborts), then ends the
   * rest with a spoken goodbye and a REST hang-up and waits for them to close. Does not stop the
   * server: call `stop()` after it. Never rejects.
   */
  drain(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<DrainReport>;
  stop(): Promise<void>;
}

/** What a drain did. */
export interface DrainReport {
  /** Calls live when the drain started. */
  live: number;
  /** Of those, calls that ended by themselves within the timeout. */
  finished: number;
  /** Calls the server ended (goodbye + hang-up) when the timeout ran out. */
  hungUp: number;
}

/** How long calls told goodbye get to hang up before the server stops anyway. */
const HANG_UP_GRACE_MS = 10_000;

/** Resolves when every promise settled, or after `ms`, or when `signal` aborts. */
function settledWithin(promises: Promise<unknown>[], ms: number, signal?: AbortSignal): Promise<void> {
  if (promises.length === 0 || ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    void Promise.allSettled(promises).then(done);
  });
}

const todayIso = () => new Date().toISOString().slice(0, 10);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Transfers to a person, when TRANSFER_NUMBER is set (config makes sure the credentials are). */
function transferDeskOf(
  config: AppConfig,
  rest: Parameters<typeof createTransferDesk>[0]['redirect'],
  store: ConversationStore,
  logger: Logger,
): TransferDesk | null {
  if (!config.TRANSFER_NUMBER || !config.PUBLIC_URL) return null;
  logger.info({ transferTo: maskPhoneNumber(config.TRANSFER_NUMBER) }, 'transfers to a person: on');
  return createTransferDesk({
    number: config.TRANSFER_NUMBER,
    publicUrl: config.PUBLIC_URL,
    redirect: rest,
    companyName: config.COMPANY_NAME,
    logger: logger.child({ component: 'transfer' }),
    // A whisper for a transfer another instance made: the claim as stored.
    lookup: async (id) => {
      const c = UUID.test(id) ? (await store.getConversation(id))?.conversation : undefined;
      return c ? { claimId: c.claim_id, claimDate: c.claim_date, claimAmount: c.claim_amount } : null;
    },
  });
}

/** `client/dist` found by walking up from this file (works from `src/` with tsx and from `dist/src/`). */
function findClientDist(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'client', 'dist');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

/**
 * Builds and starts the server (see file header), holding the DATA_DIR lock for its lifetime (the
 * PGlite database and the outbox journal live there): throws DataDirLockedError, naming the
 * holder, when another live process has it. The lock records the port and goes at `stop()`.
 */
export async function startServer(
  config: AppConfig,
  logger: Logger,
  overrides: ServerOverrides = {},
): Promise<RunningServer> {
  const lock = lockDataDir(config.DATA_DIR, {
    purpose: 'server',
    onTakeover: (prev) =>
      logger.warn({ pid: prev?.pid, since: prev?.since }, 'DATA_DIR lock of a dead process taken over'),
  });
  try {
    const running = await startServerLocked(config, logger, overrides);
    lock.setPort(running.port);
    const stop = running.stop;
    return { ...running, stop: () => stop().finally(() => lock.release()) };
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startServerLocked(
  config: AppConfig,
  logger: Logger,
  overrides: ServerOverrides,
): Promise<RunningServer> {
  const startedAt = new Date().toISOString();
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  const instanceId = resolveInstanceId({ configured: config.INSTANCE_ID, dataDir: config.DATA_DIR });
  const built = overrides.store
    ? { store: overrides.store, description: overrides.store.kind }
    : await createStoreFromConfig({
        databaseUrl: config.DATABASE_URL,
        supabaseUrl: config.SUPABASE_URL,
        supabaseKey: config.SUPABASE_KEY,
        dataDir: config.DATA_DIR,
        pgliteWorker: config.PGLITE_WORKER !== 'off',
      });
  const store = built.store;
  await store.init();
  const outbox = createOutbox({
    store,
    journalPath: path.join(config.DATA_DIR, 'outbox-journal.jsonl'),
    logger: logger.child({ component: 'outbox' }),
    // The journal's writes and fdatasyncs run on libuv's threads, never on the event loop; only the
    // JSON lines are built here. JOURNAL_WORKER=on builds them in a worker thread too (≈ 20 MB and
    // a structured clone per group for that; the 50- and 200-call bench measured no gain).
    journalIn: config.JOURNAL_WORKER === 'on' ? 'worker' : 'thread',
    // One append and one fdatasync per window at most, however many calls write. Each fdatasync
    // costs ≈ 0.13 ms of a libuv thread plus its hand-off: at 20 ms (50 a second) they were 7% of
    // the engine's CPU at 50 calls (bench: 1.51x the bare pipeline's against 1.38x at 100 ms).
    journalGroupMs: config.JOURNAL_GROUP_MS,
    // Rows are durable in the journal at once; the database gets them in batches every 200 ms (a
    // 50-call bench: half the statements of 50 ms, each one a loopback write and a wake-up of a
    // PostgreSQL backend). Live views read notices, not rows, so nobody waits for the batch.
    flushIntervalMs: 200,
  });
  await outbox.start();
  const sweep = startCrashSweep({
    store,
    outbox,
    instanceId,
    startedAt,
    logger: logger.child({ component: 'crash-sweep' }),
  });
  // Claim numbers reserved ahead, so a greeting never waits for the database.
  const claimNumbers = createClaimNumberPool({
    store,
    generate: () => generateClaimNumber((max) => randomInt(max)),
    instanceId,
    logger: logger.child({ component: 'claim-numbers' }),
  });
  await claimNumbers.start();

  const today = overrides.today ?? todayIso;
  const fromConfig = createProviders(config, today);
  const providers = { ...fromConfig, ...overrides.providers };
  if (config.VAD === 'silero' && !providers.makeVad) {
    try {
      const { loadSileroVadFactory } = await import('../audio/silero-vad.js');
      const make = await loadSileroVadFactory();
      providers.makeVad = (o) => make(o);
      logger.info('VAD: Silero (onnxruntime-node)');
    } catch (err) {
      logger.warn(`VAD=silero unavailable (${(err as Error).message}); using the energy VAD`);
    }
  }
  if (overrides.dialogue) providers.dialogue = overrides.dialogue;
  // chrono and the rule tables compile on first use: pay that now, not on a caller's turn.
  logger.debug({ ms: Math.round(warmUnderstanding(today())) }, 'understanding warmed up');
  const dialogue = providers.dialogue;
  const local = providers.fallbackDialogue;
  const sessions = createSessionRegistry(config.MAX_CONCURRENT_CALLS, {
    reservationTtlMs: config.CALL_RESERVATION_TTL_S * 1000,
  });
  let inspector: StatecallInspector | null = null;
  if (config.INSPECT) {
    try {
      // Loaded only when asked for (development): the inspector library is not on a server's path.
      const { createInspector } = await import('../inspect/inspector.js');
      inspector = await createInspector({ port: config.INSPECT_PORT, host: inspectHostOf(config), logger });
      logger.info(`Stately inspector: open ${inspector.url} (phone numbers and claim values are masked)`);
    } catch (err) {
      logger.warn(
        { err: (err as Error).message },
        'Stately inspector could not start; calls go on without it',
      );
    }
  }
  const live = new Set<CallSession>();
  const metrics = createServerMetrics({
    activeCalls: () => sessions.stats().active,
    outboxPending: () => outbox.stats().pending,
  });
  const tracing = await startTracing(config, logger);
  // Calls in progress across instances (GET /api/calls/live): published off the audio path.
  const liveTracker = createLiveCallTracker({ instanceId, streamUrl: config.PUBLIC_STREAM_URL ?? null });
  const liveCalls = await createLiveCallsFeed(
    overrides.store
      ? { heartbeatMs: config.LIVE_HEARTBEAT_S * 1000 }
      : {
          databaseUrl: config.DATABASE_URL,
          supabaseUrl: config.SUPABASE_URL,
          supabaseKey: config.SUPABASE_KEY,
          heartbeatMs: config.LIVE_HEARTBEAT_S * 1000,
        },
    liveTracker,
    logger,
  );
  await liveCalls.start();
  const recordings = createRecordings({
    dir: config.RECORDING_DIR ?? path.join(config.DATA_DIR, 'recordings'),
    retentionDays: config.RECORDING_RETENTION_DAYS,
    logger: logger.child({ component: 'recordings' }),
  });
  recordings.startRetention();
  /** The server's public base URL (PUBLIC_URL, else the address it listens on), for report links. */
  let baseUrl = config.PUBLIC_URL?.replace(/\/+$/, '') ?? '';
  const postCall =
    config.POST_CALL_WEBHOOK_URL && config.POST_CALL_WEBHOOK_SECRET
      ? createPostCallWebhook({
          url: config.POST_CALL_WEBHOOK_URL,
          secret: config.POST_CALL_WEBHOOK_SECRET,
          dir: path.join(config.DATA_DIR, 'post-call'),
          waitForWrites: () => outbox.flush(),
          load: (id) => store.getConversation(id),
          recordingUrl: async (id) =>
            (await recordings.find(id)) ? `${baseUrl}/api/conversations/${id}/recording` : null,
          logger: logger.child({ component: 'post-call-webhook' }),
        })
      : null;
  await postCall?.start();

  const deps: SessionDeps = {
    store,
    writer: createOutboxWriter(
      outbox,
      postCall ? { onConversationEnded: (id) => postCall.conversationEnded(id) } : {},
    ),
    dialogue,
    fallbackDialogue: local,
    logger,
    companyName: config.COMPANY_NAME,
    maxClaimAmount: config.MAX_CLAIM_AMOUNT,
    today,
    claimNumbers,
    instanceId,
    ...(inspector ? { inspect: inspector.inspect } : {}),
    providerNames: { stt: providers.stt?.name ?? null, llm: dialogue.name, tts: null },
    observer: combineObservers([metrics.observer, tracing?.observer], logger),
    transferAfterMisunderstandings: config.TRANSFER_AFTER_MISUNDERSTANDINGS,
    preemptive: config.PREEMPTIVE_GENERATION === 'on',
  };
  const startSession: StartSession = async (transport, opts) => {
    const timings = { ...overrides.sessionTimings, ...opts?.timings };
    const s = await startCallSession(deps, observedTransport(liveTracker, transport, opts?.from), {
      ...opts,
      timings,
    });
    live.add(s);
    void s.done.then(() => {
      live.delete(s);
      liveTracker.callEnded(s.conversationId);
    });
    return s;
  };

  const audioProviders = config.RECORDING
    ? { ...providers, openRecorder: (id: string) => recordings.open(id) }
    : providers;

  const clientDir = findClientDist();
  const app = createApp({
    store,
    logger,
    access: {
      dashboardToken: config.DASHBOARD_TOKEN,
      publicUrl: config.PUBLIC_URL,
      allowedOrigins: config.ALLOWED_ORIGINS,
      metricsToken: config.METRICS_TOKEN,
    },
    sessions,
    startSession,
    health: () => ({
      outbox: outbox.stats(),
      providers: config.providers,
      ...(postCall ? { postCallWebhook: postCall.stats() } : {}),
    }),
    // Reachable = it answers now and the outbox is not spilling to its journal.
    checkStore: async () => {
      await store.ping();
      const { degraded, pending } = outbox.stats();
      return degraded
        ? { reachable: false, detail: `writes are going to the journal (${pending} pending)` }
        : { reachable: true };
    },
    clientDir,
    audioProviders,
    metrics,
    liveCalls,
    recordings,
  });
  const twilioRest =
    config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN
      ? createTwilioHangUp({
          accountSid: config.TWILIO_ACCOUNT_SID,
          authToken: config.TWILIO_AUTH_TOKEN,
          ...(config.TWILIO_API_URL ? { apiUrl: config.TWILIO_API_URL } : {}),
        })
      : null;
  registerTwilioRoutes(app, {
    config,
    sessions,
    startSession,
    providers: audioProviders,
    hangUp: twilioRest,
    transferDesk: twilioRest ? transferDeskOf(config, twilioRest, store, logger) : null,
    logger,
  });
  overrides.extend?.(app, { startSession, deps });

  const server = http.createServer(app.express);
  app.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  baseUrl ||= `http://${host}:${port}`;
  logger.info({ store: built.description }, `providers: ${providers.describe()}`);
  logger.info({ store: built.description, providers: config.providers }, 'statecall ready');
  for (const warning of startupWarnings(config, { clientBuilt: clientDir !== undefined }))
    logger.warn(warning);

  let stopping: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    store,
    app,
    clientBuilt: clientDir !== undefined,
    flush: () => outbox.flush(),
    async drain({ timeoutMs, signal }) {
      sessions.startDraining();
      liveTracker.setDraining();
      const atStart = [...live];
      logger.info(
        { live: atStart.length, timeoutS: Math.round(timeoutMs / 1000) },
        'draining: no new calls; live calls may finish',
      );
      await settledWithin(
        atStart.map((s) => s.done),
        timeoutMs,
        signal,
      );
      const left = [...live];
      if (left.length > 0) {
        logger.warn({ calls: left.length }, 'drain time is up: saying goodbye and hanging up');
        for (const s of left) s.hangUp('server_shutdown');
        await settledWithin(
          left.map((s) => s.done),
          HANG_UP_GRACE_MS,
        );
      }
      const report = { live: atStart.length, finished: atStart.length - left.length, hungUp: left.length };
      logger.info(report, 'drain complete');
      return report;
    },
    stop() {
      stopping ??= (async () => {
        sweep.stop();
        claimNumbers.stop();
        for (const s of live) s.stop('server_shutdown');
        app.close();
        await new Promise<void>((r) => server.close(() => r()));
        await recordings.stop();
        await postCall?.close();
        try {
          await outbox.close();
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'outbox close failed');
        }
        await inspector?.stop().catch(() => {});
        await tracing?.shutdown();
        await liveCalls.stop();
        try {
          await store.close();
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'store close failed');
        }
      })();
      return stopping;
    },
  };
}
