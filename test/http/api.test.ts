/**
 * The HTTP API and the access rule, over real HTTP and WebSocket on an ephemeral port, against the
 * whole server (PGlite in a temp dir).
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { ConversationRow } from '../../src/store/types.js';
import { message, metrics, newConversation, transition } from '../store/fixtures.js';
import { connectBrowserCall, startLocalServer, type LocalServer } from '../support/replay-helper.js';

interface Answer {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}

async function get(server: LocalServer, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, { headers });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** Tries a `/client/stream` upgrade; resolves with the refusal (status + JSON body) or 'open'. */
function tryUpgrade(
  server: LocalServer,
  opts: { query?: string; headers?: Record<string, string> } = {},
): Promise<'open' | { status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.streamUrl}${opts.query ?? ''}`, { headers: opts.headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        ws.terminate();
      });
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe('conversation API on a plain local run', () => {
  let server: LocalServer;
  /** Seeded conversations, oldest first. */
  const seeded: { id: string; state: ConversationRow['state'] }[] = [];

  beforeAll(async () => {
    server = await startLocalServer();
    const states: ConversationRow['state'][] = ['done', 'ongoing', 'done', 'initial'];
    for (const [i, state] of states.entries()) {
      const row = newConversation({ created_at: new Date(Date.UTC(2026, 10, 1 + i)).toISOString() });
      await server.store.createConversation(row);
      await server.store.updateConversation(row.id, {
        state,
        updated_at: row.created_at,
        ...(state === 'ongoing' ? { ended_at: row.created_at, end_reason: 'caller_hung_up' } : {}),
      });
      seeded.push({ id: row.id, state });
    }
    const first = seeded[0]!.id;
    await server.store.appendTransitions([transition(first, 0), transition(first, 1)]);
    await server.store.upsertMessages([message(first, 0), message(first, 1)]);
    await server.store.upsertMetrics(metrics(first));
  });
  afterAll(async () => {
    await server?.stop();
  });

  const newestFirst = () => [...seeded].reverse().map((s) => s.id);

  it('answers /healthz with the store kind, its reachability and no active call', async () => {
    const r = await get(server, '/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, activeCalls: 0, store: { kind: 'pglite', reachable: true } });
  });

  it('lists conversations newest first', async () => {
    const r = await get(server, '/api/conversations');
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/application\/json/);
    const ids = (r.body.conversations as ConversationRow[]).map((c) => c.id);
    expect(ids).toEqual(newestFirst());
  });

  it('returns at most ?limit= conversations, the newest ones', async () => {
    const r = await get(server, '/api/conversations?limit=2');
    expect(r.status).toBe(200);
    expect((r.body.conversations as ConversationRow[]).map((c) => c.id)).toEqual(newestFirst().slice(0, 2));
  });

  it('filters by ?state=, still newest first', async () => {
    const r = await get(server, '/api/conversations?state=done');
    expect(r.status).toBe(200);
    const rows = r.body.conversations as ConversationRow[];
    expect(rows.map((c) => c.state)).toEqual(['done', 'done']);
    expect(rows.map((c) => c.id)).toEqual(
      newestFirst().filter((id) => seeded.find((s) => s.id === id)?.state === 'done'),
    );
  });

  it('combines ?state= and ?limit=', async () => {
    const r = await get(server, '/api/conversations?state=done&limit=1');
    expect((r.body.conversations as ConversationRow[]).map((c) => c.id)).toEqual([seeded[2]!.id]);
  });

  it('filters by ?end_reason=, alone or with ?state=', async () => {
    const r = await get(server, '/api/conversations?end_reason=caller_hung_up');
    expect(r.status).toBe(200);
    const hungUp = seeded.filter((s) => s.state === 'ongoing').map((s) => s.id);
    expect((r.body.conversations as ConversationRow[]).map((c) => c.id)).toEqual(hungUp);
    const none = await get(server, '/api/conversations?end_reason=caller_hung_up&state=done');
    expect(none.body.conversations).toEqual([]);
  });

  it('pages with the ?before= cursor each page returns as next, until next is null', async () => {
    const ids: string[] = [];
    let query = '/api/conversations?limit=3';
    for (let pages = 0; pages < 5; pages++) {
      const r = await get(server, query);
      expect(r.status).toBe(200);
      ids.push(...(r.body.conversations as ConversationRow[]).map((c) => c.id));
      if (r.body.next === null) break;
      query = `/api/conversations?limit=3&before=${encodeURIComponent(String(r.body.next))}`;
    }
    expect(ids).toEqual(newestFirst());
  });

  it('lists only the conversations created on or after ?since=', async () => {
    const byDay = await get(server, '/api/conversations?since=2026-11-03');
    expect((byDay.body.conversations as ConversationRow[]).map((c) => c.id)).toEqual(
      newestFirst().slice(0, 2),
    );
    const byInstant = await get(server, '/api/conversations?since=2026-11-03T00:00:00.001Z');
    expect((byInstant.body.conversations as ConversationRow[]).map((c) => c.id)).toEqual(
      newestFirst().slice(0, 1),
    );
  });

  it.each([
    ['limit=0', /limit/],
    ['limit=201', /limit/],
    ['limit=abc', /limit/],
    ['limit=2.5', /limit/],
    ['limit=0x10', /limit/],
    ['limit=1e1', /limit/],
    ['limit=%2016', /limit/],
    ['limit=16abc', /limit/],
    ['limit=+16', /limit/],
    ['state=finished', /state/],
    ['end_reason=Caller%20Hung%20Up', /end_reason/],
    ['end_reason=' + 'x'.repeat(41), /end_reason/],
    ['sort=asc', /sort|unrecognized/i],
    ['since=2026-02-30', /since/],
    ['since=2026-1-3', /since/],
    ['since=yesterday', /since/],
    ['since=2026-11-03T00:00:00%2B01:00', /since/],
    ['before=2026-11-03T00:00:00.000Z', /before/],
    ['before=2026-11-03T00:00:00.000Z,not-a-uuid', /before/],
    [`before=2026-11-03T00:00:00.000Z,${randomUUID()},x`, /before/],
  ])('refuses the bad query ?%s with a 400 JSON error naming the parameter', async (query, named) => {
    const r = await get(server, `/api/conversations?${query}`);
    expect(r.status).toBe(400);
    expect(r.contentType).toMatch(/application\/json/);
    expect(r.body.error).toBe('bad query');
    expect((r.body.issues as string[]).join(' ')).toMatch(named);
  });

  it('returns a conversation with its messages, transitions and metrics, rows as stored', async () => {
    const id = seeded[0]!.id;
    const r = await get(server, `/api/conversations/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      conversation: { id, state: 'done', claim_status: 'Open' },
      messages: [{ seq: 0 }, { seq: 1 }],
      transitions: [
        { actor: 'call', seq: 0 },
        { actor: 'call', seq: 1 },
      ],
      metrics: { conversation_id: id, turns: 3, stt_provider: 'deepgram' },
    });
  });

  it('answers an unknown conversation id with a 404 JSON error', async () => {
    const id = randomUUID();
    const r = await get(server, `/api/conversations/${id}`);
    expect(r.status).toBe(404);
    expect(r.contentType).toMatch(/application\/json/);
    expect(r.body.error).toMatch(id);
  });

  it.each(['not-a-uuid', '12345', "1' or '1'='1", '%00'])(
    'answers the malformed id %s with a 400 JSON error',
    async (id) => {
      const r = await get(server, `/api/conversations/${encodeURIComponent(id)}`);
      expect(r.status).toBe(400);
      expect(r.contentType).toMatch(/application\/json/);
      expect(r.body.error).toMatch(/UUID/);
    },
  );

  it('answers an unknown API route with a 404 JSON error', async () => {
    const r = await get(server, '/api/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'not found' });
  });

  it('opens /client/stream without any credentials', async () => {
    expect(await tryUpgrade(server)).toBe('open');
  });

  it("opens /client/stream from the server's own origin and from a loopback dev server (Vite on :5173)", async () => {
    expect(await tryUpgrade(server, { headers: { origin: server.url } })).toBe('open');
    expect(await tryUpgrade(server, { headers: { origin: 'http://localhost:5173' } })).toBe('open');
  });

  it('refuses the /client/stream upgrade from a page of another web origin with a 403 JSON body', async () => {
    const r = await tryUpgrade(server, { headers: { origin: 'https://evil.example' } });
    expect(r).toMatchObject({ status: 403, body: { error: expect.stringMatching(/ALLOWED_ORIGINS/) } });
    expect(await tryUpgrade(server, { headers: { origin: 'null' } })).toMatchObject({ status: 403 });
  });
});

describe('access with DASHBOARD_TOKEN set', () => {
  const token = 'test-dashboard-token-5f2c9a';
  let server: LocalServer;
  let id: string;

  beforeAll(async () => {
    server = await startLocalServer({ env: { DASHBOARD_TOKEN: token } });
    const row = newConversation();
    await server.store.createConversation(row);
    id = row.id;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(['/api/conversations', '/api/conversations/ID'])(
    'refuses %s without the token with a 401 JSON error that says how to pass it',
    async (path) => {
      const r = await get(server, path.replace('ID', id));
      expect(r.status).toBe(401);
      expect(r.contentType).toMatch(/application\/json/);
      expect(r.body.error).toMatch(/Authorization: Bearer/);
    },
  );

  it('refuses a wrong token, as a header or in the query', async () => {
    expect((await get(server, '/api/conversations', { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await get(server, '/api/conversations?token=nope')).status).toBe(401);
    expect((await get(server, '/api/conversations', { authorization: token })).status).toBe(401);
  });

  it('accepts the token as an Authorization Bearer header', async () => {
    const r = await get(server, `/api/conversations/${id}`, { authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ conversation: { id } });
  });

  it('accepts the token as ?token= without counting it as a bad query parameter', async () => {
    const r = await get(server, `/api/conversations?token=${token}&limit=5`);
    expect(r.status).toBe(200);
    expect((r.body.conversations as ConversationRow[]).map((c) => c.id)).toEqual([id]);
  });

  it('keeps /healthz open (it holds no personal data)', async () => {
    expect((await get(server, '/healthz')).status).toBe(200);
  });

  it('refuses the /client/stream upgrade without the token with a 401 JSON body', async () => {
    const r = await tryUpgrade(server);
    expect(r).toMatchObject({ status: 401, body: { error: expect.stringMatching(/dashboard token/) } });
    expect(await tryUpgrade(server, { query: '?token=nope' })).toMatchObject({ status: 401 });
  });

  it('opens /client/stream with the token in the query or as a Bearer header', async () => {
    expect(await tryUpgrade(server, { query: `?token=${token}` })).toBe('open');
    expect(await tryUpgrade(server, { headers: { authorization: `Bearer ${token}` } })).toBe('open');
  });

  it('starts a call for a client that passed the token', async () => {
    const call = await connectBrowserCall(server.streamUrl, { token });
    const started = await call.waitFor((m) => m.event === 'session.started');
    expect(started.conversationId).toEqual(expect.any(String));
    call.send({ event: 'hangup' });
    expect((await call.closed).code).toBe(1000);
  });
});

describe('access with PUBLIC_URL set and no DASHBOARD_TOKEN', () => {
  let server: LocalServer;

  beforeAll(async () => {
    server = await startLocalServer({ env: { PUBLIC_URL: 'https://bot.example.test' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(['/api/conversations', '/api/conversations/00000000-0000-4000-8000-000000000000'])(
    'refuses %s with a 403 that explains how to enable it',
    async (path) => {
      const r = await get(server, path);
      expect(r.status).toBe(403);
      expect(r.contentType).toMatch(/application\/json/);
      expect(r.body.error).toMatch(/PUBLIC_URL/);
      expect(r.body.error).toMatch(/set DASHBOARD_TOKEN/);
    },
  );

  it('refuses a ?token= since no token can be right', async () => {
    expect((await get(server, '/api/conversations?token=anything')).status).toBe(403);
  });

  it('refuses the /client/stream upgrade with the same 403 explanation', async () => {
    const r = await tryUpgrade(server);
    expect(r).toMatchObject({ status: 403, body: { error: expect.stringMatching(/set DASHBOARD_TOKEN/) } });
  });
});

describe('access with PUBLIC_URL and DASHBOARD_TOKEN set', () => {
  const token = 'public-and-token-81d0';
  let server: LocalServer;

  beforeAll(async () => {
    server = await startLocalServer({
      env: { PUBLIC_URL: 'https://bot.example.test', DASHBOARD_TOKEN: token },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves the API to a client with the token and refuses one without (401)', async () => {
    expect((await get(server, '/api/conversations', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get(server, '/api/conversations')).status).toBe(401);
  });

  it("opens /client/stream from PUBLIC_URL's origin but not from a loopback page once the server is public", async () => {
    const query = `?token=${token}`;
    expect(await tryUpgrade(server, { query, headers: { origin: 'https://bot.example.test' } })).toBe('open');
    expect(await tryUpgrade(server, { query, headers: { origin: 'http://localhost:5173' } })).toMatchObject({
      status: 403,
    });
  });
});
