/**
 * The live calls feed over Supabase (supabase-js): each instance upserts its heartbeat row in
 * `live_instances` through the Data API, and listens to that table's changes on a Supabase
 * Realtime channel (`postgres_changes`; the migration adds the table to the `supabase_realtime`
 * publication). Polling fallback: every heartbeat tick tells the subscribers to read again, so the
 * view stays right (within one heartbeat) when Realtime is off, refused or disconnected.
 *
 * The expiry cut-off is computed on this instance's clock against heartbeat times written by the
 * database's clock (the table's trigger): keep the servers on NTP. The Realtime part is written
 * against the documented supabase-js channel API and is not exercised by the test suite (there is
 * no Realtime server here); the writes, the reads and the polling are, against the PostgREST fake.
 */
import {
  createClient,
  type RealtimeChannel,
  type SupabaseClient,
  type WebSocketLikeConstructor,
} from '@supabase/supabase-js';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { startLivePublisher, type LivePublisher } from './publisher.js';
import type { LiveCallTracker } from './tracker.js';
import { buildLiveCallsView, type InstanceRow } from './view.js';
import { EXPIRY_HEARTBEATS, type InstanceState, type LiveCallsFeed } from './types.js';
import { createChangeListeners } from './listeners.js';

/** Options of {@link createSupabaseLiveFeed}. */
export interface SupabaseLiveFeedOptions {
  url: string;
  /** Service-role key. */
  key: string;
  tracker: LiveCallTracker;
  heartbeatMs: number;
  logger: Logger;
  /** Subscribe to Realtime changes (default true); false = polling only. */
  realtime?: boolean;
  now?: () => Date;
}

interface Row {
  instance_id: string;
  started_at: string;
  heartbeat_at: string;
  draining: boolean;
  stream_url: string | null;
  calls: unknown;
}

/** Creates the feed (see file header); nothing is sent before `start()`. */
export function createSupabaseLiveFeed(opts: SupabaseLiveFeedOptions): LiveCallsFeed {
  const client: SupabaseClient = createClient(opts.url, opts.key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    db: { timeout: 10_000 },
    realtime: { transport: WebSocket as unknown as WebSocketLikeConstructor },
  });
  const log = opts.logger.child({ component: 'live-calls' });
  const now = opts.now ?? (() => new Date());
  const listeners = createChangeListeners();
  let publisher: LivePublisher | null = null;
  let channel: RealtimeChannel | null = null;
  const tell = () => listeners.tell();

  const write = async (state: InstanceState) => {
    const { error } = await client.from('live_instances').upsert(
      {
        instance_id: state.instanceId,
        started_at: state.startedAt,
        draining: state.draining,
        stream_url: state.streamUrl,
        calls: state.calls,
      },
      { onConflict: 'instance_id' },
    );
    if (error) throw new Error(`live_instances upsert: ${error.message}`);
  };

  return {
    source: 'supabase',
    async start() {
      if (opts.realtime !== false) {
        channel = client
          .channel('statecall-live-calls')
          .on('postgres_changes', { event: '*', schema: 'public', table: 'live_instances' }, () => tell())
          .subscribe((status, err) => {
            if (status === 'SUBSCRIBED') log.info('live calls: Supabase Realtime subscribed');
            else if (status !== 'CLOSED')
              log.warn(
                { status, err: err?.message },
                'live calls: Supabase Realtime unavailable; polling every heartbeat',
              );
          });
      }
      publisher = startLivePublisher({
        tracker: opts.tracker,
        write,
        heartbeatMs: opts.heartbeatMs,
        logger: log,
        onHeartbeat: tell,
      });
    },
    async view() {
      const at = now();
      const cutoff = new Date(at.getTime() - opts.heartbeatMs * EXPIRY_HEARTBEATS).toISOString();
      const { data, error } = await client
        .from('live_instances')
        .select('instance_id,started_at,heartbeat_at,draining,stream_url,calls')
        .gt('heartbeat_at', cutoff);
      if (error) throw new Error(`live_instances select: ${error.message}`);
      const rows: InstanceRow[] = ((data ?? []) as Row[]).map((r) => ({
        instanceId: r.instance_id,
        startedAt: new Date(r.started_at).toISOString(),
        heartbeatAt: new Date(r.heartbeat_at).toISOString(),
        draining: r.draining,
        streamUrl: r.stream_url,
        calls: r.calls,
      }));
      return buildLiveCallsView({
        source: 'supabase',
        instanceId: opts.tracker.instanceId,
        heartbeatMs: opts.heartbeatMs,
        rows,
        now: at,
      });
    },
    subscribe: (listener) => listeners.subscribe(listener),
    async stop() {
      await publisher?.stop();
      if (channel) {
        await client.removeChannel(channel).catch(() => {});
        client.realtime.disconnect();
      }
      // A clean stop leaves the view at once; if the delete fails the row expires.
      await Promise.race([
        Promise.resolve(
          client.from('live_instances').delete().eq('instance_id', opts.tracker.instanceId),
        ).catch(() => {}),
        new Promise((r) => setTimeout(r, 2_000).unref()),
      ]);
      listeners.clear();
    },
  };
}
