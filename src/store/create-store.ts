/**
 * Picks the storage adapter from configuration (composition root helper).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createSqlStore } from './sql-store.js';
import type { ConversationStore } from './types.js';

/** The storage part of the configuration. */
export interface StoreConfig {
  databaseUrl?: string | undefined;
  supabaseUrl?: string | undefined;
  supabaseKey?: string | undefined;
  dataDir: string;
  /** Embedded PGlite in a worker thread (default true); false = in-process (`PGLITE_WORKER=off`). */
  pgliteWorker?: boolean | undefined;
}

/** A store plus a one-line description for start-up logs (never contains a password or key). */
export interface CreatedStore {
  store: ConversationStore;
  description: string;
}

/** `postgres://user:secret@host:5432/db?sslmode=require` -> `postgres://user@host:5432/db`. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `${u.protocol}//${user}${u.host}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

/**
 * Chooses, in order: supabase (SUPABASE_URL + SUPABASE_KEY), PostgreSQL (DATABASE_URL), else the
 * embedded PGlite in `<dataDir>/pglite` (directory created). Throws if only one of SUPABASE_URL /
 * SUPABASE_KEY is set. The store is not initialized: call
 * `store.init()` (it connects and, for sql adapters, migrates; it rejects with a clear message
 * when the database is unreachable or, for supabase, when the schema was not pushed).
 */
export async function createStoreFromConfig(cfg: StoreConfig): Promise<CreatedStore> {
  // Half a supabase configuration is a mistake, not a request for the fallback.
  if (Boolean(cfg.supabaseUrl) !== Boolean(cfg.supabaseKey)) {
    throw new Error('SUPABASE_URL and SUPABASE_KEY must be set together (or neither)');
  }
  if (cfg.supabaseUrl && cfg.supabaseKey) {
    let where = cfg.supabaseUrl;
    try {
      where = new URL(cfg.supabaseUrl).origin;
    } catch {
      /* keep as given; it is a URL, not a secret */
    }
    // Loaded only for Supabase: supabase-js costs ≈ 5 MB of every process that never uses it.
    const { createSupabaseStore } = await import('./supabase-store.js');
    return {
      store: createSupabaseStore({ url: cfg.supabaseUrl, key: cfg.supabaseKey }),
      description: `supabase at ${where}`,
    };
  }
  if (cfg.databaseUrl) {
    return {
      store: createSqlStore({ kind: 'postgres', connectionString: cfg.databaseUrl }),
      description: `postgres at ${describeDatabaseUrl(cfg.databaseUrl)}`,
    };
  }
  const dataDir = resolve(cfg.dataDir, 'pglite');
  await mkdir(dataDir, { recursive: true });
  return {
    store: createSqlStore({ kind: 'pglite', dataDir, worker: cfg.pgliteWorker ?? true }),
    description: `embedded PGlite at ${join(cfg.dataDir, 'pglite')}${cfg.pgliteWorker === false ? ' (in process)' : ''}`,
  };
}
