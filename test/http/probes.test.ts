/**
 * /healthz (liveness) and /readyz (readiness) over real HTTP on an ephemeral port, with the store
 * check injected the way the composition root wires it (a store stub: the probes only call the
 * check, never the store).
 */
import type { StoreCheck } from '../../src/http/app.js';
import { createSessionRegistry, type SessionRegistry } from '../../src/http/session-registry.js';
import { serveApp } from '../support/app-harness.js';

interface Probe {
  status: number;
  body: Record<string, unknown>;
}

async function serve(opts: {
  checkStore: () => Promise<StoreCheck>;
  sessions?: SessionRegistry;
  probeTimeoutMs?: number;
}) {
  const sessions = opts.sessions ?? createSessionRegistry(2);
  const served = await serveApp({
    sessions,
    health: () => ({ outbox: { pending: 3, journalPending: 1 } }),
    checkStore: opts.checkStore,
    ...(opts.probeTimeoutMs ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
  });
  const probe = async (path: string): Promise<Probe> => {
    const res = await fetch(served.url + path);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { sessions, probe, close: served.close };
}

const reachable = () => Promise.resolve({ reachable: true });

describe('the health and readiness probes', () => {
  it('reports the process alive with the store kind, its reachability and the outbox numbers', async () => {
    const s = await serve({ checkStore: reachable });
    const h = await s.probe('/healthz');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      ok: true,
      activeCalls: 0,
      store: { kind: 'postgres', reachable: true },
      outbox: { pending: 3, journalPending: 1 },
    });
    expect(await s.probe('/readyz')).toEqual({
      status: 200,
      body: {
        ready: true,
        checks: {
          store: { ok: true, kind: 'postgres' },
          draining: { ok: true },
          capacity: { ok: true, active: 0, reserved: 0, limit: 2 },
        },
      },
    });
    await s.close();
  });

  it('stays alive but not ready while the store is unreachable', async () => {
    const s = await serve({ checkStore: () => Promise.reject(new Error('connect ECONNREFUSED')) });
    const h = await s.probe('/healthz');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ ok: true, store: { reachable: false, detail: 'connect ECONNREFUSED' } });
    const r = await s.probe('/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ ready: false, checks: { store: { ok: false }, draining: { ok: true } } });
    await s.close();
  });

  it('answers not ready instead of hanging when the store check never returns', async () => {
    const s = await serve({ checkStore: () => new Promise<StoreCheck>(() => {}), probeTimeoutMs: 20 });
    const r = await s.probe('/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ checks: { store: { ok: false, detail: 'no answer within 20 ms' } } });
    expect((await s.probe('/healthz')).body).toMatchObject({ ok: true, store: { reachable: false } });
    await s.close();
  });

  it('is not ready while draining', async () => {
    const s = await serve({ checkStore: reachable });
    s.sessions.startDraining();
    const r = await s.probe('/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ ready: false, checks: { draining: { ok: false }, store: { ok: true } } });
    expect((await s.probe('/healthz')).body).toMatchObject({ ok: true, draining: true });
    await s.close();
  });

  it('is not ready when every call slot is live or reserved', async () => {
    const s = await serve({ checkStore: reachable });
    s.sessions.tryAcquire();
    s.sessions.reserve('CA0123456789abcdef0123456789abcdef');
    const r = await s.probe('/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({
      checks: { capacity: { ok: false, active: 1, reserved: 1, limit: 2 } },
    });
    await s.close();
  });
});
