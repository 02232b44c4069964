/**
 * A scratch PostgreSQL database for one scenario, on the local server (FAULTS_PG_URL, else the
 * server of TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432): created empty, dropped
 * (with its connections) afterwards. The server under test migrates it itself.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** The admin URL (database `postgres`) of the local server. */
export function adminUrl(): string {
  const u = new URL(
    process.env.FAULTS_PG_URL ??
      process.env.TEST_DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
  );
  u.pathname = '/postgres';
  return u.toString();
}

/** Null when the local PostgreSQL answers, else why the scenario cannot run. */
export async function postgresUnavailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    const u = new URL(adminUrl());
    return `PostgreSQL not reachable at ${u.host} (${(err as Error).message}); set FAULTS_PG_URL`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A scratch database. */
export interface ScratchDb {
  name: string;
  host: string;
  port: number;
  /** `DATABASE_URL` for it through `port` (a proxy), or directly. */
  urlVia(port?: number): string;
  /** Runs a query directly (not through any proxy). */
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** Creates a scratch database (see file header). */
export async function createScratchDb(): Promise<ScratchDb> {
  const admin = new URL(adminUrl());
  const name = `statecall_faults_${randomBytes(4).toString('hex')}`;
  const a = new pg.Client({ connectionString: admin.toString() });
  await a.connect();
  try {
    await a.query(`create database ${name}`);
  } finally {
    await a.end();
  }
  const urlVia = (port?: number) => {
    const u = new URL(admin.toString());
    u.pathname = `/${name}`;
    if (port) {
      u.hostname = '127.0.0.1';
      u.port = String(port);
    }
    return u.toString();
  };
  const pool = new pg.Pool({ connectionString: urlVia(), max: 2 });
  pool.on('error', () => {});
  return {
    name,
    host: admin.hostname,
    port: Number(admin.port || 5432),
    urlVia,
    async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
      return (await pool.query<T>(sql, params)).rows;
    },
    async drop() {
      await pool.end().catch(() => {});
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs `body` with a scratch database behind a fresh TCP proxy; both are gone afterwards. */
export async function withProxiedScratchDb(
  body: (db: ScratchDb, proxy: TcpProxy) => Promise<void>,
): Promise<void> {
  const db = await createScratchDb();
  const proxy = await startTcpProxy({ host: db.host, port: db.port });
  try {
    await body(db, proxy);
  } finally {
    await proxy.close();
    await db.drop();
  }
}
