/**
 * A TCP proxy (node:net) in front of a database, to cut it the way a network does.
 *
 * `cut('reset')`: every open connection is destroyed (the client sees ECONNRESET) and new ones are
 * refused (accepted and reset at once). `cut('blackhole')`: new connections are refused the same
 * way, but the open ones stay up and every byte on them is silently dropped in both directions,
 * like a partition: a query in flight may have reached the database (and committed) while its
 * answer never comes back, the case that turns a retry into a duplicate unless writes are
 * idempotent. `restore()` forwards again; blackholed connections are destroyed then (bytes were
 * lost, so their protocol state is gone), and the client has to reconnect.
 *
 * Lifecycle: `const proxy = await startTcpProxy(target)` ... `await proxy.close()`.
 */
import net from 'node:net';

/** How a cut treats the connections already open. */
export type CutMode = 'reset' | 'blackhole';

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /** Connections accepted and forwarded since the start. */
  readonly connections: number;
  /** Connections refused while cut. */
  readonly refused: number;
  /** Bytes dropped while blackholed. */
  readonly droppedBytes: number;
  readonly isCut: boolean;
  cut(mode: CutMode): void;
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  blackholed: boolean;
}

/** Starts a proxy on 127.0.0.1 (ephemeral port) forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let cutMode: CutMode | null = null;
  let connections = 0;
  let refused = 0;
  let droppedBytes = 0;

  const server = net.createServer((client) => {
    if (cutMode) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    connections++;
    const upstream = net.connect(target.port, target.host);
    const pair: Pair = { client, upstream, blackholed: false };
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (pair.blackholed) droppedBytes += chunk.length;
        else if (!to.destroyed) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get connections() {
      return connections;
    },
    get refused() {
      return refused;
    },
    get droppedBytes() {
      return droppedBytes;
    },
    get isCut() {
      return cutMode !== null;
    },
    cut(mode) {
      cutMode = mode;
      for (const p of [...pairs]) {
        if (mode === 'reset') {
          p.client.resetAndDestroy();
          p.upstream.destroy();
        } else p.blackholed = true;
      }
    },
    restore() {
      cutMode = null;
      for (const p of [...pairs]) {
        if (p.blackholed) {
          p.client.resetAndDestroy();
          p.upstream.destroy();
        }
      }
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
