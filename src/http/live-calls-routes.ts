/**
 * The live calls API, behind the dashboard token like every /api route:
 *   GET /api/calls/live          the view across every instance (see src/ops/live-calls/types.ts)
 *   GET /api/calls/live/events   the same view as Server-Sent Events (`event: view`), sent at once
 *                                and again whenever it may have changed (a NOTIFY, a Realtime
 *                                change, a heartbeat tick), coalesced to one read per change for
 *                                all open streams.
 * A store that cannot be read answers 503 (JSON) or, on the stream, an `event: unavailable`.
 */
import { Router, type Response } from 'express';
import type { Logger } from 'pino';
import type { LiveCallsFeed, LiveCallsView } from '../ops/live-calls/types.js';
import { requireDashboardAccess, type AccessConfig } from './access.js';

/** Open event streams at most (each is a socket held open). */
const MAX_STREAMS = 100;
/** One read per change for every stream, at most this often. */
const COALESCE_MS = 250;
/** A comment line keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** The router and how to end its open streams (at shutdown, or the HTTP server never closes). */
export interface LiveCallsRoutes {
  router: Router;
  close(): void;
}

/** Builds the router mounted at /api/calls. */
export function createLiveCallsRouter(
  feed: LiveCallsFeed,
  access: AccessConfig,
  logger: Logger,
): LiveCallsRoutes {
  const r = Router();
  r.use(requireDashboardAccess(access));

  r.get('/live', async (_req, res) => {
    try {
      res.json(await feed.view());
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'live calls view failed');
      res.status(503).json({ error: 'live calls are unavailable: the store cannot be read' });
    }
  });

  const streams = new Set<Response>();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | null = null;
  const send = (res: Response, event: string, data: unknown) => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const broadcast = async () => {
    timer = undefined;
    const view: LiveCallsView | null = await feed.view().catch(() => null);
    for (const s of streams)
      if (view) send(s, 'view', view);
      else send(s, 'unavailable', { error: 'the store cannot be read' });
  };
  const schedule = () => {
    if (timer || streams.size === 0) return;
    timer = setTimeout(() => void broadcast(), COALESCE_MS);
    timer.unref();
  };

  r.get('/live/events', (req, res) => {
    if (streams.size >= MAX_STREAMS) {
      res.status(503).json({ error: 'too many live streams open' });
      return;
    }
    res.status(200).set({
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    streams.add(res);
    unsubscribe ??= feed.subscribe(schedule);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    void feed.view().then(
      (v) => send(res, 'view', v),
      () => send(res, 'unavailable', { error: 'the store cannot be read' }),
    );
    req.on('close', () => {
      clearInterval(keepalive);
      streams.delete(res);
      if (streams.size === 0) {
        unsubscribe?.();
        unsubscribe = null;
      }
    });
  });
  return {
    router: r,
    close() {
      if (timer) clearTimeout(timer);
      unsubscribe?.();
      unsubscribe = null;
      for (const s of streams) s.end();
      streams.clear();
    },
  };
}
