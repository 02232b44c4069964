/**
 * A {@link CallSource} over a running server's read API (`GET /api/conversations`, with `since`,
 * `before` and the `next` cursor; `GET /api/conversations/:id`), for replay while the server holds
 * the database. Every request has a timeout; an HTTP error rejects with the server's answer.
 */
import type { ConversationDetail, ConversationRow } from '../store/types.js';
import type { CallSource } from './replay-all.js';

/** Thrown when nothing answers at the base URL (connection refused, timeout). */
export class ServerUnreachableError extends Error {
  constructor(readonly base: string) {
    super(`no server answers at ${base}`);
    this.name = 'ServerUnreachableError';
  }
}

/** Options of {@link apiCallSource}. */
export interface ApiCallSourceOptions {
  token?: string;
  /** Per request, ms (default 10 s). */
  timeoutMs?: number;
}

/** Creates the source; nothing is fetched until it is used. */
export function apiCallSource(base: string, opts: ApiCallSourceOptions = {}): CallSource {
  const request = async (path: string): Promise<Response> => {
    try {
      return await fetch(`${base}${path}`, {
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch {
      throw new ServerUnreachableError(base);
    }
  };
  const refuse = async (res: Response): Promise<never> => {
    throw new Error(`server answered HTTP ${res.status}: ${(await res.text()).slice(0, 500)}`);
  };
  return {
    async listPage({ limit, since, cursor }) {
      const q = new URLSearchParams({ limit: String(limit) });
      if (since !== undefined) q.set('since', since);
      if (cursor !== undefined) q.set('before', cursor);
      const res = await request(`/api/conversations?${q.toString()}`);
      if (!res.ok) return refuse(res);
      const body = (await res.json()) as { conversations?: ConversationRow[]; next?: string | null };
      // A server from before paging returns no `next`: it cannot page, so refuse to look complete.
      if (body.next === undefined) throw new Error('the server does not page conversations (no `next`)');
      return { conversations: body.conversations ?? [], next: body.next };
    },
    async get(id) {
      const res = await request(`/api/conversations/${encodeURIComponent(id)}`);
      if (res.status === 404) return null;
      if (!res.ok) return refuse(res);
      return (await res.json()) as ConversationDetail;
    },
  };
}
