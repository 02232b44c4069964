import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { defaultMigrationsDir, migrate } from '../../src/store/migrate.js';
import { isPermanentStoreError } from '../../src/store/outbox.js';
import { openSqlClient, PgliteOpenError, type SqlClient } from '../../src/store/sql-client.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { storeContract } from './contract.js';

/** Every migration file, in the order they apply. */
const MIGRATIONS = readdirSync(defaultMigrationsDir())
  .filter((f) => f.endsWith('.sql'))
  .sort();
import { newConversation, tablesWithoutRls, transition } from './fixtures.js';

storeContract('PGlite (in memory, worker thread)', async () => {
  const store = createSqlStore({ kind: 'pglite' });
  return { store, dispose: () => store.close() };
});

storeContract('PGlite (in memory, in process: PGLITE_WORKER=off)', async () => {
  const store = createSqlStore({ kind: 'pglite', worker: false });
  return { store, dispose: () => store.close() };
});

describe('PGlite in its worker thread', () => {
  let db: SqlClient;
  beforeAll(async () => {
    db = await openSqlClient({ kind: 'pglite' });
    await db.exec('create table kv (k int primary key, v text not null)');
  });
  afterAll(() => db.close());

  it('keeps a transaction on one connection: a statement sent meanwhile runs after its commit', async () => {
    let outside: Promise<unknown> | undefined;
    const seen = await db.transaction(async (tx) => {
      await tx.query(`insert into kv values (1, 'a')`);
      outside = db.query(`update kv set v = 'outside' where k = 1`);
      await tx.query(`update kv set v = 'b' where k = 1`);
      return (await tx.query<{ v: string }>('select v from kv where k = 1')).rows[0]?.v;
    });
    await outside;
    expect(seen).toBe('b');
    expect((await db.query<{ v: string }>('select v from kv where k = 1')).rows).toEqual([{ v: 'outside' }]);
  });

  it('rolls back what a rejected transaction body wrote and rethrows its error', async () => {
    const err = await db
      .transaction(async (tx) => {
        await tx.query(`insert into kv values (2, 'x')`);
        throw new Error('body failed');
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('body failed');
    expect((await db.query('select 1 from kv where k = 2')).rows).toEqual([]);
  });

  it('keeps the SQLSTATE code and constraint of a refused statement, so the outbox sees it as permanent', async () => {
    await db.query(`insert into kv values (3, 'x')`);
    const err = await db.query(`insert into kv values (3, 'y')`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '23505', constraint: 'kv_pkey' });
    expect(isPermanentStoreError(err)).toBe(true);
    const inTx = await db
      .transaction((tx) => tx.query(`insert into kv values (4, null)`))
      .catch((e: unknown) => e);
    expect(inTx).toMatchObject({ code: '23502' });
  });

  it('rejects every call after close instead of hanging', async () => {
    const other = await openSqlClient({ kind: 'pglite' });
    await other.close();
    await expect(other.query('select 1')).rejects.toThrow(/closed/);
  });
});

describe('PGlite memory settings', () => {
  it.each([true, false])(
    'opens with 16 MB of shared buffers (worker: %s), not the server default',
    async (worker) => {
      const db = await openSqlClient({ kind: 'pglite', worker });
      try {
        const { rows } = await db.query<{ shared_buffers: string }>('show shared_buffers');
        expect(rows[0]?.shared_buffers).toBe('16MB');
      } finally {
        await db.close();
      }
    },
  );
});

describe('PGlite migrations', () => {
  it('applies each migration once: a second run applies nothing', async () => {
    const db = await openSqlClient({ kind: 'pglite' });
    try {
      expect(await migrate(db)).toEqual(MIGRATIONS);
      expect(await migrate(db)).toEqual([]);
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from statecall_migrations');
      expect(rows[0]?.n).toBe(MIGRATIONS.length);
    } finally {
      await db.close();
    }
  });

  it('re-applies cleanly over a schema the Supabase CLI already pushed (no bookkeeping row)', async () => {
    const db = await openSqlClient({ kind: 'pglite' });
    try {
      await migrate(db);
      await db.query('delete from statecall_migrations');
      expect(await migrate(db)).toEqual(MIGRATIONS);
    } finally {
      await db.close();
    }
  });

  it('turns row level security on for every table it creates, the bookkeeping table included', async () => {
    const db = await openSqlClient({ kind: 'pglite' });
    try {
      await migrate(db);
      expect(await tablesWithoutRls(db)).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

describe('PGlite data directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'statecall-pglite-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps conversations across a restart and does not migrate twice', async () => {
    const conv = newConversation();
    const first = createSqlStore({ kind: 'pglite', dataDir: dir });
    await first.init();
    await first.createConversation(conv);
    await first.appendTransitions([transition(conv.id, 0)]);
    await first.close();

    const second = createSqlStore({ kind: 'pglite', dataDir: dir });
    await second.init();
    try {
      const detail = await second.getConversation(conv.id);
      expect(detail?.conversation.claim_id).toBe(conv.claim_id);
      expect(detail?.transitions).toHaveLength(1);
    } finally {
      await second.close();
    }
    const db = await openSqlClient({ kind: 'pglite', dataDir: dir });
    try {
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from statecall_migrations');
      expect(rows[0]?.n).toBe(MIGRATIONS.length);
    } finally {
      await db.close();
    }
  });
});

describe('PGlite that cannot open', () => {
  it.each([
    ['in its worker thread', true],
    ['in process', false],
  ])('says how to recover and leaves the damaged folder as it was (%s)', async (_, worker) => {
    const dir = await mkdtemp(join(tmpdir(), 'statecall-pglite-broken-'));
    try {
      await writeFile(join(dir, 'PG_VERSION'), 'garbage\n');
      const store = createSqlStore({ kind: 'pglite', dataDir: dir, worker });
      const err = await store.init().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PgliteOpenError);
      expect((err as Error).message).toMatch(/nothing was changed or deleted/);
      expect((err as Error).message).toMatch(/move it aside/);
      expect(await readdir(dir)).toEqual(['PG_VERSION']);
      expect(await readFile(join(dir, 'PG_VERSION'), 'utf8')).toBe('garbage\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
