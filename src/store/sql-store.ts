/**
 * `ConversationStore` over SQL: embedded PGlite (the zero-config default) or any PostgreSQL reached
 * through node-postgres (including Supabase's own database via its connection string).
 */
import { migrate } from './migrate.js';
import {
  clampLimit,
  CONVERSATION_COLUMNS,
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
import { openSqlClient, type SqlClient, type SqlClientOptions } from './sql-client.js';
import {
  ClaimIdConflictError,
  type ConversationDetail,
  type ConversationPatch,
  type ConversationUpdate,
  type ConversationRow,
  type ConversationStore,
  type ListConversationsQuery,
  type MessageRow,
  type MetricsRow,
  type NewConversation,
  type TransitionRow,
  SERVER_CRASHED,
} from './types.js';

/** Options of {@link createSqlStore}: which backend, plus where migrations live (tests). */
export type SqlStoreOptions = SqlClientOptions & {
  /** Folder of `*.sql` migrations; default `supabase/migrations` of this repository. */
  migrationsDir?: string;
};

/** A write's rows as its one json parameter, with text PostgreSQL would refuse cleaned (see sanitizeDeep). */
const jsonParam = (rows: unknown) => JSON.stringify(sanitizeDeep(rows));

const list = (cols: readonly string[]) => cols.map((c) => `"${c}"`).join(', ');

/** Selected columns of `conversations`; the date goes out as text so no driver shifts it by a timezone. */
const CONVERSATION_SELECT = CONVERSATION_COLUMNS.map((c) =>
  c === 'claim_date' ? `to_char(claim_date, 'YYYY-MM-DD') as claim_date` : `"${c}"`,
).join(', ');

const NEW_CONVERSATION_COLUMNS = [
  'id',
  'call_sid',
  'stream_sid',
  'from_number',
  'to_number',
  'channel',
  'claim_id',
  'machine_version',
  'created_at',
  'instance_id',
  'voice',
] as const satisfies readonly (keyof NewConversation)[];

const updateSet = (cols: readonly string[], keys: readonly string[]) =>
  cols
    .filter((c) => !keys.includes(c))
    .map((c) => `"${c}" = excluded."${c}"`)
    .join(', ');

// Every write sends its rows as ONE json parameter and lets Postgres convert types
// (jsonb_populate_record[set] over the table's own row type): no driver-specific serialization of
// numeric/date/jsonb, and no 65k-parameter limit on large batches.
const SQL = {
  // updated_at starts equal to created_at (the engine's clock, not the database's).
  insertConversation: `insert into conversations (${list(NEW_CONVERSATION_COLUMNS)}, updated_at)
    select ${list(NEW_CONVERSATION_COLUMNS)}, created_at from jsonb_populate_record(null::conversations, $1::text::jsonb)
    on conflict (id) do nothing`,
  insertConversations: `insert into conversations (${list(NEW_CONVERSATION_COLUMNS)}, updated_at)
    select ${list(NEW_CONVERSATION_COLUMNS)}, created_at from jsonb_populate_recordset(null::conversations, $1::text::jsonb)
    on conflict (id) do nothing`,
  // One statement for many patches: a column changes only where its patch carries the key.
  updateConversations: `update conversations c set ${PATCH_COLUMNS.map(
    (col) => `"${col}" = case when j ? '${col}' then p."${col}" else c."${col}" end`,
  ).join(', ')}
    from jsonb_array_elements($1::text::jsonb) j, lateral jsonb_populate_record(null::conversations, j) p
    where c.id = p.id`,
  insertTransitions: `insert into conversation_transitions (${list(TRANSITION_COLUMNS)})
    select ${list(TRANSITION_COLUMNS)} from jsonb_populate_recordset(null::conversation_transitions, $1::text::jsonb)
    on conflict do nothing`,
  upsertMessages: `insert into conversation_messages (${list(MESSAGE_COLUMNS)})
    select ${list(MESSAGE_COLUMNS)} from jsonb_populate_recordset(null::conversation_messages, $1::text::jsonb)
    on conflict (conversation_id, seq) do update set ${updateSet(MESSAGE_COLUMNS, ['conversation_id', 'seq'])}`,
  upsertMetrics: `insert into conversation_metrics (${list(METRICS_COLUMNS)})
    select ${list(METRICS_COLUMNS)} from jsonb_populate_record(null::conversation_metrics, $1::text::jsonb)
    on conflict (conversation_id) do update set ${updateSet(METRICS_COLUMNS, ['conversation_id'])}`,
  closeCrashed: `update conversations set ended_at = $2::timestamptz, updated_at = $2::timestamptz, end_reason = $3
    where instance_id = $1 and ended_at is null and created_at < $2::timestamptz returning id`,
  reserveClaimNumbers: `insert into claim_number_reservations (claim_id, instance_id, reserved_at)
    select distinct c, $2, now() from jsonb_array_elements_text($1::text::jsonb) c
    where not exists (select 1 from conversations where claim_id = c)
    on conflict (claim_id) do nothing returning claim_id`,
  upsertMetricsBatch: `insert into conversation_metrics (${list(METRICS_COLUMNS)})
    select ${list(METRICS_COLUMNS)} from jsonb_populate_recordset(null::conversation_metrics, $1::text::jsonb)
    on conflict (conversation_id) do update set ${updateSet(METRICS_COLUMNS, ['conversation_id'])}`,
  getConversation: `select ${CONVERSATION_SELECT} from conversations where id = $1::uuid`,
  getMessages: `select ${list(MESSAGE_COLUMNS)} from conversation_messages where conversation_id = $1::uuid order by seq`,
  getTransitions: `select ${list(TRANSITION_COLUMNS)} from conversation_transitions where conversation_id = $1::uuid
    order by created_at, actor, seq`,
  getMetrics: `select ${list(METRICS_COLUMNS)} from conversation_metrics where conversation_id = $1::uuid`,
} as const;

/** Error shape of both drivers (pg `DatabaseError`, PGlite's error): SQLSTATE and constraint name. */
interface PgError {
  code?: unknown;
  constraint?: unknown;
  detail?: unknown;
}

function isClaimIdConflict(err: unknown): boolean {
  const e = err as PgError | null;
  if (!e || e.code !== '23505') return false;
  return e.constraint === 'conversations_claim_id_key' || String(e.detail ?? '').includes('(claim_id)');
}

/**
 * Creates the sql adapter. Nothing is opened until `init()`, which boots/connects and applies
 * pending migrations; every other method requires a successful `init()` first.
 *
 * Failure semantics: methods reject with the driver's error (it carries the SQLSTATE in `code`)
 * except a taken claim_id, which becomes {@link ClaimIdConflictError}. All writes are idempotent,
 * so a caller (the outbox) may retry any of them after a failure.
 */
export function createSqlStore(opts: SqlStoreOptions): ConversationStore {
  let client: SqlClient | undefined;
  let opening: Promise<SqlClient> | undefined;
  const db = (): SqlClient => {
    if (!client) throw new Error('sql store used before init() (or after close())');
    return client;
  };

  return {
    kind: opts.kind,

    async init() {
      if (client) return;
      opening ??= (async () => {
        const c = await openSqlClient(opts);
        try {
          await migrate(c, opts.migrationsDir);
        } catch (err) {
          await c.close().catch(() => {});
          throw err;
        }
        return c;
      })();
      try {
        client = await opening;
      } finally {
        opening = undefined;
      }
    },

    async ping() {
      await db().query('select 1');
    },

    async createConversation(row) {
      try {
        await db().query(SQL.insertConversation, [jsonParam(pick(row, NEW_CONVERSATION_COLUMNS))]);
      } catch (err) {
        if (isClaimIdConflict(err)) throw new ClaimIdConflictError(row.claim_id);
        throw err;
      }
    },

    async createConversations(rows: NewConversation[]) {
      if (rows.length === 0) return;
      await db().query(SQL.insertConversations, [
        jsonParam(rows.map((r) => pick(r, NEW_CONVERSATION_COLUMNS))),
      ]);
    },

    async updateConversations(updates: ConversationUpdate[]) {
      const rows = updates
        .map((u) => ({ ...pick(u.patch, PATCH_COLUMNS), id: u.id }))
        .filter((r) => isUuid(r.id) && Object.keys(r).length > 1);
      if (rows.length === 0) return;
      await db().query(SQL.updateConversations, [jsonParam(rows)]);
    },

    async updateConversation(id: string, patch: ConversationPatch) {
      const cols = PATCH_COLUMNS.filter((c) => patch[c] !== undefined);
      if (cols.length === 0) return;
      const set = cols.map((c) => `"${c}" = p."${c}"`).join(', ');
      await db().query(
        `update conversations c set ${set}
         from jsonb_populate_record(null::conversations, $2::text::jsonb) p where c.id = $1::uuid`,
        [id, jsonParam(pick(patch, cols))],
      );
    },

    async appendTransitions(rows: TransitionRow[]) {
      if (rows.length === 0) return;
      await db().query(SQL.insertTransitions, [jsonParam(rows.map((r) => pick(r, TRANSITION_COLUMNS)))]);
    },

    async upsertMessages(rows: MessageRow[]) {
      if (rows.length === 0) return;
      const unique = lastPerKey(rows, (r) => `${r.conversation_id}/${r.seq}`);
      await db().query(SQL.upsertMessages, [jsonParam(unique.map((r) => pick(r, MESSAGE_COLUMNS)))]);
    },

    async upsertMetrics(row: MetricsRow) {
      await db().query(SQL.upsertMetrics, [jsonParam(pick(row, METRICS_COLUMNS))]);
    },

    async closeCrashedConversations(instanceId: string, at: string): Promise<number> {
      const res = await db().query(SQL.closeCrashed, [instanceId, at, SERVER_CRASHED]);
      return res.rows.length;
    },

    async reserveClaimNumbers(candidates: string[], instanceId: string): Promise<string[]> {
      if (candidates.length === 0) return [];
      const res = await db().query<{ claim_id: string }>(SQL.reserveClaimNumbers, [
        jsonParam(candidates),
        sanitizeDeep(instanceId),
      ]);
      return res.rows.map((r) => r.claim_id);
    },

    async upsertMetricsBatch(rows: MetricsRow[]) {
      const unique = lastPerKey(rows, (r) => r.conversation_id);
      if (unique.length === 0) return;
      await db().query(SQL.upsertMetricsBatch, [jsonParam(unique.map((r) => pick(r, METRICS_COLUMNS)))]);
    },

    async listConversations(query: ListConversationsQuery): Promise<ConversationRow[]> {
      const { sql, params } = listQuerySql(query);
      const res = await db().query(sql, params);
      return res.rows.map(toConversationRow);
    },

    async getConversation(id: string): Promise<ConversationDetail | null> {
      if (!isUuid(id)) return null;
      const c = db();
      const [conv, messages, transitions, metrics] = await Promise.all([
        c.query(SQL.getConversation, [id]),
        c.query(SQL.getMessages, [id]),
        c.query(SQL.getTransitions, [id]),
        c.query(SQL.getMetrics, [id]),
      ]);
      const row = conv.rows[0];
      if (!row) return null;
      const m = metrics.rows[0];
      return {
        conversation: toConversationRow(row),
        messages: messages.rows.map(toMessageRow),
        transitions: transitions.rows.map(toTransitionRow),
        metrics: m ? toMetricsRow(m) : null,
      };
    },

    async close() {
      const c = client ?? (opening ? await opening.catch(() => undefined) : undefined);
      client = undefined;
      await c?.close();
    },
  };
}

/** The listing query: only the filters given, so each combination keeps its index-friendly plan. */
function listQuerySql(query: ListConversationsQuery): { sql: string; params: unknown[] } {
  const params: unknown[] = [clampLimit(query.limit)];
  const where: string[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  if (query.state !== undefined) where.push(`state = ${param(query.state)}`);
  if (query.endReason !== undefined) where.push(`end_reason = ${param(query.endReason)}`);
  if (query.since !== undefined) where.push(`created_at >= ${param(query.since)}::timestamptz`);
  if (query.before !== undefined) {
    const at = param(query.before.createdAt);
    where.push(`(created_at, id) < (${at}::timestamptz, ${param(query.before.id)}::uuid)`);
  }
  const filter = where.length ? ` where ${where.join(' and ')}` : '';
  return {
    sql: `select ${CONVERSATION_SELECT} from conversations${filter} order by created_at desc, id desc limit $1`,
    params,
  };
}
