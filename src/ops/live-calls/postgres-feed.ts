/**
 * The live calls feed over PostgreSQL: every instance upserts its heartbeat row in
 * `live_instances` (supabase/migrations/20261202000000_live_instances.sql) through the publisher,
 * and keeps one dedicated connection on `LISTEN statecall_live_calls`, which the table's trigger
 * notifies whenever any instance's calls or drain state change. The view is one query that keeps
 * only instances whose heartbeat (database clock) is younger than three intervals.
 *
 * LISTEN needs a session connection (a direct connection or a session-mode pooler; a
 * transaction-mode pooler drops notifications). Without notifications the view still refreshes on
 * every heartbeat. The listening connection reconnects with backoff (1 s doubling to 30 s); while
 * it is down, subscribers still hear the heartbeat ticks.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { startLivePublisher, type LivePublisher } from './publisher.js';
import type { LiveCallTracker } from './tracker.js';
import { buildLiveCallsView, type InstanceRow } from './view.js';
import { EXPIRY_HEARTBEATS, type InstanceState, type LiveCallsFeed } from './types.js';
import { createChangeListeners } from './listeners.js';

/** The NOTIFY channel the migration's trigger uses. */
export const LIVE_CALLS_CHANNEL = 'statecall_live_calls';

/** Rows of instances dead for this long are deleted by any instance's heartbeat. */
const GARBAGE_AFTER_MS = 3_600_000;

/** Options of {@link createPostgresLiveFeed}. */
export interface PostgresLiveFeedOptions {
  connectionString: string;
  /** Schema of the tables (tests); default: the server's search_path. */
  schema?: string | undefined;
  tracker: LiveCallTracker;
  heartbeatMs: number;
  logger: Logger;
  now?: () => Date;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const UPSERT = `insert into live_instances (instance_id, started_at, draining, stream_url, calls)
  values ($1, $2, $3, $4, $5::jsonb)
  on conflict (instance_id) do update set started_at = excluded.started_at, draining = excluded.draining,
    stream_url = excluded.stream_url, calls = excluded.calls`;

const SELECT_LIVE = `select instance_id, started_at, heartbeat_at, draining, stream_url, calls
  from live_instances where heartbeat_at > now() - make_interval(secs => $1::double precision)`;

interface Row {
  instance_id: string;
  started_at: Date | string;
  heartbeat_at: Date | string;
  draining: boolean;
  stream_url: string | null;
  calls: unknown;
}

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

/** Creates the feed (see file header); nothing connects before `start()`. */
export function createPostgresLiveFeed(opts: PostgresLiveFeedOptions): LiveCallsFeed {
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema))
    throw new Error(`invalid schema name: ${opts.schema}`);
  const connection = {
    connectionString: opts.connectionString,
    ...(opts.schema !== undefined ? { options: `-c search_path="${opts.schema}"` } : {}),
    connectionTimeoutMillis: 5_000,
  };
  const pool = new pg.Pool({ ...connection, max: 2, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
  pool.on('error', () => {});
  const listeners = createChangeListeners();
  const log = opts.logger.child({ component: 'live-calls' });
  const now = opts.now ?? (() => new Date());
  let publisher: LivePublisher | null = null;
  let listenClient: pg.Client | null = null;
  let reconnect: NodeJS.Timeout | undefined;
  let backoffMs = 1_000;
  let stopped = false;
  /** One warning per outage of the LISTEN connection, not one per retry. */
  let listenFailing = false;

  const tell = () => listeners.tell();

  const write = async (state: InstanceState) => {
    await pool.query(UPSERT, [
      state.instanceId,
      state.startedAt,
      state.draining,
      state.streamUrl,
      JSON.stringify(state.calls),
    ]);
  };

  const listen = async (): Promise<void> => {
    if (stopped) return;
    const client = new pg.Client(connection);
    const retry = () => {
      if (listenClient !== client) return;
      listenClient = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (stopped) return;
      reconnect = setTimeout(() => void listen(), backoffMs);
      reconnect.unref();
      backoffMs = Math.min(30_000, backoffMs * 2);
    };
    listenClient = client;
    client.on('error', (err) => {
      if (!listenFailing) log.warn({ err: err.message }, 'live calls: LISTEN connection lost; reconnecting');
      listenFailing = true;
      retry();
    });
    client.on('end', retry);
    client.on('notification', (n) => {
      if (n.channel === LIVE_CALLS_CHANNEL) tell();
    });
    try {
      await client.connect();
      await client.query(`listen ${LIVE_CALLS_CHANNEL}`);
      backoffMs = 1_000;
      if (listenFailing) log.info('live calls: listening again');
      listenFailing = false;
      // Changes made while we were not listening: look again.
      tell();
    } catch (err) {
      if (!listenFailing) log.warn({ err: (err as Error).message }, 'live calls: could not LISTEN; retrying');
      listenFailing = true;
      retry();
    }
  };

  return {
    source: 'postgres',
    async start() {
      // Nothing here waits for the database: a server starting while it is down still serves calls.
      void listen();
      publisher = startLivePublisher({
        tracker: opts.tracker,
        write,
        heartbeatMs: opts.heartbeatMs,
        logger: log,
        onHeartbeat: () => {
          tell();
          void pool
            .query('delete from live_instances where heartbeat_at < now() - make_interval(secs => $1)', [
              GARBAGE_AFTER_MS / 1000,
            ])
            .catch(() => {});
        },
      });
    },
    async view() {
      const expirySecs = (opts.heartbeatMs * EXPIRY_HEARTBEATS) / 1000;
      const { rows } = await pool.query<Row>(SELECT_LIVE, [expirySecs]);
      const instanceRows: InstanceRow[] = rows.map((r) => ({
        instanceId: r.instance_id,
        startedAt: iso(r.started_at),
        heartbeatAt: iso(r.heartbeat_at),
        draining: r.draining,
        streamUrl: r.stream_url,
        calls: r.calls,
      }));
      return buildLiveCallsView({
        source: 'postgres',
        instanceId: opts.tracker.instanceId,
        heartbeatMs: opts.heartbeatMs,
        rows: instanceRows,
        now: now(),
      });
    },
    subscribe: (listener) => listeners.subscribe(listener),
    async stop() {
      stopped = true;
      if (reconnect) clearTimeout(reconnect);
      await publisher?.stop();
      // A clean stop leaves the view at once (a killed instance leaves it at heartbeat expiry).
      // Bounded: a database that is down must not hold the shutdown.
      await Promise.race([
        pool
          .query('delete from live_instances where instance_id = $1', [opts.tracker.instanceId])
          .catch(() => {}),
        new Promise((r) => setTimeout(r, 2_000).unref()),
      ]);
      const client = listenClient;
      listenClient = null;
      await client?.end().catch(() => {});
      await pool.end().catch(() => {});
      listeners.clear();
    },
  };
}
