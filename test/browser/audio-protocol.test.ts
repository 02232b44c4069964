/**
 * The Talk page's side of the audio protocol, against a scripted server (the built client served
 * statically, `/client/stream` played by the test): continuous 160-byte mu-law frames from the
 * microphone; bot audio played with marks echoed once the audio before them was played; `clear`
 * stopping playback at once and echoing every pending mark; each mark echoed exactly once.
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Browser } from 'playwright-core';
import {
  describeBrowser,
  ensureClientBuilt,
  launchChromium,
  openWatchedPage,
  screenshot,
} from './browser-harness.js';

const clientDist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../client/dist');
const WAIT_MS = 20_000;

/** A mu-law 400 Hz tone (about -12 dBFS) of `seconds`, like a TTS would send. */
function tone(seconds: number): Buffer {
  const n = Math.round(seconds * 8000);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    const s = Math.round(8000 * Math.sin((2 * Math.PI * 400 * i) / 8000));
    // Sun g711 encode (same convention as src/audio/mulaw.ts), inline to keep the fake self-contained.
    const sign = s < 0 ? 0x80 : 0;
    const m = Math.min((sign ? -s : s) + 0x84, 32635);
    let e = 7;
    for (let mask = 0x4000; (m & mask) === 0 && e > 0; mask >>= 1) e--;
    out[i] = ~(sign | (e << 4) | ((m >> (e + 3)) & 0x0f)) & 0xff;
  }
  return out;
}

/** Resolves once `cond()` holds (checked every 50 ms; the test's own limit ends a broken run). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 50));
}

interface ScriptedCall {
  ws: WebSocket;
  binaryFrames: Buffer[];
  marks: string[];
  waitForMark(name: string): Promise<void>;
  json(o: Record<string, unknown>): void;
}

describeBrowser('audio protocol in the browser client', () => {
  let browser: Browser;
  let server: http.Server;
  let baseUrl = '';
  let nextCall: ((c: ScriptedCall) => void) | null = null;

  beforeAll(async () => {
    await ensureClientBuilt();
    const app = express();
    app.get('/healthz', (_req, res) => {
      res.json({
        ok: true,
        activeCalls: 0,
        store: 'none',
        providers: { stt: 'test', llm: 'test', tts: 'test' },
      });
    });
    // The Talk page asks the read API whether the dashboard is open before it offers a call.
    app.get('/api/conversations', (_req, res) => {
      res.json({ conversations: [], next: null });
    });
    app.use(express.static(clientDist));
    server = http.createServer(app);
    const wss = new WebSocketServer({ server, path: '/client/stream' });
    wss.on('connection', (ws, req) => {
      expect(new URL(req.url ?? '/', 'http://x').searchParams.get('audio')).toBe('1');
      const waiters = new Map<string, () => void>();
      const call: ScriptedCall = {
        ws,
        binaryFrames: [],
        marks: [],
        waitForMark: (name) =>
          call.marks.includes(name) ? Promise.resolve() : new Promise((r) => waiters.set(name, r)),
        json: (o) => ws.send(JSON.stringify(o)),
      };
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          call.binaryFrames.push(Buffer.from(data as Buffer));
          return;
        }
        const m = JSON.parse(String(data)) as { event: string; name?: string };
        if (m.event === 'mark' && m.name) {
          call.marks.push(m.name);
          waiters.get(m.name)?.();
        }
      });
      nextCall?.(call);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('streams 20 ms mu-law frames, echoes marks after playback, and on clear stops at once and echoes pending marks once', async () => {
    const { page, errors, context } = await openWatchedPage(browser);
    page.setDefaultTimeout(WAIT_MS);
    try {
      const connected = new Promise<ScriptedCall>((r) => (nextCall = r));
      await page.goto(`${baseUrl}/`);
      await page.getByRole('button', { name: 'Call', exact: true }).click();
      const call = await connected;
      call.json({
        event: 'session.started',
        conversationId: 'c1',
        claimId: 'CLM-0000-0001',
        channel: 'browser',
      });
      await page
        .locator('#mic-state')
        .filter({ hasText: /^Microphone on/ })
        .waitFor();

      // A short bot turn: its mark comes back once played.
      call.ws.send(tone(0.3));
      call.json({ event: 'mark', name: 'short-1' });
      await call.waitForMark('short-1');

      // A turn far longer than this test: the mark can only come back through `clear`.
      call.ws.send(tone(60));
      call.json({ event: 'mark', name: 'long-1' });
      call.json({ event: 'mark', name: 'long-2' });
      await page.locator('.talk-page.bot-audible').waitFor();
      call.json({ event: 'clear' });
      await call.waitForMark('long-1');
      await call.waitForMark('long-2');
      await page.locator('.talk-page:not(.bot-audible)').waitFor();

      // Playback goes on normally after a clear.
      call.ws.send(tone(0.2));
      call.json({ event: 'mark', name: 'after-clear' });
      await call.waitForMark('after-clear');
      expect(call.marks).toEqual(['short-1', 'long-1', 'long-2', 'after-clear']);

      // Muting keeps the frames flowing (silence), so the server's VAD timing stays intact.
      await page.getByRole('button', { name: 'Mute microphone' }).click();
      await page
        .locator('#mic-state')
        .filter({ hasText: /^Microphone muted/ })
        .waitFor();
      expect(await page.getByRole('button', { name: 'Unmute microphone' }).getAttribute('aria-pressed')).toBe(
        'true',
      );
      // Frames already in flight may still carry sound: judge the ones after the next 10.
      const from = call.binaryFrames.length + 10;
      await until(() => call.binaryFrames.length >= from + 25);
      expect(call.binaryFrames.slice(from).every((f) => f.every((b) => b === 0xff))).toBe(true);
      expect(new Set(call.binaryFrames.map((f) => f.length))).toEqual(new Set([160]));
      await screenshot(page, 'talk-audio-protocol');

      call.json({ event: 'hangup', reason: 'completed' });
      call.json({ event: 'session.ended', reason: 'completed' });
      call.ws.close(1000, 'call ended');
      await page
        .locator('#call-status')
        .filter({ hasText: /^Call ended/ })
        .waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
