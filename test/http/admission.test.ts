/**
 * Admission over real HTTP and WebSocket (the whole server, PGlite in a temp dir): refused
 * upgrades never hold a call slot, the webhook reserves one per CallSid so a burst gets exactly
 * MAX_CONCURRENT_CALLS streams and polite refusals for the rest, the stream's `start` claims its
 * reservation, and a draining server takes no new call.
 */
import { streamOpeningFrames } from '../fakes/twilio-caller.js';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { connectBrowserCall, startLocalServer, type LocalServer } from '../support/replay-helper.js';
import { BUSY_MESSAGE, DRAINING_MESSAGE } from '../../src/transports/twilio/twilio-routes.js';

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

interface Health {
  activeCalls: number;
  reservedCalls: number;
}

async function health(server: LocalServer): Promise<Health> {
  return (await (await fetch(`${server.url}/healthz`)).json()) as Health;
}

/** Polls /healthz until `check` holds (a limit only so a broken server fails with a message). */
async function healthUntil(server: LocalServer, check: (h: Health) => boolean): Promise<Health> {
  let last: Health | undefined;
  for (let i = 0; i < 200; i++) {
    last = await health(server);
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`health never matched; last ${JSON.stringify(last)}`);
}

/** A hand-written upgrade request with an unsupported Sec-WebSocket-Version; resolves with the status line. */
function badVersionUpgrade(server: LocalServer, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n`,
    );
  });
}

function postWebhook(server: LocalServer, callSid: string, from = '+15551112222'): Promise<string> {
  return fetch(`${server.url}/twilio/voice`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ CallSid: callSid, From: from, To: '+15553334444' }),
  }).then((r) => r.text());
}

/** Opens /twilio/stream and sends `connected` + `start` for `callSid`. */
async function openStream(server: LocalServer, callSid: string): Promise<WebSocket> {
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/twilio/stream`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const streamSid = sid('MZ');
  for (const frame of streamOpeningFrames({
    accountSid: sid('AC'),
    streamSid,
    callSid,
    customParameters: { callSid },
  }))
    ws.send(JSON.stringify(frame));
  return ws;
}

const closeOf = (ws: WebSocket) =>
  new Promise<number>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(-1);
    ws.once('close', (code) => resolve(code));
  });

describe('call admission', () => {
  let server: LocalServer;
  beforeEach(async () => {
    server = await startLocalServer({ env: { MAX_CONCURRENT_CALLS: '3' } });
  });
  afterEach(async () => {
    await server?.stop();
  });

  it('holds no call slot for upgrades refused for a bad Sec-WebSocket-Version', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await badVersionUpgrade(server, '/twilio/stream')).toMatch(/^HTTP\/1\.1 400/);
      expect(await badVersionUpgrade(server, '/client/stream')).toMatch(/^HTTP\/1\.1 400/);
    }
    expect(await health(server)).toMatchObject({ activeCalls: 0, reservedCalls: 0 });
    // Every slot is still there for real callers.
    const answers = await Promise.all([1, 2, 3].map(() => postWebhook(server, sid('CA'))));
    for (const xml of answers) expect(xml).toContain('<Connect><Stream');
  });

  it('tells exactly MAX_CONCURRENT_CALLS of a burst of webhooks to connect, the rest hear the busy message', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => postWebhook(server, sid('CA'))));
    const connects = answers.filter((x) => x.includes('<Connect><Stream'));
    const refusals = answers.filter((x) => x.includes(`<Say>${BUSY_MESSAGE}</Say><Hangup/>`));
    expect(connects).toHaveLength(3);
    expect(refusals).toHaveLength(9);
    expect(await health(server)).toMatchObject({ activeCalls: 0, reservedCalls: 3 });
  });

  it("lets a stream's start claim its webhook reservation when every other slot is taken", async () => {
    const callSids = [sid('CA'), sid('CA'), sid('CA')];
    for (const c of callSids) expect(await postWebhook(server, c)).toContain('<Connect>');
    expect(await postWebhook(server, sid('CA'))).toContain(BUSY_MESSAGE);
    const streams = await Promise.all(callSids.map((c) => openStream(server, c)));
    expect(await healthUntil(server, (h) => h.activeCalls === 3)).toMatchObject({ reservedCalls: 0 });
    for (const ws of streams) ws.close();
    await healthUntil(server, (h) => h.activeCalls === 0);
  });

  it('closes a stream with 1013 at start when its call has no reservation and no slot is free', async () => {
    for (let i = 0; i < 3; i++) await postWebhook(server, sid('CA'));
    const intruder = await openStream(server, sid('CA'));
    expect(await closeOf(intruder)).toBe(1013);
    expect(await health(server)).toMatchObject({ activeCalls: 0, reservedCalls: 3 });
  });

  it('admits a stream without any webhook (local tests) on a fresh slot and frees it on close', async () => {
    const ws = await openStream(server, sid('CA'));
    await healthUntil(server, (h) => h.activeCalls === 1);
    ws.close();
    await healthUntil(server, (h) => h.activeCalls === 0);
  });

  it('answers the updating-our-system refusal and refuses browser calls while draining', async () => {
    server.app.sessions.startDraining();
    const xml = await postWebhook(server, sid('CA'));
    expect(xml).toContain(`<Say>${DRAINING_MESSAGE}</Say><Hangup/>`);
    const call = await connectBrowserCall(server.streamUrl);
    const error = await call.waitFor((m) => m.event === 'error', 0, 'the refusal');
    expect(String(error.message)).toMatch(/restarting/);
    expect((await call.closed).code).toBe(1013);
    expect(await health(server)).toMatchObject({ activeCalls: 0, reservedCalls: 0, draining: true });
  });

  it('keeps a NUL sent in the webhook out of the TwiML, and still reserves the call', async () => {
    const xml = await postWebhook(server, `${sid('CA')}\u0000`, '+1555\u0000');
    expect(xml).toContain('<Connect><Stream');
    expect(xml).not.toContain('\u0000');
    expect(xml).not.toContain('name="from"');
    expect(xml).not.toContain('name="callSid"');
    expect(await health(server)).toMatchObject({ reservedCalls: 1 });
  });
});
