/**
 * Small plumbing shared by the provider fakes: listening on an ephemeral 127.0.0.1 port, refusing
 * a WebSocket upgrade with a real HTTP status, and closing everything without leaving handles
 * open in jest.
 */
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';

/** An HTTP server listening on 127.0.0.1 with an OS-assigned port. */
export interface ListeningServer {
  server: Server;
  port: number;
  url: string;
  /** Destroys every socket (HTTP and upgraded) and stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Starts `http.createServer(handler)` on 127.0.0.1:0 and tracks its sockets for a clean close. */
export async function listenEphemeral(
  handler?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<ListeningServer> {
  const server = createServer(handler ?? ((_req, res) => void res.writeHead(404).end()));
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Answers an upgrade request with a plain HTTP error (what real services do on a bad key). */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = {
    'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': String(Buffer.byteLength(payload)),
    Connection: 'close',
    ...extraHeaders,
  };
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`]
    .concat(Object.entries(headers).map(([k, v]) => `${k}: ${v}`))
    .join('\r\n');
  socket.end(`${head}\r\n\r\n${payload}`);
  socket.destroy();
}

/** Terminates every client of a `ws` server and closes it. */
export async function closeWebSocketServer(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

/** A set of timers that can all be cleared at once (so `close()` leaves nothing pending). */
export class TimerBag {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** setTimeout that is forgotten once it fires. */
  set(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(t);
    return t;
  }

  /** clearTimeout for a timer from this bag. */
  clear(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Clears every pending timer. */
  clearAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** Resolves after `ms` (uses a plain timer: only for test code paths that are awaited). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export { waitUntil } from '../../src/loadtest/wait-until.js';
