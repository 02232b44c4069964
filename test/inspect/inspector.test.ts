/**
 * The Stately inspector relay on a loopback port (no internet): a claim actor inspected through
 * `createInspector` reaches a WebSocket client (what the inspector page is) with its states and
 * events, and with the caller's data redacted.
 */
import net from 'node:net';
import os from 'node:os';
import WebSocket from 'ws';
import { createActor } from 'xstate';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { createLogger } from '../../src/logger.js';
import { createInspector, type StatecallInspector } from '../../src/inspect/inspector.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('Stately inspector relay', () => {
  let inspector: StatecallInspector | null = null;
  let viewer: WebSocket | null = null;

  afterEach(async () => {
    viewer?.terminate();
    viewer = null;
    await inspector?.stop();
    inspector = null;
  });

  it('relays a live actor to the inspector page with states kept and claim values redacted', async () => {
    const port = await freePort();
    inspector = await createInspector({ port, logger: createLogger('silent', { pretty: false }) });
    expect(inspector.url).toBe(`http://localhost:${port}`);
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toContain('<iframe');

    const received: Array<Record<string, unknown>> = [];
    viewer = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => viewer!.once('open', resolve).once('error', reject));
    const sawDone = new Promise<void>((resolve) => {
      viewer!.on('message', (data) => {
        const m = JSON.parse(String(data)) as Record<string, unknown>;
        received.push(m);
        const snap = m.snapshot as { value?: unknown } | undefined;
        if (m.type === '@xstate.snapshot' && snap?.value === 'done') resolve();
      });
    });

    const actor = createActor(claimMachine, {
      input: { claimId: 'CLM-4821-0937', today: '2026-11-24' },
      inspect: inspector.inspect,
    });
    actor.start();
    actor.send({ type: 'claim.number.acknowledged' });
    actor.send({ type: 'claim.date.provided', date: '2026-03-03' });
    actor.send({ type: 'claim.amount.provided', amount: 1250 });
    actor.send({ type: 'claim.details.confirmed' });
    await sawDone;
    actor.stop();

    const types = new Set(received.map((m) => m.type));
    expect(types).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    const values = received
      .filter((m) => m.type === '@xstate.snapshot')
      .map((m) => JSON.stringify((m.snapshot as { value: unknown }).value));
    expect(values).toEqual(
      expect.arrayContaining([
        '"initial"',
        '{"ongoing":"collectingDate"}',
        '{"ongoing":"verifying"}',
        '"done"',
      ]),
    );
    const events = received
      .filter((m) => m.type === '@xstate.event')
      .map((m) => (m.event as { type: string }).type);
    expect(events).toEqual(expect.arrayContaining(['claim.date.provided', 'claim.amount.provided']));

    const wire = JSON.stringify(received);
    expect(wire).not.toContain('2026-03-03');
    expect(wire).not.toContain('1250');
    expect(wire).not.toContain('4821');
  });

  it('refuses to start on a port that is already taken, instead of crashing the process', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await expect(
        createInspector({ port, logger: createLogger('silent', { pretty: false }) }),
      ).rejects.toThrow(/already in use/);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it("listens on loopback only, not on the machine's other interfaces", async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    const port = await freePort();
    inspector = await createInspector({ port, logger: createLogger('silent', { pretty: false }) });
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    if (!external) return; // a machine with loopback only has nothing else to listen on
    const reached = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, external);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    expect(reached).toBe(false);
  });

  it('refuses a relay socket opened by a page of another web origin', async () => {
    const port = await freePort();
    inspector = await createInspector({ port, logger: createLogger('silent', { pretty: false }) });
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { headers: { Origin: 'https://evil.example' } });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => {
        ws.close();
        resolve(101);
      });
      ws.once('error', (err) => {
        if (!/Unexpected server response/.test(err.message)) reject(err);
      });
    });
    expect(status).toBe(401);
  });

  it('serves a page that connects back to the host it was loaded from', async () => {
    const port = await freePort();
    inspector = await createInspector({ port, logger: createLogger('silent', { pretty: false }) });
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toContain('location.host');
    expect(page).not.toContain('ws://localhost:');
  });
});
