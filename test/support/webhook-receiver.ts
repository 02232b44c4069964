/**
 * A local HTTP receiver for the post-call webhook: keeps every request (raw body, headers) and
 * answers with what the test scripts (a status per request, or a request held until released).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as received. */
export interface ReceivedHook {
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** The answer to the n-th request: a status, or `hold` (answered only when `release` is called). */
export type HookAnswer = number | 'hold';

/** A running receiver. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedHook[];
  /** Resolves once `n` requests arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Answers a held request with `status`. */
  release(status: number): void;
  close(): Promise<void>;
}

/** Starts a receiver answering `answers[i]` to request i (then 200). */
export async function startWebhookReceiver(answers: HookAnswer[] = []): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const held: http.ServerResponse[] = [];
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = received.length;
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      for (const w of waiters.splice(0)) w();
      const a = answers[i] ?? 200;
      if (a === 'hold') held.push(res);
      else res.writeHead(a).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/post-call?key=abc`,
    received,
    async waitFor(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`webhook receiver: ${received.length} of ${n} requests`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    release(status) {
      held.shift()?.writeHead(status).end();
    },
    async close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
