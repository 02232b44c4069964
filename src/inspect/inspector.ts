/**
 * The Stately inspector for live calls (development only: `npm start -- --inspect` or `INSPECT=1`).
 *
 * `createInspector({ port, host, logger })` starts the relay (inspector-relay.ts: an HTTP page on
 * `host:port` that embeds the Stately inspector UI, plus a WebSocket relay on the same port; the
 * library's own `createInspectorServer` cannot bind a host) and connects a
 * `createWebSocketInspector` client to it. Pass `inspector.inspect` as the
 * session's `inspect` (SessionDeps.inspect → `createActor(..., { inspect })`) and every call's
 * actors (call machine, claim machine, stt/respond/hangUp actors) appear in the inspector. A
 * designer opens `inspector.url` in a browser on the same machine (the page connects back to the
 * host it came from; tunnel the port, e.g. `ssh -L 8080:localhost:8080`, for a remote server).
 * The inspector UI itself is loaded from stately.ai by that page, so the designer's browser needs
 * the internet; the server does not.
 *
 * What leaves the process is sanitized (src/inspect/sanitize.ts): phone numbers and claim ids
 * masked to their last 4 digits, claim values (date, amount, corrections) and the caller's words
 * redacted, keypad digits hidden; state values, event types and flags kept.
 *
 * Lifecycle: `await createInspector(...)` (rejects when the port is taken), `inspect(ev)` for every
 * inspection event (never throws, cheap: conversion is deferred to a timer by the library),
 * `await stop()` on shutdown. The relay listens on `host` only (INSPECT_HOST, default: HOST, or
 * loopback when HOST is all interfaces) and has no authentication: development only.
 */
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { createWebSocketInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { sanitizeInspectorContext, sanitizeInspectorEvent, sanitizeInspectorSnapshot } from './sanitize.js';
import { startInspectorRelay } from './inspector-relay.js';

/** Options of {@link createInspector}. */
export interface InspectorOptions {
  /** Port of the relay page and WebSocket (INSPECT_PORT, default 8080). */
  port: number;
  /** Address the relay listens on (see `inspectHostOf` in config.ts). Default 127.0.0.1. */
  host?: string;
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

/** How a client on this machine reaches `host` (the wildcard addresses accept loopback). */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '127.0.0.1') return '127.0.0.1';
  if (host === 'localhost') return host;
  return host.includes(':') ? `[${host}]` : host;
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
  const host = opts.host ?? '127.0.0.1';
  const relay = await startInspectorRelay({
    port,
    host,
    uiUrl: opts.uiUrl ?? 'https://stately.ai/inspect',
  }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      err.code === 'EADDRINUSE'
        ? `INSPECT_PORT ${port} is already in use: choose another with INSPECT_PORT`
        : `cannot listen on ${host}:${port} for the inspector: ${err.message}`,
      { cause: err },
    );
  });
  const local = reachableHost(host);
  const client = createWebSocketInspector({
    url: `ws://${local}:${relay.port}`,
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
    await relay.stop();
    throw new Error(`could not connect to the inspector relay on port ${port}`);
  }
  const url = `http://${local === '127.0.0.1' ? 'localhost' : local}:${relay.port}`;
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
        await relay.stop();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'inspector: stop failed');
      }
    },
  };
}
