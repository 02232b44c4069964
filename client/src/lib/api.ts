/**
 * The server's read API (`/api/conversations`, `/healthz`) and the call socket URL, with the
 * dashboard token passed on: the page's own `?token=` goes to the API as a Bearer header and to
 * the WebSocket as `?token=` (browsers cannot set headers on a WebSocket).
 */
import type { ConversationDetail, ConversationRow, ConversationState } from './rows';

/** The dashboard token from the page URL (`?token=...`), if any. */
export function pageToken(): string | null {
  return new URLSearchParams(window.location.search).get('token');
}

/** A failed API request, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Resolves a server path against the page (works at `/` and behind a path prefix). */
export function serverUrl(path: string): URL {
  return new URL(path.replace(/^\//, ''), new URL('./', window.location.href));
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const token = pageToken();
  let res: Response;
  try {
    res = await fetch(serverUrl(path), {
      headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'the server did not answer (is it running?)');
  }
  const body = (await res.json().catch(() => null)) as { error?: string } | null;
  if (!res.ok) {
    const hint =
      res.status === 401
        ? ' Open this page with ?token=<DASHBOARD_TOKEN> in its address.'
        : res.status === 403
          ? ' Set DASHBOARD_TOKEN on the server and open this page with ?token=<DASHBOARD_TOKEN>.'
          : '';
    throw new ApiError(res.status, `${body?.error ?? `HTTP ${res.status}`}.${hint}`);
  }
  return body as T;
}

/** Lists conversations, newest first. */
export async function listConversations(
  query: { limit?: number; state?: ConversationState | ''; endReason?: string },
  signal?: AbortSignal,
): Promise<ConversationRow[]> {
  const q = new URLSearchParams();
  q.set('limit', String(query.limit ?? 50));
  if (query.state) q.set('state', query.state);
  if (query.endReason) q.set('end_reason', query.endReason);
  const r = await getJson<{ conversations: ConversationRow[] }>(`/api/conversations?${q}`, signal);
  return r.conversations;
}

/** Everything stored about one conversation. */
export function getConversation(id: string, signal?: AbortSignal): Promise<ConversationDetail> {
  return getJson<ConversationDetail>(`/api/conversations/${encodeURIComponent(id)}`, signal);
}

/** What `/healthz` says (only the parts the client shows). */
export interface Health {
  ok: boolean;
  activeCalls: number;
  store: { kind: string; reachable: boolean; detail?: string };
  providers?: { stt?: string; llm?: string; tts?: string };
}

/** The server's health, or null when it cannot be read. */
export async function getHealth(): Promise<Health | null> {
  try {
    return await getJson<Health>('/healthz');
  } catch {
    return null;
  }
}

/** The `/client/stream` WebSocket URL (audio mode adds `audio=1`), with the token. */
export function callSocketUrl(audio: boolean): string {
  const url = serverUrl('/client/stream');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (audio) url.searchParams.set('audio', '1');
  const token = pageToken();
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

/**
 * Why this page may not open calls or read history (the dashboard is locked: PUBLIC_URL without
 * DASHBOARD_TOKEN, or a missing or wrong `?token=`), with how to open it; null when it may, or when
 * the server cannot be reached (the call itself then says so).
 */
export async function dashboardLockedReason(signal?: AbortSignal): Promise<string | null> {
  try {
    await getJson('/api/conversations?limit=1', signal);
    return null;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      return err.status === 403
        ? 'This dashboard is locked: the server is public (PUBLIC_URL is set) and no DASHBOARD_TOKEN is set, so calls from this page and the call history are refused to protect callers’ personal data. To open it, set DASHBOARD_TOKEN on the server, restart it, and open this page as /?token=<DASHBOARD_TOKEN>.'
        : 'This dashboard needs its token: open this page as /?token=<DASHBOARD_TOKEN> (the value set on the server). Without it, calls from this page and the call history are refused.';
    }
    return null;
  }
}
