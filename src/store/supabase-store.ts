/**
 * `ConversationStore` over Supabase's Data API (PostgREST) with `@supabase/supabase-js`.
 * The schema is applied out of band with the Supabase CLI (`supabase db push`); this adapter only
 * checks that it is there.
 */
import { createClient, type SupabaseClient, type WebSocketLikeConstructor } from '@supabase/supabase-js';
import { WebSocket } from 'ws';
import {
  clampLimit,
  isUuid,
  lastPerKey,
  MESSAGE_COLUMNS,
  METRICS_COLUMNS,
  PATCH_COLUMNS,
  pick,
  sanitizeDeep,
  toConversationRow,
  toMessageRow,
  toMetricsRow,
  toTransitionRow,
  TRANSITION_COLUMNS,
} from './rows.js';
import {
  ClaimIdConflictError,
  type ConversationDetail,
  type ConversationRow,
  type ConversationStore,
  type MetricsRow,
  type NewConversation,
  SERVER_CRASHED,
} from './types.js';

/** Options of {@link createSupabaseStore}. */
export interface SupabaseStoreOptions {
  /** Project URL, e.g. https://abcd.supabase.co (the client appends /rest/v1). */
  url: string;
  /** The service-role (secret) key: RLS is on with no policy, so the anon key can do nothing. */
  key: string;
  /** Custom fetch (tests, proxies). */
  fetch?: typeof fetch;
  /** Abort a Data API request after this long (default 20 s): a hung request must not stall the outbox. */
  requestTimeoutMs?: number;
}

/** A failed Data API call: PostgREST's `{code, details, hint, message}` plus the HTTP status (0 = network). */
export class SupabaseRequestError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    /** SQLSTATE (e.g. 23505) or PostgREST code (PGRSTxxx); '' for network failures. */
    readonly code: string,
    readonly details: string | null,
    readonly hint: string | null,
    message: string,
  ) {
    super(`supabase ${operation} failed (${status || 'network'}${code ? ` ${code}` : ''}): ${message}`);
    this.name = 'SupabaseRequestError';
  }
}

const TABLES = [
  'conversations',
  'claim_number_reservations',
  'conversation_messages',
  'conversation_transitions',
  'conversation_metrics',
] as const;
/** PostgREST caps responses at `max_rows` (1000 on Supabase): long logs are read in pages. */
const PAGE = 1000;

interface PostgrestErrorLike {
  code?: string;
  details?: string | null;
  hint?: string | null;
  message?: string;
}

function fail(operation: string, res: { error: PostgrestErrorLike | null; status: number }): never {
  const e = res.error ?? {};
  throw new SupabaseRequestError(
    operation,
    res.status,
    e.code ?? '',
    e.details ?? null,
    e.hint ?? null,
    e.message ?? 'unknown error',
  );
}

/** The role claim of a legacy JWT key, or the kind of a new-style `sb_...` key. */
function keyRole(key: string): string | undefined {
  if (key.startsWith('sb_publishable_')) return 'anon';
  if (key.startsWith('sb_secret_')) return 'service_role';
  const payload = key.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { role?: unknown };
    return typeof claims.role === 'string' ? claims.role : undefined;
  } catch {
    return undefined;
  }
}

/** The insert body of a conversation (updated_at starts at created_at, as in the sql adapter). */
function conversationBody(row: NewConversation) {
  return sanitizeDeep({
    id: row.id,
    call_sid: row.call_sid,
    stream_sid: row.stream_sid,
    from_number: row.from_number,
    to_number: row.to_number,
    channel: row.channel,
    claim_id: row.claim_id,
    machine_version: row.machine_version,
    created_at: row.created_at,
    updated_at: row.created_at,
    instance_id: row.instance_id ?? null,
    voice: row.voice ?? null,
  });
}

/**
 * Creates the supabase adapter. `init()` verifies the key kind and that the four tables answer;
 * other methods may be called only after it resolved.
 *
 * Failure semantics: every failed request rejects with {@link SupabaseRequestError} (status 0 for
 * network errors) except a taken claim_id, which becomes {@link ClaimIdConflictError}. Writes are
 * idempotent upserts, safe to retry. supabase-js retries only GETs on 503/520; the outbox owns the
 * retry policy for writes.
 */
export function createSupabaseStore(opts: SupabaseStoreOptions): ConversationStore {
  const client: SupabaseClient = createClient(opts.url, opts.key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    db: { timeout: opts.requestTimeoutMs ?? 20_000 },
    // realtime-js refuses to construct on Node 20 (no global WebSocket) unless given a transport,
    // even though this adapter never opens a realtime channel.
    // (ws's first constructor overload takes `null`, hence the cast.)
    realtime: { transport: WebSocket as unknown as WebSocketLikeConstructor },
    ...(opts.fetch ? { global: { fetch: opts.fetch } } : {}),
  });

  async function readAll(
    table: 'conversation_messages' | 'conversation_transitions',
    id: string,
    order: readonly string[],
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (let from = 0; ; from += PAGE) {
      let q = client.from(table).select('*').eq('conversation_id', id);
      for (const col of order) q = q.order(col, { ascending: true });
      const res = await q.range(from, from + PAGE - 1);
      if (res.error) fail(`read ${table}`, res);
      const rows = (res.data ?? []) as Record<string, unknown>[];
      out.push(...rows);
      if (rows.length < PAGE) return out;
    }
  }

  return {
    kind: 'supabase',

    async init() {
      if (keyRole(opts.key) === 'anon') {
        throw new Error(
          'SUPABASE_KEY is the anon/publishable key; RLS blocks it on every statecall table. Use the service-role (secret) key.',
        );
      }
      const results = await Promise.all(
        TABLES.map(async (table) => ({
          table,
          res: await client.from(table).select('*').limit(1).retry(false),
        })),
      );
      for (const { table, res } of results) {
        if (!res.error) continue;
        const { code = '' } = res.error;
        if (res.status === 404 || code === 'PGRST205' || code === '42P01') {
          throw new Error(
            `supabase: table "${table}" not found. Apply the schema with the Supabase CLI: ` +
              '`supabase link --project-ref <ref>` then `supabase db push` (migrations in supabase/migrations).',
          );
        }
        if (res.status === 0) {
          throw new Error(`supabase: cannot reach ${opts.url} (${res.error.message}); check SUPABASE_URL`);
        }
        if (res.status === 401 || res.status === 403) {
          throw new Error(
            `supabase: the key was rejected (${res.status} ${res.error.message}); check SUPABASE_KEY`,
          );
        }
        fail(`check ${table}`, res);
      }
      // A column added by a later migration: tell the operator to push it instead of failing every write.
      const latest = await client.from('conversations').select('instance_id').limit(1).retry(false);
      if (latest.error) {
        if (latest.error.code === '42703' || latest.error.code === 'PGRST204') {
          throw new Error(
            'supabase: the schema is out of date (conversations.instance_id missing). Apply the new migrations: `supabase db push`.',
          );
        }
        fail('check conversations', latest);
      }
    },

    async ping() {
      // HEAD: PostgREST runs the query but sends no body; no retry, the caller owns the timeout.
      const res = await client.from('conversations').select('id', { head: true }).limit(1).retry(false);
      if (res.error) fail('ping', res);
    },

    async createConversations(rows: NewConversation[]) {
      if (rows.length === 0) return;
      const res = await client
        .from('conversations')
        .upsert(rows.map(conversationBody), { onConflict: 'id', ignoreDuplicates: true });
      if (res.error) fail('create conversations', res);
    },

    async updateConversations(updates) {
      // PostgREST has no multi-row UPDATE with per-row values: one PATCH each, concurrently.
      const results = await Promise.allSettled(updates.map((u) => this.updateConversation(u.id, u.patch)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },

    async createConversation(row: NewConversation) {
      const body = conversationBody(row);
      // ON CONFLICT (id) DO NOTHING: a retried create is a no-op; a taken claim_id still fails (409).
      const res = await client
        .from('conversations')
        .upsert(body, { onConflict: 'id', ignoreDuplicates: true });
      if (!res.error) return;
      if (res.error.code === '23505' && /claim_id/.test(`${res.error.message} ${res.error.details ?? ''}`)) {
        throw new ClaimIdConflictError(row.claim_id);
      }
      fail('create conversation', res);
    },

    async updateConversation(id, patch) {
      const body = sanitizeDeep(pick(patch, PATCH_COLUMNS));
      if (Object.keys(body).length === 0) return;
      const res = await client.from('conversations').update(body).eq('id', id);
      if (res.error) fail('update conversation', res);
    },

    async appendTransitions(rows) {
      if (rows.length === 0) return;
      const res = await client
        .from('conversation_transitions')
        .upsert(sanitizeDeep(rows.map((r) => pick(r, TRANSITION_COLUMNS))), {
          onConflict: 'conversation_id,actor,seq',
          ignoreDuplicates: true,
        });
      if (res.error) fail('append transitions', res);
    },

    async upsertMessages(rows) {
      if (rows.length === 0) return;
      const unique = lastPerKey(rows, (r) => `${r.conversation_id}/${r.seq}`);
      const res = await client
        .from('conversation_messages')
        .upsert(sanitizeDeep(unique.map((r) => pick(r, MESSAGE_COLUMNS))), {
          onConflict: 'conversation_id,seq',
        });
      if (res.error) fail('upsert messages', res);
    },

    async upsertMetrics(row: MetricsRow) {
      const res = await client
        .from('conversation_metrics')
        .upsert(sanitizeDeep(pick(row, METRICS_COLUMNS)), { onConflict: 'conversation_id' });
      if (res.error) fail('upsert metrics', res);
    },

    async closeCrashedConversations(instanceId: string, at: string): Promise<number> {
      const res = await client
        .from('conversations')
        .update({ ended_at: at, updated_at: at, end_reason: SERVER_CRASHED })
        .eq('instance_id', instanceId)
        .is('ended_at', null)
        .lt('created_at', at)
        .select('id');
      if (res.error) fail('close crashed conversations', res);
      return (res.data ?? []).length;
    },

    async reserveClaimNumbers(candidates: string[], instanceId: string): Promise<string[]> {
      const wanted = [...new Set(sanitizeDeep(candidates))];
      if (wanted.length === 0) return [];
      // PostgREST has no INSERT ... WHERE NOT EXISTS: read the used ones first. A conversation
      // created in between is caught later by its claim_id conflict (the outbox stores it anyway).
      const used = await client.from('conversations').select('claim_id').in('claim_id', wanted);
      if (used.error) fail('read used claim numbers', used);
      const taken = new Set(((used.data ?? []) as { claim_id: string }[]).map((r) => r.claim_id));
      const rows = wanted
        .filter((c) => !taken.has(c))
        .map((claim_id) => ({
          claim_id,
          instance_id: sanitizeDeep(instanceId),
          reserved_at: new Date().toISOString(),
        }));
      if (rows.length === 0) return [];
      // ON CONFLICT DO NOTHING ... RETURNING: only the rows actually inserted come back.
      const res = await client
        .from('claim_number_reservations')
        .upsert(rows, { onConflict: 'claim_id', ignoreDuplicates: true })
        .select('claim_id');
      if (res.error) fail('reserve claim numbers', res);
      return ((res.data ?? []) as { claim_id: string }[]).map((r) => r.claim_id);
    },

    async upsertMetricsBatch(rows: MetricsRow[]) {
      const unique = lastPerKey(rows, (r) => r.conversation_id);
      if (unique.length === 0) return;
      const res = await client
        .from('conversation_metrics')
        .upsert(sanitizeDeep(unique.map((r) => pick(r, METRICS_COLUMNS))), { onConflict: 'conversation_id' });
      if (res.error) fail('upsert metrics', res);
    },

    async listConversations(query): Promise<ConversationRow[]> {
      const filtered = () => {
        let q = client.from('conversations').select('*');
        if (query.state !== undefined) q = q.eq('state', query.state);
        if (query.endReason !== undefined) q = q.eq('end_reason', query.endReason);
        if (query.since !== undefined) q = q.gte('created_at', query.since);
        return q;
      };
      const page = async (q: ReturnType<typeof filtered>, limit: number) => {
        const res = await q
          .order('created_at', { ascending: false })
          .order('id', { ascending: false })
          .limit(limit);
        if (res.error) fail('list conversations', res);
        return ((res.data ?? []) as Record<string, unknown>[]).map(toConversationRow);
      };
      const limit = clampLimit(query.limit);
      const cursor = query.before;
      if (!cursor) return page(filtered(), limit);
      // PostgREST has no row comparison: the rest of the cursor's instant first, then older ones.
      const same = await page(filtered().eq('created_at', cursor.createdAt).lt('id', cursor.id), limit);
      if (same.length >= limit) return same;
      return [...same, ...(await page(filtered().lt('created_at', cursor.createdAt), limit - same.length))];
    },

    async getConversation(id): Promise<ConversationDetail | null> {
      if (!isUuid(id)) return null;
      const [conv, messages, transitions, metrics] = await Promise.all([
        client.from('conversations').select('*').eq('id', id).limit(1),
        readAll('conversation_messages', id, ['seq']),
        readAll('conversation_transitions', id, ['created_at', 'actor', 'seq']),
        client.from('conversation_metrics').select('*').eq('conversation_id', id).limit(1),
      ]);
      if (conv.error) fail('read conversation', conv);
      if (metrics.error) fail('read metrics', metrics);
      const row = (conv.data as Record<string, unknown>[] | null)?.[0];
      if (!row) return null;
      const m = (metrics.data as Record<string, unknown>[] | null)?.[0];
      return {
        conversation: toConversationRow(row),
        messages: messages.map(toMessageRow),
        transitions: transitions.map(toTransitionRow),
        metrics: m ? toMetricsRow(m) : null,
      };
    },

    async close() {
      // Nothing to release: requests are plain fetches and no realtime channel is ever opened.
      // (Calling removeAllChannels()/realtime.disconnect() here would arm a 10 s realtime-js
      // reconnect timer that keeps the process alive.)
    },
  };
}
