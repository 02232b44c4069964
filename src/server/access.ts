/**
 * Access rule for the endpoints that expose callers' personal data (/api/*, /client/stream):
 * - DASHBOARD_TOKEN set: a matching `Authorization: Bearer <token>` header or `?token=` is required;
 * - PUBLIC_URL set (exposed to the internet for Twilio) and no token: refused, with how to enable;
 * - otherwise (local zero-config run): open.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Outcome of an access check. */
export type AccessDecision = { ok: true } | { ok: false; status: 401 | 403; message: string };

/** The settings the rule depends on. */
export interface AccessConfig {
  dashboardToken?: string;
  publicUrl?: string;
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
