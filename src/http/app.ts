/**
 * `createApp(deps)`: the HTTP app and WebSocket routing, without `listen` (tests bind it to an
 * ephemeral port; `main.ts` to PORT).
 *
 * Routes: GET /healthz (liveness: the process answers; reports the store and the outbox),
 * GET /readyz (readiness: 200 or 503 with the checks: store reachable, not draining, a call slot
 * free), GET /metrics (Prometheus, when given), /api/* (conversation data), WS /client/stream (browser/terminal calls, src/transports/browser/browser-codec.ts).
 * The Twilio routes are mounted by `registerTwilioRoutes` when present.
 */
import http from 'node:http';
import express, { type Express } from 'express';
import { WebSocketServer } from 'ws';
import type { Logger } from 'pino';
import type { ConversationStore } from '../store/types.js';
import { createApiRouter, type RecordingFinder } from './api-routes.js';
import { checkDashboardAccess, checkMetricsAccess, checkOrigin, type AccessConfig } from './access.js';
import { runCall, type AudioProviders, type SessionStarter } from '../transports/call-orchestration.js';
import { wsCallSocket } from '../transports/call-socket.js';
import { createBrowserAudioCodec, createBrowserTextCodec } from '../transports/browser/browser-codec.js';
import type { SessionRegistry } from './session-registry.js';
import type { RouteHost, WsRoute } from '../transports/host.js';
import type { LiveCallsFeed } from '../ops/live-calls/types.js';
import { createLiveCallsRouter } from './live-calls-routes.js';

/** What the app needs from the composition root. */
export interface AppDeps {
  store: ConversationStore;
  logger: Logger;
  access: AccessConfig;
  sessions: SessionRegistry;
  startSession: SessionStarter;
  /** Extra numbers for /healthz (outbox counters, providers). */
  health?: () => Record<string, unknown>;
  /**
   * Whether the store answers (the composition root wires it to the store and the outbox). Default:
   * a one-row `listConversations`. It is time-boxed to `probeTimeoutMs`: a hanging database makes
   * the probes report `reachable: false`, it never hangs them.
   */
  checkStore?: () => Promise<StoreCheck>;
  /** Time box of `checkStore` in the probes. Default 1000 ms. */
  probeTimeoutMs?: number;
  /** Static folder served at / (the built browser client), if present. */
  clientDir?: string;
  /** Providers for browser audio calls (`/client/stream?audio=1`); without them audio is refused. */
  audioProviders?: AudioProviders;
  /** Prometheus metrics served at `GET /metrics` (behind {@link checkMetricsAccess}). */
  metrics?: { contentType: string; render(): Promise<string> };
  /** Calls in progress across instances (`GET /api/calls/live`); without it the route is absent. */
  liveCalls?: LiveCallsFeed;
  /** Call recordings, served at GET /api/conversations/:id/recording. */
  recordings?: RecordingFinder;
}

/** What a store check found. */
export interface StoreCheck {
  reachable: boolean;
  detail?: string;
}

/** The app plus its WebSocket routing. */
export interface App extends RouteHost {
  express: Express;
  /** The admission registry (the composition root calls `sessions.startDraining()` on SIGTERM). */
  sessions: SessionRegistry;
  /** Adds a WebSocket route (before `attach`). */
  addWsRoute(route: WsRoute): void;
  /**
   * Hooks the WebSocket upgrade handling into an HTTP server, and closes the HTTP route list with
   * the JSON 404 and the JSON error answer: call it once every HTTP route is added.
   */
  attach(server: http.Server): void;
  /** Closes every WebSocket. */
  close(): void;
}

/** Unknown routes: a JSON 404 (not Express's HTML page). */
function notFound(req: express.Request, res: express.Response): void {
  res.status(404).json({ error: `no route for ${req.method} ${req.path.slice(0, 200)}` });
}

/** What a client error (body-parser's, a malformed URL...) is called in the answer. */
const CLIENT_ERRORS: Record<string, string> = {
  'entity.too.large': 'request body too large',
  'entity.parse.failed': 'malformed request body',
  'parameters.too.many': 'too many form parameters',
  'charset.unsupported': 'unsupported charset',
  'encoding.unsupported': 'unsupported content encoding',
  'request.aborted': 'request aborted',
  'request.size.invalid': 'request body size does not match Content-Length',
};

/**
 * The last error handler: a client error (an http-errors 4xx, as body-parser raises for a body too
 * large, malformed, with too many parameters, an unknown charset or a bad gzip stream) answers its
 * own status with a JSON error; anything else is a logged 500 `internal error`. Messages are ours,
 * never the parser's (which may quote the body).
 */
function errorAnswer(logger: Logger) {
  return (err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const e = (err ?? {}) as {
      status?: unknown;
      statusCode?: unknown;
      type?: unknown;
      code?: unknown;
      message?: unknown;
    };
    const status = typeof e.status === 'number' ? e.status : e.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const type = typeof e.type === 'string' ? e.type : undefined;
      // A broken gzip/deflate/br stream surfaces as zlib's error wrapped in a 400, without a type.
      const zlib = typeof e.code === 'string' && e.code.startsWith('Z_');
      const message =
        (type && CLIENT_ERRORS[type]) ??
        (zlib ? 'malformed compressed body' : undefined) ??
        http.STATUS_CODES[status] ??
        'bad request';
      logger.debug({ status, type }, 'request refused');
      if (!res.headersSent) res.status(status).json({ error: message, ...(type ? { type } : {}) });
      return;
    }
    logger.error({ err: String(e.message ?? err) }, 'request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  };
}

/**
 * The store check of the probes: time-boxed, and shared while one is in flight (a hanging
 * database must not pile up one pending query per probe).
 */
function createStoreProbe(deps: AppDeps): () => Promise<StoreCheck> {
  const check =
    deps.checkStore ??
    (async () => {
      await deps.store.listConversations({ limit: 1 });
      return { reachable: true };
    });
  const timeoutMs = deps.probeTimeoutMs ?? 1000;
  let inFlight: Promise<StoreCheck> | null = null;
  const run = async (): Promise<StoreCheck> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<StoreCheck>((resolve) => {
      timer = setTimeout(
        () => resolve({ reachable: false, detail: `no answer within ${timeoutMs} ms` }),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([
        check().catch((err: unknown) => ({
          reachable: false,
          detail: String((err as Error)?.message ?? err).slice(0, 200),
        })),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  return () => {
    inFlight ??= run().finally(() => (inFlight = null));
    return inFlight;
  };
}

/** Builds the app (see file header). */
export function createApp(deps: AppDeps): App {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));
  app.use(express.json({ limit: '64kb' }));

  const checkStore = createStoreProbe(deps);
  // Liveness: the process answers. Always 200; the store's state is reported, not judged.
  app.get('/healthz', async (_req, res) => {
    const calls = deps.sessions.stats();
    const store = await checkStore();
    res.json({
      ok: true,
      activeCalls: calls.active,
      reservedCalls: calls.reserved,
      draining: calls.draining,
      ...deps.health?.(),
      store: { kind: deps.store.kind, ...store },
    });
  });
  // Readiness: should a load balancer send new calls here? Store reachable, not draining, a slot free.
  app.get('/readyz', async (_req, res) => {
    const store = await checkStore();
    const calls = deps.sessions.stats();
    const checks = {
      store: {
        ok: store.reachable,
        kind: deps.store.kind,
        ...(store.detail ? { detail: store.detail } : {}),
      },
      draining: { ok: !calls.draining },
      capacity: {
        ok: calls.active + calls.reserved < calls.limit,
        active: calls.active,
        reserved: calls.reserved,
        limit: calls.limit,
      },
    };
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ ready, checks });
  });
  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (req, res) => {
      const decision = checkMetricsAccess(req, deps.access);
      if (!decision.ok) {
        res.status(decision.status).json({ error: decision.message });
        return;
      }
      res.type(metrics.contentType).send(await metrics.render());
    });
  }
  const liveCalls = deps.liveCalls ? createLiveCallsRouter(deps.liveCalls, deps.access, deps.logger) : null;
  if (liveCalls) app.use('/api/calls', liveCalls.router);
  app.use('/api', createApiRouter(deps.store, deps.access, deps.recordings));
  if (deps.clientDir) app.use(express.static(deps.clientDir, { index: 'index.html' }));

  let tailInstalled = false;
  const routes = new Map<string, { wss: WebSocketServer; route: WsRoute }>();
  const addWsRoute = (route: WsRoute) => {
    // Text frames are decoded by the codecs (bad bytes become U+FFFD, and every field is then
    // validated): ws's own UTF-8 pass over every 20 ms frame would only close the socket for them.
    const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024, skipUTF8Validation: true });
    wss.on('connection', (ws, req) => route.onConnection(ws, req));
    routes.set(route.path, { wss, route });
  };

  addWsRoute({
    path: '/client/stream',
    authorize: (req) => {
      const origin = checkOrigin(req, deps.access);
      return origin.ok ? checkDashboardAccess(req, deps.access) : origin;
    },
    onConnection: (ws, req) => {
      const wantsAudio = new URL(req.url ?? '/', 'http://x').searchParams.get('audio') === '1';
      if (wantsAudio && !deps.audioProviders) {
        ws.send(JSON.stringify({ event: 'error', message: 'audio calls are not enabled on this server' }));
        ws.close(1003, 'audio not enabled');
        return;
      }
      // The slot is taken only now that the socket is open: a refused upgrade holds nothing.
      const slot = deps.sessions.tryAcquire();
      if (!slot) {
        const draining = deps.sessions.isDraining();
        ws.send(
          JSON.stringify({
            event: 'error',
            message: draining
              ? 'the server is restarting and takes no new calls: try again in a minute'
              : 'the bot is at capacity, try again shortly',
          }),
        );
        ws.close(1013, draining ? 'server draining' : 'at capacity');
        return;
      }
      ws.once('close', () => slot.release());
      runCall(wsCallSocket(ws), wantsAudio ? createBrowserAudioCodec() : createBrowserTextCodec(), {
        startSession: deps.startSession,
        logger: deps.logger,
        audio: wantsAudio ? (deps.audioProviders ?? null) : null,
      });
    },
  });

  return {
    express: app,
    sessions: deps.sessions,
    addWsRoute,
    attach(server) {
      // Last in the chain, so after every route added since createApp (the Twilio routes, extend).
      if (!tailInstalled) {
        tailInstalled = true;
        app.use(notFound);
        app.use(errorAnswer(deps.logger));
      }
      server.on('upgrade', (req, socket, head) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const entry = routes.get(path);
        if (!entry) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
          return;
        }
        const decision = entry.route.authorize?.(req) ?? { ok: true as const };
        if (!decision.ok) {
          const body = JSON.stringify({ error: decision.message });
          socket.end(
            `HTTP/1.1 ${decision.status} ${http.STATUS_CODES[decision.status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
          return;
        }
        entry.wss.handleUpgrade(req, socket, head, (ws) => entry.wss.emit('connection', ws, req));
      });
    },
    close() {
      liveCalls?.close();
      for (const { wss } of routes.values()) {
        for (const c of wss.clients) c.terminate();
        wss.close();
      }
    },
  };
}
