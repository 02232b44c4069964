import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSupabaseStore } from '../../src/store/supabase-store.js';
import { startPostgrestFake, type PostgrestFake } from '../fakes/postgrest-server.js';
import { storeContract } from './contract.js';
import { newConversation, transition } from './fixtures.js';

const KEY = 'test-service-role-key';

storeContract('supabase (supabase-js against the PostgREST fake)', async () => {
  const fake = await startPostgrestFake({ apiKey: KEY });
  const store = createSupabaseStore({ url: fake.url, key: KEY });
  return {
    store,
    dispose: async () => {
      await store.close();
      await fake.close();
    },
  };
});

describe('supabase store', () => {
  let fake: PostgrestFake;
  beforeAll(async () => {
    fake = await startPostgrestFake({ apiKey: KEY });
  });
  afterAll(() => fake.close());

  it('sends idempotent upserts: ignore-duplicates on the natural keys for creates and transitions', async () => {
    const store = createSupabaseStore({ url: fake.url, key: KEY });
    const conv = newConversation();
    fake.requests.length = 0;
    await store.createConversation(conv);
    await store.appendTransitions([transition(conv.id, 0)]);
    expect(
      fake.requests.map((r) => [
        r.method,
        new URL(r.path, fake.url).searchParams.get('on_conflict'),
        r.prefer,
      ]),
    ).toEqual([
      ['POST', 'id', 'resolution=ignore-duplicates'],
      ['POST', 'conversation_id,actor,seq', 'resolution=ignore-duplicates'],
    ]);
    await store.close();
  });

  it('reads logs longer than one PostgREST page (1000 rows) completely, in order', async () => {
    const store = createSupabaseStore({ url: fake.url, key: KEY });
    const conv = newConversation();
    await store.createConversation(conv);
    const rows = Array.from({ length: 1203 }, (_, i) =>
      transition(conv.id, i, { created_at: '2030-01-01T00:00:00.000Z' }),
    );
    await store.appendTransitions(rows);
    const stored = (await store.getConversation(conv.id))?.transitions ?? [];
    expect(stored.map((t) => t.seq)).toEqual(rows.map((t) => t.seq));
    await store.close();
  });

  it('refuses to start with a rejected key, naming SUPABASE_KEY', async () => {
    const store = createSupabaseStore({ url: fake.url, key: 'wrong' });
    await expect(store.init()).rejects.toThrow(/SUPABASE_KEY/);
  });

  it('refuses the anon key up front: RLS would silently hide every row', async () => {
    const payload = Buffer.from(JSON.stringify({ role: 'anon', iss: 'supabase' })).toString('base64url');
    const store = createSupabaseStore({ url: fake.url, key: `eyJhbGciOiJIUzI1NiJ9.${payload}.sig` });
    await expect(store.init()).rejects.toThrow(/service-role/);
  });

  it('tells the operator to run `supabase db push` when the tables are missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'statecall-nomigrations-'));
    const bare = await startPostgrestFake({ apiKey: KEY, migrationsDir: empty });
    try {
      const store = createSupabaseStore({ url: bare.url, key: KEY });
      await expect(store.init()).rejects.toThrow(/supabase db push/);
    } finally {
      await bare.close();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('pings with one HEAD request, and the ping rejects when the project is unreachable', async () => {
    const store = createSupabaseStore({ url: fake.url, key: KEY });
    fake.requests.length = 0;
    await store.ping();
    expect(fake.requests.map((r) => r.method)).toEqual(['HEAD']);
    const gone = createSupabaseStore({ url: 'http://127.0.0.1:9', key: KEY });
    await expect(gone.ping()).rejects.toThrow(/network|fetch/i);
  });

  it('reports an unreachable project URL, naming SUPABASE_URL', async () => {
    const store = createSupabaseStore({ url: 'http://127.0.0.1:9', key: KEY });
    await expect(store.init()).rejects.toThrow(/SUPABASE_URL/);
  });
});
