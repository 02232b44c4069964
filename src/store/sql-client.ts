/**
 * The minimal SQL surface the sql adapter and the migration runner need, over two backends:
 * PGlite (embedded Postgres in WASM; by default in a worker thread, see pglite-worker-client.ts) and
 * node-postgres (a `pg.Pool`).
 * Nothing outside `src/store` should depend on this module.
 */
import { pgliteCreateOptions } from './pglite-options.js';
import pg from 'pg';
import { openPgliteWorker } from './pglite-worker-client.js';

export type { SqlClient, SqlExecutor, SqlResult } from './sql-types.js';
import type { SqlClient, SqlExecutor } from './sql-types.js';

/** Where the sql adapter keeps its data. */
export type SqlClientOptions =
  | {
      kind: 'pglite';
      /** Directory of the database files; `undefined` = in memory (tests). */
      dataDir?: string | undefined;
      /**
       * Run PGlite in a worker thread (default true) so its WASM and file writes stay off the main
       * event loop; false keeps it in-process (`PGLITE_WORKER=off`).
       */
      worker?: boolean | undefined;
    }
  | {
      kind: 'postgres';
      connectionString: string;
      /**
       * Schema to work in (created if missing, then first on every connection's search_path).
       * Lets tests isolate themselves in one database; `undefined` = the server's default.
       */
      schema?: string | undefined;
      /** Pool size (default 10). */
      max?: number;
    };

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes an identifier that already passed {@link SCHEMA_NAME}. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Opens a client. PGlite boots its WASM Postgres here (about 2 s, in its worker unless `worker: false`); pg connects lazily, except that
 * a requested `schema` is created right away (so an unreachable server fails here).
 */
export async function openSqlClient(opts: SqlClientOptions): Promise<SqlClient> {
  if (opts.kind === 'postgres') return openPostgres(opts);
  if (opts.worker === false) return openPgliteInProcess(opts.dataDir);
  try {
    return await openPgliteWorker(opts.dataDir);
  } catch (err) {
    if (opts.dataDir === undefined) throw err;
    throw new PgliteOpenError(opts.dataDir, err);
  }
}

/**
 * The embedded database did not open (damaged files, or a folder that is not a PGlite database).
 * Nothing was changed or deleted: the message says how to recover by hand.
 */
export class PgliteOpenError extends Error {
  constructor(
    readonly dataDir: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `PGlite could not open the database in ${dataDir} (${reason}). Its files may be damaged; nothing was ` +
        `changed or deleted. To recover: stop every process using this folder, move it aside ` +
        `(e.g. mv ${dataDir} ${dataDir}.broken-${new Date().toISOString().slice(0, 10)}), then restore a ` +
        `backup copy there, or start again to create an empty database. The outbox journal next to it is ` +
        `kept and replayed into whichever database starts.`,
      { cause },
    );
    this.name = 'PgliteOpenError';
  }
}

async function openPgliteInProcess(dataDir: string | undefined): Promise<SqlClient> {
  // Imported lazily: the WASM bundle is only loaded by deployments that use it.
  const { PGlite } = await import('@electric-sql/pglite');
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(pgliteCreateOptions(dataDir, PGlite.defaultStartParams));
  } catch (err) {
    if (dataDir === undefined) throw err;
    throw new PgliteOpenError(dataDir, err);
  }
  const executor = (q: Pick<typeof db, 'query' | 'exec'>): SqlExecutor => ({
    async query<R>(text: string, params?: readonly unknown[]) {
      const res = await q.query<R>(text, params ? [...params] : undefined);
      return { rows: res.rows };
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  return {
    kind: 'pglite',
    ...executor(db),
    transaction: (fn) => db.transaction((tx) => fn(executor(tx))),
    close: () => db.close(),
  };
}

async function openPostgres(opts: Extract<SqlClientOptions, { kind: 'postgres' }>): Promise<SqlClient> {
  const { schema } = opts;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    // The schema goes first on every connection's search_path via a startup option (no extra
    // round trip, and no query racing the pool's first one).
    ...(schema !== undefined ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
    max: opts.max ?? 10,
    // Fail fast when the server is unreachable: the outbox owns retries.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 10_000,
    statement_timeout: 15_000,
    query_timeout: 20_000,
    allowExitOnIdle: true,
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled it would crash the
  // process. The next query simply gets a fresh connection.
  pool.on('error', () => {});
  if (schema !== undefined) {
    try {
      await pool.query(`create schema if not exists ${quoteIdent(schema)}`);
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }
  const executor = (q: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async query<R>(text: string, params?: readonly unknown[]) {
      const res = await q.query(text, params ? [...params] : undefined);
      return { rows: res.rows as R[] };
    },
    async exec(sql: string) {
      // No parameters = simple query protocol, which accepts several statements.
      await q.query(sql);
    },
  });
  return {
    kind: 'postgres',
    ...executor(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn(executor(client));
        await client.query('commit');
        client.release();
        return result;
      } catch (err) {
        // A failed rollback means the connection is unusable: destroy it instead of pooling it.
        const rolledBack = await client.query('rollback').then(
          () => true,
          () => false,
        );
        client.release(rolledBack ? undefined : true);
        throw err;
      }
    },
    close: () => pool.end(),
  };
}
