/**
 * The `<Stream url>` the voice webhook advertises to Twilio.
 *
 * With PUBLIC_URL set it is always PUBLIC_URL's wss:// form (the URL Twilio signs the upgrade
 * over). Without it (ngrok or a load balancer set up, PUBLIC_URL not yet), the request is all
 * there is, and Twilio accepts only `wss://`:
 * - `X-Forwarded-Proto` / `X-Forwarded-Host` are honoured when the peer is trusted (TRUST_PROXY:
 *   `loopback` = only from 127.0.0.0/8 or ::1, where a local tunnel agent or reverse proxy runs;
 *   `all`; `none`);
 * - else the Host header, with `wss` for any non-loopback host (a TLS-terminating tunnel forwards
 *   plain http, so the request's own scheme says nothing) and `ws` for loopback (local tests).
 * A Host that is not a plain host[:port] is ignored (it would end up in the TwiML).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { streamUrlOf } from '../../config.js';

/** Which peers may set the forwarded headers (TRUST_PROXY). */
export type TrustProxy = 'loopback' | 'all' | 'none';

/** What the URL is derived from: the request's headers and its TCP peer. */
export interface StreamUrlRequest {
  headers: IncomingHttpHeaders;
  remoteAddress?: string | undefined;
}

/** Options of {@link advertisedStreamUrl}. */
export interface StreamUrlOptions {
  publicUrl?: string | undefined;
  trustProxy: TrustProxy;
  /** Used when the request names no usable host, e.g. `localhost:3000`. */
  fallbackHost: string;
  path?: string;
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::\d{1,5})?$/;

/** True for an IPv4 loopback, ::1 or an IPv4-mapped loopback peer address. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/i, '');
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** True when a host[:port] names this machine (localhost, *.localhost, 127.x, [::1]). */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  const n = name.toLowerCase();
  return n === 'localhost' || n.endsWith('.localhost') || isLoopbackAddress(n);
}

/** First value of a possibly repeated, comma-separated header ("https, http" → "https"). */
function firstValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  const first = s?.split(',')[0]?.trim();
  return first ? first : undefined;
}

const validHost = (h: string | undefined) => (h && HOST.test(h) ? h : undefined);

/** The stream URL for this webhook request (see file header). */
export function advertisedStreamUrl(req: StreamUrlRequest, opts: StreamUrlOptions): string {
  const path = opts.path ?? '/twilio/stream';
  if (opts.publicUrl) return streamUrlOf(opts.publicUrl, path);
  const trusted =
    opts.trustProxy === 'all' || (opts.trustProxy === 'loopback' && isLoopbackAddress(req.remoteAddress));
  const fwdProto = trusted ? firstValue(req.headers['x-forwarded-proto'])?.toLowerCase() : undefined;
  const fwdHost = trusted ? validHost(firstValue(req.headers['x-forwarded-host'])) : undefined;
  const host = fwdHost ?? validHost(firstValue(req.headers.host)) ?? opts.fallbackHost;
  let scheme: 'ws' | 'wss';
  if (fwdProto === 'https' || fwdProto === 'wss') scheme = 'wss';
  else if (fwdProto === 'http' || fwdProto === 'ws') scheme = 'ws';
  else scheme = isLoopbackHost(host) ? 'ws' : 'wss';
  return `${scheme}://${host}${path}`;
}
