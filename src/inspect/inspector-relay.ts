/**
 * The inspector relay: an HTTP page that embeds the Stately inspector UI, plus a WebSocket relay
 * on the same port that forwards every inspection event one client sends to all the others (the
 * server's inspector client in, the designer's page out), replaying the last 200 to a newcomer.
 *
 * Same behaviour and page as `@statelyai/inspect/server`'s `createInspectorServer`, which always
 * listens on every interface and cannot be given a host: this one binds `host` (the server's
 * HOST, loopback by default), refuses WebSocket upgrades from another web origin (a page on any
 * site the designer visits could otherwise read the relay), and its page connects back to the
 * host it was loaded from (so an `ssh -L` tunnel works).
 *
 * Lifecycle: `await startInspectorRelay(...)` (rejects when the port cannot be listened on, e.g.
 * EADDRINUSE), `await stop()` (closes every socket; safe twice).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/** Options of {@link startInspectorRelay}. */
export interface InspectorRelayOptions {
  port: number;
  /** Address to listen on (never all interfaces unless asked for). */
  host: string;
  /** URL of the inspector UI the page embeds. */
  uiUrl: string;
}

/** A listening relay. */
export interface InspectorRelay {
  port: number;
  stop(): Promise<void>;
}

const REPLAY = 200;

function escapeAttribute(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The bridge page: the UI in an iframe, fed by postMessage from the relay socket. */
function bridgePage(uiUrl: string): string {
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Stately Inspector</title>
  <style>* { margin: 0; padding: 0; } html, body { height: 100%; } iframe { width: 100%; height: 100%; border: none; }</style>
</head>
<body>
  <iframe id="inspector" src="${escapeAttribute(uiUrl)}"></iframe>
  <script>
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        for (const event of buffer) iframe.contentWindow.postMessage(event, '*');
        buffer.length = 0;
      }
    });
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host);
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
}

/** True for no Origin (a Node client) or the relay page's own origin. */
function sameOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Starts the relay (see file header). */
export async function startInspectorRelay(opts: InspectorRelayOptions): Promise<InspectorRelay> {
  const page = bridgePage(opts.uiUrl);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  const wss = new WebSocketServer({
    server,
    maxPayload: 4 * 1024 * 1024,
    verifyClient: (info: { req: http.IncomingMessage }) => sameOrigin(info.req),
  });
  // `ws` re-emits the HTTP server's errors (a listen EADDRINUSE too): the listen promise below
  // reports them; without a listener here they would be an uncaught exception.
  wss.on('error', () => {});
  const replay: string[] = [];
  wss.on('connection', (ws) => {
    for (const msg of replay) ws.send(msg);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data) => {
      const msg = data.toString();
      replay.push(msg);
      if (replay.length > REPLAY) replay.shift();
      for (const client of wss.clients)
        if (client !== ws && client.readyState === WebSocket.OPEN) client.send(msg);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let stopping: Promise<void> | null = null;
  return {
    port: (server.address() as AddressInfo).port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
