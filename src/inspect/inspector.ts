/**
 * The Stately inspector for live calls (development only: `npm start -- --inspect` or `INSPECT=1`).
 *
 * `createInspector({ port, logger })` starts `@statelyai/inspect`'s relay (`createInspectorServer`:
 * an HTTP page on `port` that embeds the Stately inspector UI, plus a WebSocket relay on the same
 * port) and connects a `createWebSocketInspector` client to it. Pass `inspector.inspect` as the
 * session's `inspect` (SessionDeps.inspect → `createActor(..., { inspect })`) and every call's
 * actors (call machine, claim machine, stt/respond/hangUp actors) appear in the inspector. A
 * designer opens `inspector.url` in a browser on the same machine (the page connects to
 * `ws://localhost:<port>`; tunnel the port, e.g. `ssh -L 8080:localhost:8080`, for a remote server).
 * The inspector UI itself is loaded from stately.ai by that page, so the designer's browser needs
 * the internet; the server does not.
 *
 * What leaves the process is sanitized (src/inspect/sanitize.ts): phone numbers and claim ids
 * masked to their last 4 digits, claim values (date, amount, corrections) and the caller's words
 * redacted, keypad digits hidden; state values, event types and flags kept.
 *
 * Lifecycle: `await createInspector(...)` (rejects when the port is taken), `inspect(ev)` for every
 * inspection event (never throws, cheap: conversion is deferred to a timer by the library),
 * `await stop()` on shutdown. The relay listens on every interface, like the library does: never
 * enable it on a machine reachable from the internet.
 */
import http from 'node:http';
import net from 'node:net';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { createWebSocketInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { sanitizeInspectorContext, sanitizeInspectorEvent, sanitizeInspectorSnapshot } from './sanitize.js';

/** Options of {@link createInspector}. */
export interface InspectorOptions {
  /** Port of the relay page and WebSocket (INSPECT_PORT, default 8080). */
  port: number;
  logger: Logger;
  /** URL of the inspector UI the relay page embeds (default: Stately's hosted inspector). */
  uiUrl?: string;
}

/** A running inspector. */
export interface StatecallInspector {
  /** Feed for `createActor(..., { inspect })`. Never throws. */
  inspect: (ev: InspectionEvent) => void;
  /** The page a designer opens to watch live calls. */
  url: string;
  /** Disconnects and closes the relay. Never throws; safe to call twice. */
  stop(): Promise<void>;
}

/** Rejects when `port` cannot be listened on (the library's relay would crash the process instead). */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `INSPECT_PORT ${port} is already in use: choose another with INSPECT_PORT`
            : `cannot listen on INSPECT_PORT ${port}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    probe.listen(port, () => probe.close(() => resolve()));
  });
}

/** Resolves once the relay answers HTTP on `port` (it starts listening asynchronously). */
async function waitForRelay(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 500 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.once('error', () => resolve(false));
      req.once('timeout', () => {
        req.destroy();
        resolve(false);
      });
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the inspector relay did not start on port ${port}`);
}

/**
 * Makes an inspection event safe to leave the process: the library applies `sanitizeEvent` and
 * `sanitizeContext`, this also covers what they miss (actor input and output, errors, the live
 * snapshot objects of `@xstate.actor` events).
 */
export function sanitizeStatelyEvent(ev: StatelyInspectionEvent): StatelyInspectionEvent {
  const out = { ...ev } as StatelyInspectionEvent & { snapshot?: unknown; event?: unknown };
  if ('snapshot' in out && out.snapshot !== undefined) {
    out.snapshot = sanitizeInspectorSnapshot(out.snapshot) as never;
  }
  if ('event' in out && out.event && typeof out.event === 'object') {
    out.event = sanitizeInspectorEvent(out.event as { type: string }) as never;
  }
  return out;
}

/** Starts the relay and connects to it (see file header). */
export async function createInspector(opts: InspectorOptions): Promise<StatecallInspector> {
  const { port, logger } = opts;
  await assertPortFree(port);
  const relay = createInspectorServer({
    port,
    autoOpen: false,
    ...(opts.uiUrl ? { url: opts.uiUrl } : {}),
  });
  try {
    await waitForRelay(port);
  } catch (err) {
    relay.stop();
    throw err;
  }
  const client = createWebSocketInspector({
    url: `ws://127.0.0.1:${port}`,
    sanitizeEvent: (e) => sanitizeInspectorEvent(e),
    sanitizeContext: (c) => sanitizeInspectorContext(c),
    serialize: sanitizeStatelyEvent,
    maxDeferredEvents: 500,
  });
  // Wait until the client is connected: closing it while it still connects makes the library
  // retry every 5 s forever (its reconnect timer cannot be cancelled), which would keep a stopped
  // process alive. `status` is the adapter's own field.
  const adapter = client.adapter as unknown as { status?: string };
  for (let i = 0; i < 100 && adapter.status !== 'open'; i++) await new Promise((r) => setTimeout(r, 20));
  if (adapter.status !== 'open') {
    client.stop();
    relay.stop();
    throw new Error(`could not connect to the inspector relay on port ${port}`);
  }
  const url = `http://localhost:${port}`;
  logger.info({ url }, 'Stately inspector relay running: open this URL to watch live calls');

  let stopped = false;
  let warned = false;
  return {
    url,
    inspect(ev) {
      if (stopped) return;
      try {
        client.inspect.next?.(ev);
      } catch (err) {
        if (!warned) logger.warn({ err: (err as Error).message }, 'inspector: event dropped');
        warned = true;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        client.stop();
        relay.stop();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'inspector: stop failed');
      }
    },
  };
}
