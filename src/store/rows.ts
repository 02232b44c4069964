/**
 * Column lists and row normalizers shared by the adapters. Drivers disagree on representations
 * (pg: numeric as string, timestamptz as Date; PostgREST: timestamptz as "...+00:00" strings);
 * these functions turn any of them into exactly the shapes of `types.ts`.
 */
import { types } from 'node:util';
import type { ConversationPatch, ConversationRow, MessageRow, MetricsRow, TransitionRow } from './types.js';

/** Compile-time check that a column list names every key of `T` (and nothing else). */
type Exactly<T, L extends readonly (keyof T)[]> = Exclude<keyof T, L[number]> extends never ? L : never;
const columns =
  <T>() =>
  <const L extends readonly (keyof T)[]>(list: Exactly<T, L>): L =>
    list;

export const CONVERSATION_COLUMNS = columns<ConversationRow>()([
  'id',
  'call_sid',
  'stream_sid',
  'from_number',
  'to_number',
  'channel',
  'claim_id',
  'claim_date',
  'claim_amount',
  'claim_status',
  'state',
  'machine_version',
  'created_at',
  'updated_at',
  'ended_at',
  'end_reason',
  'instance_id',
  'voice',
]);

export const TRANSITION_COLUMNS = columns<TransitionRow>()([
  'conversation_id',
  'actor',
  'seq',
  'event_type',
  'event',
  'state_value',
  'created_at',
]);

export const MESSAGE_COLUMNS = columns<MessageRow>()([
  'conversation_id',
  'seq',
  'role',
  'text',
  'heard_text',
  'interrupted',
  'turn',
  'created_at',
]);

export const METRICS_COLUMNS = columns<MetricsRow>()([
  'conversation_id',
  'turns',
  'interruptions',
  'latency_avg_ms',
  'latency_min_ms',
  'latency_max_ms',
  'heard_latency_avg_ms',
  'heard_latency_min_ms',
  'heard_latency_max_ms',
  'stt_provider',
  'stt_ttfb_avg_ms',
  'stt_ttfb_min_ms',
  'stt_ttfb_max_ms',
  'stt_processing_avg_ms',
  'stt_processing_min_ms',
  'stt_processing_max_ms',
  'llm_provider',
  'llm_ttfb_avg_ms',
  'llm_ttfb_min_ms',
  'llm_ttfb_max_ms',
  'llm_processing_avg_ms',
  'llm_processing_min_ms',
  'llm_processing_max_ms',
  'llm_prompt_tokens',
  'llm_completion_tokens',
  'tts_provider',
  'tts_ttfb_avg_ms',
  'tts_ttfb_min_ms',
  'tts_ttfb_max_ms',
  'tts_processing_avg_ms',
  'tts_processing_min_ms',
  'tts_processing_max_ms',
  'prepared_turns_committed',
  'prepared_turns_discarded',
  'updated_at',
]);

/** Columns of `ConversationPatch` (whitelist for updates). */
export const PATCH_COLUMNS = [
  'stream_sid',
  'claim_date',
  'claim_amount',
  'claim_status',
  'state',
  'ended_at',
  'end_reason',
  'updated_at',
] as const satisfies readonly (keyof ConversationPatch)[];

type Raw = Record<string, unknown>;

/**
 * A Date from any realm: rows from the PGlite worker are rebuilt by structured clone in Node's own
 * realm, where `instanceof Date` is false inside a vm context (jest).
 */
const isDate = (v: unknown): v is Date => types.isDate(v);

/** Timestamp (Date or any string Postgres/PostgREST prints) -> ISO-8601 UTC with milliseconds. */
export function toIso(v: unknown): string {
  const d = isDate(v) ? v : new Date(String(v));
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString();
}

function toIsoOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : toIso(v);
}

/** numeric/float/int (number or string) -> number. */
function toNum(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

function toNumOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : toNum(v);
}

/** A `date` column -> 'YYYY-MM-DD' (Date values are read in UTC: PGlite parses dates as UTC midnight). */
function toDateOrNull(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (isDate(v)) return v.toISOString().slice(0, 10);
  return String(v).slice(0, 10);
}

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function toConversationRow(r: Raw): ConversationRow {
  return {
    id: String(r.id),
    call_sid: strOrNull(r.call_sid),
    stream_sid: strOrNull(r.stream_sid),
    from_number: strOrNull(r.from_number),
    to_number: strOrNull(r.to_number),
    channel: r.channel as ConversationRow['channel'],
    claim_id: String(r.claim_id),
    claim_date: toDateOrNull(r.claim_date),
    claim_amount: toNumOrNull(r.claim_amount),
    claim_status: r.claim_status as ConversationRow['claim_status'],
    state: r.state as ConversationRow['state'],
    machine_version: String(r.machine_version),
    created_at: toIso(r.created_at),
    updated_at: toIso(r.updated_at),
    ended_at: toIsoOrNull(r.ended_at),
    end_reason: strOrNull(r.end_reason),
    instance_id: strOrNull(r.instance_id),
    voice: typeof r.voice === 'boolean' ? r.voice : null,
  };
}

export function toTransitionRow(r: Raw): TransitionRow {
  return {
    conversation_id: String(r.conversation_id),
    actor: r.actor as TransitionRow['actor'],
    seq: toNum(r.seq),
    event_type: String(r.event_type),
    event: (r.event ?? {}) as Record<string, unknown>,
    state_value: r.state_value ?? null,
    created_at: toIso(r.created_at),
  };
}

export function toMessageRow(r: Raw): MessageRow {
  return {
    conversation_id: String(r.conversation_id),
    seq: toNum(r.seq),
    role: r.role as MessageRow['role'],
    text: String(r.text),
    heard_text: strOrNull(r.heard_text),
    interrupted: Boolean(r.interrupted),
    turn: toNum(r.turn),
    created_at: toIso(r.created_at),
  };
}

export function toMetricsRow(r: Raw): MetricsRow {
  const out: Record<string, unknown> = {};
  for (const c of METRICS_COLUMNS) {
    const v = r[c];
    if (c === 'conversation_id') out[c] = String(v);
    else if (c === 'updated_at') out[c] = toIso(v);
    else if (c.endsWith('_provider')) out[c] = strOrNull(v);
    else if (
      c === 'turns' ||
      c === 'interruptions' ||
      c.endsWith('_tokens') ||
      c.startsWith('prepared_turns_')
    )
      out[c] = toNum(v ?? 0);
    else out[c] = toNumOrNull(v);
  }
  return out as unknown as MetricsRow;
}

// NUL is exactly what these must match.
/* eslint-disable no-control-regex */
/** Anything PostgreSQL refuses in text and jsonb: NUL, and UTF-16 surrogates without their pair. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MAYBE_UNSTORABLE = /[\u0000\uD800-\uDFFF]/;
/* eslint-enable no-control-regex */

/** Drops NUL characters and replaces lone surrogates with U+FFFD, so PostgreSQL accepts the text. */
export function sanitizeText(s: string): string {
  if (!MAYBE_UNSTORABLE.test(s)) return s; // the common case: no copy
  return s.replace(UNSTORABLE, (ch) => (ch === '\u0000' ? '' : '\uFFFD'));
}

/**
 * {@link sanitizeText} applied to every string inside `value` (object keys included, recursively,
 * e.g. jsonb payloads). Returns `value` itself when nothing needed cleaning. Why: one caller-sent
 * NUL in a callSid or transcript would otherwise make PostgreSQL refuse the row, and with the
 * conversation row refused every later row of the call fails on the foreign key.
 */
export function sanitizeDeep<T>(value: T): T {
  if (typeof value === 'string') return sanitizeText(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v: unknown, i) => {
      const c = sanitizeDeep(v);
      if (c !== v) (out ??= [...value])[i] = c;
    });
    return (out ?? value) as T;
  }
  if (value !== null && typeof value === 'object' && !isDate(value)) {
    let out: Record<string, unknown> | undefined;
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [k, v] of entries) {
      const ck = sanitizeText(k);
      const cv = sanitizeDeep(v);
      if (ck !== k || cv !== v) {
        out ??= Object.fromEntries(entries);
        if (ck !== k) delete out[k];
        out[ck] = cv;
      }
    }
    return (out ?? value) as T;
  }
  return value;
}

/** Keeps the last row per key (ordered by each key's last occurrence): one statement cannot upsert a key twice. */
export function lastPerKey<T>(rows: readonly T[], key: (r: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    byKey.delete(k);
    byKey.set(k, r);
  }
  return [...byKey.values()];
}

/** Projects a row onto a column list (drops stray properties a caller may have added). */
export function pick<T extends object>(row: T, cols: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const c of cols) if (row[c] !== undefined) out[c] = row[c];
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid uuid (lookups of anything else return null instead of a SQL error). */
export function isUuid(s: string): boolean {
  return UUID.test(s);
}

/** Clamps a listing limit to the documented 1..200. */
export function clampLimit(n: number): number {
  return Math.min(200, Math.max(1, Math.trunc(Number.isFinite(n) ? n : 50)));
}
