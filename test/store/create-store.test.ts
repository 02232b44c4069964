import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStoreFromConfig, describeDatabaseUrl } from '../../src/store/create-store.js';

describe('createStoreFromConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'statecall-create-store-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('defaults to PGlite in <dataDir>/pglite and creates the directory', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const { store, description } = await createStoreFromConfig({ dataDir });
    expect(store.kind).toBe('pglite');
    expect(description).toBe(`embedded PGlite at ${join(dataDir, 'pglite')}`);
    expect((await stat(join(dataDir, 'pglite'))).isDirectory()).toBe(true);
    await store.close();
  });

  it('uses PostgreSQL when DATABASE_URL is set, describing it without the password', async () => {
    const { store, description } = await createStoreFromConfig({
      dataDir: dir,
      databaseUrl: 'postgres://app:s3cr3t-pw@db.example.com:6543/postgres?sslmode=require',
    });
    expect(store.kind).toBe('postgres');
    expect(description).toBe('postgres at postgres://app@db.example.com:6543/postgres');
    expect(description).not.toContain('s3cr3t');
    await store.close();
  });

  it('prefers supabase when both SUPABASE_URL and SUPABASE_KEY are set, never printing the key', async () => {
    const { store, description } = await createStoreFromConfig({
      dataDir: dir,
      databaseUrl: 'postgres://x@localhost/db',
      supabaseUrl: 'https://abcd.supabase.co',
      supabaseKey: 'sb_secret_very-secret-value',
    });
    expect(store.kind).toBe('supabase');
    expect(description).toBe('supabase at https://abcd.supabase.co');
    await store.close();
  });

  it('refuses half a supabase configuration instead of silently falling back', async () => {
    await expect(
      createStoreFromConfig({ dataDir: dir, supabaseUrl: 'https://abcd.supabase.co' }),
    ).rejects.toThrow(/SUPABASE_URL and SUPABASE_KEY/);
  });

  it('describes an unparseable DATABASE_URL without echoing it', () => {
    expect(describeDatabaseUrl('not a url with password hunter2')).toBe('(unparseable DATABASE_URL)');
  });
});
