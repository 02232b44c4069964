import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { readdirSync } from 'node:fs';
import { defaultMigrationsDir, migrate } from '../../src/store/migrate.js';
import { openSqlClient } from '../../src/store/sql-client.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { storeContract } from './contract.js';

/** Every migration file, in the order they apply. */
const MIGRATIONS = readdirSync(defaultMigrationsDir())
  .filter((f) => f.endsWith('.sql'))
  .sort();
import { tablesWithoutRls } from './fixtures.js';
import { describeWhen } from '../support/describe-when.js';

const url = process.env.TEST_DATABASE_URL;

/** A fresh schema per run, dropped afterwards, so runs never see each other's rows. */
function freshSchema(): string {
  return `statecall_test_${randomBytes(6).toString('hex')}`;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

const unavailable = url ? null : 'TEST_DATABASE_URL not set (e.g. postgres://postgres@127.0.0.1:5432/test)';

describeWhen('test/store', 'PostgreSQL store', unavailable, () => {
  storeContract('PostgreSQL', async () => {
    const schema = freshSchema();
    const store = createSqlStore({ kind: 'postgres', connectionString: url!, schema });
    return {
      store,
      dispose: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  });

  describe('PostgreSQL migrations', () => {
    const schema = freshSchema();
    afterAll(() => dropSchema(schema));

    it('creates the tables inside the requested schema, once, even with concurrent migrators', async () => {
      const a = await openSqlClient({ kind: 'postgres', connectionString: url!, schema });
      const b = await openSqlClient({ kind: 'postgres', connectionString: url!, schema });
      try {
        const [fromA, fromB] = await Promise.all([migrate(a), migrate(b)]);
        // Files are applied one transaction each, so two migrators may share them out; each applies once.
        expect([...fromA, ...fromB].sort()).toEqual(MIGRATIONS);
        expect(await migrate(a)).toEqual([]);
        const { rows } = await a.query<{ table_name: string }>(
          `select table_name from information_schema.tables where table_schema = $1 order by table_name`,
          [schema],
        );
        expect(rows.map((r) => r.table_name)).toEqual([
          'claim_number_reservations',
          'conversation_messages',
          'conversation_metrics',
          'conversation_transitions',
          'conversations',
          'live_instances',
          'statecall_migrations',
        ]);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('leaves no table of the schema without row level security', async () => {
      const db = await openSqlClient({ kind: 'postgres', connectionString: url!, schema });
      try {
        await migrate(db);
        expect(await tablesWithoutRls(db)).toEqual([]);
      } finally {
        await db.close();
      }
    });

    it('a second store on the same schema finds it migrated', async () => {
      const store = createSqlStore({ kind: 'postgres', connectionString: url!, schema });
      await store.init();
      await store.close();
    });
  });
});
