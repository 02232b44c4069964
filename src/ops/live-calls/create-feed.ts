/**
 * Picks the live calls feed for the store in use (composition root helper), in the store's own
 * order: Supabase (SUPABASE_URL + SUPABASE_KEY), PostgreSQL (DATABASE_URL), else in process (the
 * embedded PGlite serves one instance only).
 */
import type { Logger } from 'pino';
import { createInProcessLiveFeed } from './in-process-feed.js';
import { createPostgresLiveFeed } from './postgres-feed.js';
import { createSupabaseLiveFeed } from './supabase-feed.js';
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
export function createLiveCallsFeed(
  cfg: LiveFeedConfig,
  tracker: LiveCallTracker,
  logger: Logger,
): LiveCallsFeed {
  if (cfg.supabaseUrl && cfg.supabaseKey)
    return createSupabaseLiveFeed({
      url: cfg.supabaseUrl,
      key: cfg.supabaseKey,
      tracker,
      heartbeatMs: cfg.heartbeatMs,
      logger,
    });
  if (cfg.databaseUrl)
    return createPostgresLiveFeed({
      connectionString: cfg.databaseUrl,
      tracker,
      heartbeatMs: cfg.heartbeatMs,
      logger,
    });
  return createInProcessLiveFeed({ tracker, heartbeatMs: cfg.heartbeatMs });
}
