/**
 * The HTTP edge over real HTTP (node:http, so every header and byte is what the test says) against
 * the whole server on an ephemeral port: the stream URL the webhook advertises behind a tunnel.
 */
import http from 'node:http';
import { startLocalServer, type LocalServer } from '../support/replay-helper.js';

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request with exactly these headers and body bytes. */
function request(
  server: LocalServer,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
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
