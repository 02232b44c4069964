/**
 * Picks the live calls feed for the store in use (composition root helper), in the store's own
 * order: Supabase (SUPABASE_URL + SUPABASE_KEY), PostgreSQL (DATABASE_URL), else in process (the
 * embedded PGlite serves one instance only). supabase-js is loaded only when Supabase is the
 * store (it costs ≈ 5 MB of every process that never uses it).
 */
import type { Logger } from 'pino';
import { createInProcessLiveFeed } from './in-process-feed.js';
import { createPostgresLiveFeed } from './postgres-feed.js';
import type { LiveCallTracker } from './tracker.js';
import type { LiveCallsFeed } from './types.js';

/** What the choice depends on. */
export interface LiveFeedConfig {
  databaseUrl?: string | undefined;
  supabaseUrl?: string | undefined;
  supabaseKey?: string | undefined;
  heartbeatMs: number;
}

/** Creates the feed (not started). */
export async function createLiveCallsFeed(
  cfg: LiveFeedConfig,
  tracker: LiveCallTracker,
  logger: Logger,
): Promise<LiveCallsFeed> {
  if (cfg.supabaseUrl && cfg.supabaseKey) {
    const { createSupabaseLiveFeed } = await import('./supabase-feed.js');
    return createSupabaseLiveFeed({
      url: cfg.supabaseUrl,
      key: cfg.supabaseKey,
      tracker,
      heartbeatMs: cfg.heartbeatMs,
      logger,
    });
  }
  if (cfg.databaseUrl)
    return createPostgresLiveFeed({
      connectionString: cfg.databaseUrl,
      tracker,
      heartbeatMs: cfg.heartbeatMs,
      logger,
    });
  return createInProcessLiveFeed({ tracker, heartbeatMs: cfg.heartbeatMs });
}
