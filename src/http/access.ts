/**
 * Access rule for the endpoints that expose callers' personal data (/api/*, /client/stream):
 * - DASHBOARD_TOKEN set: a matching `Authorization: Bearer <token>` header or `?token=` is required;
 * - PUBLIC_URL set (exposed to the internet for Twilio) and no token: refused, with how to enable;
 * - otherwise (local zero-config run): open.
 * `/client/stream` also checks the Origin ({@link checkOrigin}).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';

/** Outcome of an access check. */
export type AccessDecision = { ok: true } | { ok: false; status: 401 | 403; message: string };

/** The settings the rule depends on. */
export interface AccessConfig {
  dashboardToken?: string | undefined;
  publicUrl?: string | undefined;
  /** Extra web origins allowed to open `/client/stream` (ALLOWED_ORIGINS), e.g. `https://app.example`. */
  allowedOrigins?: readonly string[] | undefined;
  /** Token `GET /metrics` requires (METRICS_TOKEN); default: the dashboard token. */
  metricsToken?: string | undefined;
}

function tokenOf(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const url = new URL(req.url ?? '/', 'http://x');
  return url.searchParams.get('token');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Decides whether a request may read conversation data. */
export function checkDashboardAccess(req: IncomingMessage, cfg: AccessConfig): AccessDecision {
  if (cfg.dashboardToken) {
    const given = tokenOf(req);
    if (given && same(given, cfg.dashboardToken)) return { ok: true };
    return {
      ok: false,
      status: 401,
      message: 'missing or wrong dashboard token (Authorization: Bearer <DASHBOARD_TOKEN>)',
    };
  }
  if (cfg.publicUrl) {
    return {
      ok: false,
      status: 403,
      message:
        "this server is public (PUBLIC_URL is set) and holds callers' personal data: set DASHBOARD_TOKEN to enable the dashboard API and browser client",
    };
  }
  return { ok: true };
}

/**
 * Access rule for `GET /metrics` (no personal data, but operational detail): METRICS_TOKEN when
 * set, else DASHBOARD_TOKEN when set, as a Bearer header or `?token=`; with neither, open, so a
 * Prometheus inside the cluster scrapes it without configuration.
 */
export function checkMetricsAccess(req: IncomingMessage, cfg: AccessConfig): AccessDecision {
  const token = cfg.metricsToken ?? cfg.dashboardToken;
  if (!token) return { ok: true };
  const given = tokenOf(req);
  if (given && same(given, token)) return { ok: true };
  return {
    ok: false,
    status: 401,
    message: `missing or wrong metrics token (Authorization: Bearer <${cfg.metricsToken ? 'METRICS_TOKEN' : 'DASHBOARD_TOKEN'}>)`,
  };
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

const LOOPBACK_NAMES = /^(localhost|.*\.localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;

/**
 * Origin rule for `/client/stream` (a WebSocket is not covered by the browser's same-origin
 * policy: without it any web page a user visits could open a call and read the transcript):
 * - no Origin header: allowed (the terminal chat, Node clients; browsers always send one);
 * - the same host as the request's Host header, or PUBLIC_URL's origin: allowed;
 * - PUBLIC_URL unset and a loopback origin (`npm run dev`'s Vite server on :5173): allowed;
 * - an origin listed in ALLOWED_ORIGINS: allowed;
 * - anything else: 403.
 */
export function checkOrigin(req: IncomingMessage, cfg: AccessConfig): AccessDecision {
  const origin = req.headers.origin;
  if (origin === undefined) return { ok: true };
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return { ok: false, status: 403, message: 'malformed Origin header' };
  }
  if (o.host && o.host === req.headers.host) return { ok: true };
  if (cfg.publicUrl && originOf(cfg.publicUrl) === o.origin) return { ok: true };
  if (!cfg.publicUrl && LOOPBACK_NAMES.test(o.hostname)) return { ok: true };
  if (cfg.allowedOrigins?.some((a) => originOf(a) === o.origin)) return { ok: true };
  return {
    ok: false,
    status: 403,
    message: `origin ${o.origin.slice(0, 100)} may not open calls here (add it to ALLOWED_ORIGINS)`,
  };
}

/** Express middleware: the request goes on only past {@link checkDashboardAccess} (JSON error otherwise). */
export function requireDashboardAccess(cfg: AccessConfig): RequestHandler {
  return (req, res, next) => {
    const decision = checkDashboardAccess(req, cfg);
    if (!decision.ok) {
      res.status(decision.status).json({ error: decision.message });
      return;
    }
    next();
  };
}
