/**
 * The HTTP edge over real HTTP (node:http, so every header and byte is what the test says) on an
 * ephemeral port: the stream URL the webhook advertises behind a tunnel (whole server), and bad
 * request bodies and unknown routes answered with JSON errors (the app alone, with a static
 * client folder).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { startLocalServer, type LocalServer } from '../support/replay-helper.js';
import { serveApp, type ServedApp } from '../support/app-harness.js';

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request with exactly these headers and body bytes. */
function request(
  server: { url: string },
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: Number(new URL(server.url).port),
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const form = 'application/x-www-form-urlencoded';

describe('the HTTP edge', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const streamUrlOf = async (headers: Record<string, string>) => {
    const r = await request(server, {
      method: 'POST',
      path: '/twilio/voice',
      headers: { 'content-type': form, ...headers },
      body: 'CallSid=CA0123456789abcdef0123456789abcdef',
    });
    return /<Stream url="([^"]+)"/.exec(r.text)?.[1];
  };

  it('advertises wss:// for the tunnel host a TLS-terminating tunnel forwards as plain http', async () => {
    expect(await streamUrlOf({ host: 'abc123.ngrok.app' })).toBe('wss://abc123.ngrok.app/twilio/stream');
  });

  it('honours X-Forwarded-Proto and X-Forwarded-Host from a loopback proxy', async () => {
    expect(
      await streamUrlOf({
        host: `127.0.0.1:${server.port}`,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'bot.example.com',
      }),
    ).toBe('wss://bot.example.com/twilio/stream');
  });

  it('keeps ws:// for a loopback host (local simulated callers)', async () => {
    expect(await streamUrlOf({ host: `127.0.0.1:${server.port}` })).toBe(
      `ws://127.0.0.1:${server.port}/twilio/stream`,
    );
  });
});

describe('bad request bodies and unknown routes', () => {
  let served: ServedApp;
  let clientDir: string;
  beforeAll(async () => {
    clientDir = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-client-'));
    fs.writeFileSync(path.join(clientDir, 'index.html'), '<!doctype html><title>statecall</title>');
    served = await serveApp({ clientDir });
  });
  afterAll(async () => {
    await served?.close();
    fs.rmSync(clientDir, { recursive: true, force: true });
  });

  const post = (contentType: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    request(served, {
      method: 'POST',
      path: '/twilio/voice',
      headers: { 'content-type': contentType, ...headers },
      body,
    });
  const jsonError = (r: RawAnswer) => {
    expect(r.headers['content-type']).toMatch(/application\/json/);
    return JSON.parse(r.text) as { error: string; type?: string };
  };

  it.each([
    ['a 10 MB form', form, () => `a=${'x'.repeat(10 * 1024 * 1024)}`, 413, 'request body too large'],
    [
      'a 10 MB JSON body',
      'application/json',
      () => JSON.stringify({ a: 'x'.repeat(10 * 1024 * 1024) }),
      413,
      'request body too large',
    ],
    ['malformed JSON', 'application/json', () => '{"a":', 400, 'malformed request body'],
    [
      '5000 form parameters',
      form,
      () => Array.from({ length: 5000 }, (_, i) => `p${i}=1`).join('&'),
      413,
      'too many form parameters',
    ],
    ['an unknown charset', 'application/json; charset=klingon', () => '{}', 415, 'unsupported charset'],
  ])('answers %s with its own status and a JSON error', async (_what, contentType, body, status, error) => {
    const r = await post(contentType, body());
    expect(r.status).toBe(status);
    expect(jsonError(r).error).toBe(error);
  });

  it('answers a body that is not the gzip it claims with 400 and a JSON error', async () => {
    const r = await post(form, Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' });
    expect(r.status).toBe(400);
    expect(jsonError(r).error).toBe('malformed compressed body');
  });

  it('answers an unsupported content encoding with 415 and a JSON error', async () => {
    const r = await post(form, gzipSync('a=1'), { 'content-encoding': 'x-unknown' });
    expect(r.status).toBe(415);
    expect(jsonError(r).error).toBe('unsupported content encoding');
  });

  it.each([
    ['GET', '/no/such/page'],
    ['POST', '/no/such/route'],
    ['GET', '/%E0%A4%A'],
  ])('answers %s %s with a JSON error, not an HTML page', async (method, p) => {
    const r = await request(served, { method, path: p });
    expect([400, 404]).toContain(r.status);
    expect(jsonError(r).error).toBeTruthy();
  });

  it('answers an unknown route with a JSON 404', async () => {
    const r = await request(served, { path: '/nope' });
    expect(r.status).toBe(404);
    expect(jsonError(r).error).toBe('no route for GET /nope');
  });

  it('still serves the static client at /', async () => {
    const r = await request(served, { path: '/' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.text).toContain('<title>statecall</title>');
    expect((await request(served, { path: '/index.html' })).status).toBe(200);
  });
});
