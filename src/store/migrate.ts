/**
 * Applies `supabase/migrations/*.sql` (the only schema source) to a sql adapter's database, the way
 * `supabase db push` does for a Supabase project.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from './sql-client.js';

/** Arbitrary constant key of the advisory lock that serializes concurrent migrators. */
const MIGRATION_LOCK_KEY = 727_105_331;

/**
 * Finds `supabase/migrations` by walking up from this file, so it works from `src/store` (tsx,
 * jest) and from `dist/src/store` (built), whatever the process cwd.
 */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'supabase', 'migrations');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('supabase/migrations not found above ' + dirname(fileURLToPath(import.meta.url)));
}

/**
 * Applies every `*.sql` file of `dir` not yet recorded in `statecall_migrations`, in filename
 * order, each in its own transaction together with its bookkeeping row (all or nothing per file).
 * Idempotent and safe to run from several processes at once (a transaction-scoped advisory lock
 * serializes them). Tables are created unqualified, i.e. in the first schema of the search_path.
 *
 * @returns the names applied by this call (empty when the database was up to date).
 * @throws the database error of the first failing file; files before it stay applied.
 */
export async function migrate(client: SqlClient, dir: string = defaultMigrationsDir()): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  await client.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    // RLS on, no policy (like every statecall table): on Supabase the anon/authenticated roles
    // must not read or forge the bookkeeping (a forged row would make the server skip a migration).
    await tx.exec(
      'create table if not exists statecall_migrations (name text primary key, applied_at timestamptz not null default now());' +
        ' alter table statecall_migrations enable row level security',
    );
  });
  const applied: string[] = [];
  for (const name of files) {
    const sql = await readFile(join(dir, name), 'utf8');
    const didApply = await client.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const done = await tx.query('select 1 from statecall_migrations where name = $1', [name]);
      if (done.rows.length > 0) return false;
      await tx.exec(sql);
      await tx.query('insert into statecall_migrations (name) values ($1)', [name]);
      return true;
    });
    if (didApply) applied.push(name);
  }
  return applied;
}
