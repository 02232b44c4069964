/**
 * `createApp(deps)` in-process, without a port: requests are injected into the Express app with
 * light-my-request (the hono `app.request()` style). The final JSON 404 and error handlers are
 * installed by `attach()`, so each app is attached to an HTTP server that never listens.
 * The store is the recording double of the store tests, with its reads answered here.
 */
import http from 'node:http';
import { inject } from 'light-my-request';
import { createApp, type AppDeps } from '../../src/http/app.js';
import { createSessionRegistry } from '../../src/http/session-registry.js';
import { createLogger } from '../../src/logger.js';
import type { ConversationRow, ListConversationsQuery } from '../../src/store/types.js';
import { newConversation, recordingStore } from '../store/fixtures.js';

/** A stored conversation row, as the API returns it. */
function row(createdAt: string): ConversationRow {
  return {
    ...newConversation({ created_at: createdAt }),
    claim_date: null,
    claim_amount: null,
    claim_status: 'Open',
    state: 'initial',
    updated_at: createdAt,
    ended_at: null,
    end_reason: null,
    instance_id: null,
    voice: null,
  };
}

/** An attached (never listening) app over a recording store holding `rows`. */
function setUp(over: Partial<AppDeps> = {}, rows: ConversationRow[] = []) {
  const recording = recordingStore();
  const queries: ListConversationsQuery[] = [];
  const store = {
    ...recording.store,
    listConversations: async (q: ListConversationsQuery) => {
      queries.push(q);
      return rows.slice(0, q.limit);
    },
  };
  const sessions = createSessionRegistry(1);
  const app = createApp({
    store,
    logger: createLogger('silent', { pretty: false }),
    access: {},
    sessions,
    startSession: () => Promise.reject(new Error('no sessions in this test')),
    ...over,
  });
  app.attach(http.createServer());
  const request = async (opts: {
    method?: 'GET' | 'POST';
    url: string;
    headers?: Record<string, string>;
    payload?: string;
  }) => {
    const res = await inject(app.express, {
      method: opts.method ?? 'GET',
      url: opts.url,
      headers: opts.headers,
      payload: opts.payload,
    });
    return {
      status: res.statusCode,
      type: String(res.headers['content-type'] ?? ''),
      body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {},
    };
  };
  return { request, sessions, queries, recording, app };
}

describe('the app in-process', () => {
  it('answers /healthz with the store kind and its reachability, checked with a one-row list', async () => {
    const { request, queries } = setUp();
    const h = await request({ url: '/healthz' });
    expect(h.status).toBe(200);
    expect(h.body).toEqual({
      ok: true,
      activeCalls: 0,
      reservedCalls: 0,
      draining: false,
      store: { kind: 'recording', reachable: true },
    });
    expect(queries).toEqual([{ limit: 1 }]);
  });

  it('stays alive but reports the store unreachable when its check fails', async () => {
    const { request } = setUp({ checkStore: () => Promise.reject(new Error('connect ECONNREFUSED')) });
    const h = await request({ url: '/healthz' });
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ ok: true, store: { reachable: false, detail: 'connect ECONNREFUSED' } });
  });

  it('is ready while the store answers, a slot is free and it is not draining; 503 once draining', async () => {
    const { request, sessions } = setUp();
    const ready = await request({ url: '/readyz' });
    expect([ready.status, ready.body.ready]).toEqual([200, true]);
    expect(ready.body.checks).toEqual({
      store: { ok: true, kind: 'recording' },
      draining: { ok: true },
      capacity: { ok: true, active: 0, reserved: 0, limit: 1 },
    });

    sessions.startDraining();
    const draining = await request({ url: '/readyz' });
    expect([draining.status, draining.body.ready]).toEqual([503, false]);
    expect(draining.body.checks).toMatchObject({ draining: { ok: false }, store: { ok: true } });
    expect(await request({ url: '/healthz' })).toMatchObject({ status: 200, body: { draining: true } });
  });

  it('answers /readyz 503 while every call slot is taken', async () => {
    const { request, sessions } = setUp();
    const slot = sessions.tryAcquire();
    expect(slot).not.toBeNull();
    const r = await request({ url: '/readyz' });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ checks: { capacity: { ok: false, active: 1, limit: 1 } } });
    slot!.release();
    expect((await request({ url: '/readyz' })).status).toBe(200);
  });

  it('refuses a list limit that is not decimal digits (limit=0x10) without asking the store', async () => {
    const { request, queries } = setUp();
    const r = await request({ url: '/api/conversations?limit=0x10' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: 'bad query',
      issues: ['limit: must be a whole number in decimal digits'],
    });
    expect(queries).toEqual([]);
  });

  it('refuses limit=0 and an unknown query parameter', async () => {
    const { request } = setUp();
    expect((await request({ url: '/api/conversations?limit=0' })).status).toBe(400);
    const r = await request({ url: '/api/conversations?colour=red' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'bad query' });
  });

  it('lists conversations with the parsed filter, and a next cursor only for a full page', async () => {
    const rows = [
      row('2030-01-03T00:00:00.000Z'),
      row('2030-01-02T00:00:00.000Z'),
      row('2030-01-01T00:00:00.000Z'),
    ];
    const { request, queries } = setUp({}, rows);

    const full = await request({ url: '/api/conversations?limit=2&state=initial' });
    expect(full.status).toBe(200);
    expect(queries[0]).toEqual({ limit: 2, state: 'initial' });
    expect((full.body.conversations as ConversationRow[]).map((c) => c.id)).toEqual([
      rows[0]!.id,
      rows[1]!.id,
    ]);
    expect(typeof full.body.next).toBe('string');

    const last = await request({ url: '/api/conversations?limit=5' });
    expect(last.body.next).toBeNull();
    expect(last.body.conversations).toHaveLength(3);
  });

  it('answers a JSON 400 for a conversation id that is not a UUID and a JSON 404 for an unknown one', async () => {
    const { request } = setUp();
    expect(await request({ url: '/api/conversations/not-a-uuid' })).toMatchObject({
      status: 400,
      body: { error: 'conversation id must be a UUID' },
    });
    const id = '00000000-0000-4000-8000-000000000000';
    expect(await request({ url: `/api/conversations/${id}` })).toMatchObject({
      status: 404,
      type: expect.stringContaining('application/json'),
      body: { error: `conversation ${id} not found` },
    });
  });

  it('keeps the API closed without the dashboard token when one is set', async () => {
    const { request } = setUp({ access: { dashboardToken: 's3cret' } });
    expect((await request({ url: '/api/conversations' })).status).toBe(401);
    expect(
      (await request({ url: '/api/conversations', headers: { authorization: 'Bearer s3cret' } })).status,
    ).toBe(200);
    expect((await request({ url: '/api/conversations?token=s3cret' })).status).toBe(200);
  });

  it('answers an unknown route with a JSON 404 naming it', async () => {
    const { request } = setUp();
    expect(await request({ url: '/no/such/route' })).toEqual({
      status: 404,
      type: expect.stringContaining('application/json'),
      body: { error: 'no route for GET /no/such/route' },
    });
  });

  it('answers a malformed JSON body with a JSON 400 of its own wording', async () => {
    const { request } = setUp();
    const r = await request({
      method: 'POST',
      url: '/api/conversations',
      headers: { 'content-type': 'application/json' },
      payload: '{"broken": ',
    });
    expect(r).toEqual({
      status: 400,
      type: expect.stringContaining('application/json'),
      body: { error: 'malformed request body', type: 'entity.parse.failed' },
    });
  });

  it('writes nothing to the store while answering probes and API reads', async () => {
    const { request, recording } = setUp();
    await request({ url: '/healthz' });
    await request({ url: '/readyz' });
    await request({ url: '/api/conversations' });
    expect(recording.calls).toEqual([]);
  });
});
