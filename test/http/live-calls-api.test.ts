/**
 * `GET /api/calls/live` and its event stream on one server (embedded PGlite: the in-process
 * feed), behind the dashboard token like every /api route: a browser call in progress is listed
 * with its state and claim step, and the event stream pushes a view that has it.
 */
import http from 'node:http';
import type { LiveCallsView } from '../../src/ops/live-calls/types.js';
import { connectBrowserCall, startLocalServer, type LocalServer } from '../support/replay-helper.js';

const TOKEN = 'live-calls-dashboard-token';

/** Reads `event: view` messages of the SSE stream until one passes `check`. */
function streamedViewWhen(url: string, check: (v: LiveCallsView) => boolean): Promise<LiveCallsView> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        reject(new Error(`HTTP ${res.statusCode} ${String(res.headers['content-type'])}`));
        res.resume();
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event !== 'view' || !data) continue;
          const view = JSON.parse(data) as LiveCallsView;
          if (check(view)) {
            resolve(view);
            req.destroy();
            return;
          }
        }
      });
    });
    req.on('error', reject);
  });
}

describe('live calls API', () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startLocalServer({ env: { DASHBOARD_TOKEN: TOKEN } });
  }, 60_000);
  afterAll(() => server?.stop(), 30_000);

  it('refuses both routes without the dashboard token', async () => {
    for (const path of ['/api/calls/live', '/api/calls/live/events']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toMatch(/dashboard token/);
    }
  });

  it('lists a call in progress with its state and claim step, and streams views that have it', async () => {
    const call = await connectBrowserCall(server.streamUrl, { token: TOKEN });
    try {
      const started = await call.waitFor((m) => m.event === 'session.started', 0, 'session.started');
      const id = String(started.conversationId);
      const pushed = await streamedViewWhen(`${server.url}/api/calls/live/events`, (v) =>
        v.calls.some((c) => c.conversationId === id && c.claimStep !== null),
      );
      expect(pushed.source).toBe('in-process');
      const res = await fetch(`${server.url}/api/calls/live`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(200);
      const view = (await res.json()) as LiveCallsView;
      expect(view.instances).toHaveLength(1);
      expect(view.calls.find((c) => c.conversationId === id)).toMatchObject({
        channel: 'browser',
        caller: null,
        claimState: 'initial',
      });
    } finally {
      call.close();
    }
  }, 60_000);
});
