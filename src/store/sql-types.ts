/**
 * The SQL surface shared by the sql adapter, the migration runner and the backends (PGlite in
 * process or in its worker thread, node-postgres). Types only.
 */

/** Result of one statement: only the rows are used. */
export interface SqlResult<R> {
  rows: R[];
}

/** What a transaction callback receives: the same connection for every statement. */
export interface SqlExecutor {
  /** One statement with `$1..$n` parameters. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
  /** Several `;`-separated statements, no parameters (migration files). */
  exec(sql: string): Promise<void>;
}

/** A connection (PGlite) or pool (pg). `close()` releases it; later calls reject. */
export interface SqlClient extends SqlExecutor {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` inside BEGIN/COMMIT on one connection; any rejection rolls back and is rethrown. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
