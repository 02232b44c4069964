import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { defaultMigrationsDir, migrate } from '../../src/store/migrate.js';
import { openSqlClient, PgliteOpenError } from '../../src/store/sql-client.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { storeContract } from './contract.js';

/** Every migration file, in the order they apply. */
const MIGRATIONS = readdirSync(defaultMigrationsDir())
  .filter((f) => f.endsWith('.sql'))
  .sort();
import { newConversation, tablesWithoutRls, transition } from './fixtures.js';

storeContract('PGlite (in memory)', async () => {
  const store = createSqlStore({ kind: 'pglite' });
  return { store, dispose: () => store.close() };
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
  it('says how to recover and leaves the damaged folder as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'statecall-pglite-broken-'));
    try {
      await writeFile(join(dir, 'PG_VERSION'), 'garbage\n');
      const store = createSqlStore({ kind: 'pglite', dataDir: dir });
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
