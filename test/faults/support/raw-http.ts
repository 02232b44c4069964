/**
 * Plain HTTP requests with full control over headers and body bytes (fetch normalises both), and
 * raw WebSocket upgrade requests, for feeding a server input no well-behaved client sends.
 */
import http from 'node:http';

/** What came back. `error` is set when the connection failed before any response. */
export interface RawResponse {
  status: number;
  contentType: string;
  body: string;
  error?: string;
}

/**
 * Sends one request. A server may answer (e.g. 413) before it has read a large body and close
 * the connection: the response still counts, the client's write error is ignored.
 */
export function rawRequest(
  baseUrl: string,
  req: { method: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<RawResponse> {
  const url = new URL(req.path, baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: RawResponse) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const r = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: url.pathname + url.search,
        headers: { ...(body ? { 'Content-Length': String(body.length) } : {}), ...req.headers },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        const done = () =>
          finish({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(parts).toString('utf8'),
          });
        res.on('end', done);
        res.on('error', done);
        res.on('aborted', done);
      },
    );
    r.on('error', (err) => finish({ status: 0, contentType: '', body: '', error: err.message }));
    r.setTimeout(30_000, () => r.destroy(new Error('timeout')));
    if (body) r.write(body);
    r.end();
  });
}

/** Sends a WebSocket upgrade request as-is and returns the status line's code (101 or a refusal). */
export function rawUpgrade(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; error?: string }> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve) => {
    const r = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', ...headers },
    });
    r.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101 });
    });
    r.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    r.on('error', (err) => resolve({ status: 0, error: err.message }));
    r.setTimeout(10_000, () => r.destroy(new Error('timeout')));
    r.end();
  });
}
