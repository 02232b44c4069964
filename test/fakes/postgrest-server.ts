/**
 * A small PostgREST (Supabase Data API) fake over PGlite, for testing the supabase adapter with the
 * real `@supabase/supabase-js` over real HTTP.
 *
 * It speaks PostgREST's documented wire format for exactly the requests the adapter makes, and
 * refuses the rest loudly (501/400) instead of guessing:
 * - `GET|HEAD /rest/v1/<table>?select=*|a,b&<col>=eq.|neq.|gt.|gte.|lt.|lte.|is.|in.(...)&order=a.desc,b&limit=&offset=`
 *   (`Accept: application/vnd.pgrst.object+json` for single rows);
 * - `POST /rest/v1/<table>[?columns=..&on_conflict=..]` with a JSON object or array,
 *   `Prefer: return=minimal|representation`, `Prefer: resolution=merge-duplicates|ignore-duplicates`;
 * - `PATCH /rest/v1/<table>?<filters>` with a JSON object.
 * GET answers are capped at `maxRows` (default 1000, Supabase's `max_rows`) like the real service.
 * Errors are PostgREST JSON `{code, details, hint, message}` with PostgREST's status mapping
 * (23505/23503 -> 409, 22xxx/23xxx/42xxx -> 400, unknown table -> 404 PGRST205, ...).
 * Rows are rendered by Postgres' own `json_agg`, so timestamps/numerics look like the real service's.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { migrate } from '../../src/store/migrate.js';
import { openSqlClient, type SqlClient } from '../../src/store/sql-client.js';

/** A running fake. */
export interface PostgrestFake {
  /** Project URL to give supabase-js (it appends `/rest/v1`). */
  url: string;
  /** Every request seen: method, path and query, and the Prefer header. */
  requests: { method: string; path: string; prefer: string }[];
  /** The database behind it (to inspect or seed in tests). */
  db: SqlClient;
  close(): Promise<void>;
}

/** Options of {@link startPostgrestFake}. */
export interface PostgrestFakeOptions {
  /** When set, requests must carry this `apikey` header (as Supabase's gateway requires). */
  apiKey?: string;
  /** Migrations to apply (default: the repository's `supabase/migrations`). */
  migrationsDir?: string;
  /** PostgREST `max-rows`: GET answers are silently capped at this many rows (Supabase: 1000). */
  maxRows?: number;
}

interface Column {
  name: string;
  type: string;
}
interface Table {
  name: string;
  columns: Map<string, Column>;
  primaryKey: string[];
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
  ) {
    super(message);
  }
}

const RESERVED = new Set(['select', 'order', 'limit', 'offset', 'on_conflict', 'columns']);
const OPERATORS: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** HTTP status for a SQLSTATE, per PostgREST's documented table (the subset that can occur here). */
function statusForSqlState(code: string): number {
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  if (code === '42P01' || code === '42883') return 404;
  if (code === '42501') return 403;
  if (code === '53400') return 500;
  if (/^(08|53)/.test(code)) return 503;
  if (/^(0L|0P|28)/.test(code)) return 403;
  if (/^(22|23|42)/.test(code) || code === 'P0001') return 400;
  return 500;
}

/** Starts the fake on an ephemeral 127.0.0.1 port with a fresh in-memory database. */
export async function startPostgrestFake(opts: PostgrestFakeOptions = {}): Promise<PostgrestFake> {
  const db = await openSqlClient({ kind: 'pglite' });
  await migrate(db, opts.migrationsDir);
  const tables = await loadSchemaCache(db);
  const requests: PostgrestFake['requests'] = [];
  const maxRows = opts.maxRows ?? 1000;

  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      prefer: String(req.headers.prefer ?? ''),
    });
    handle(req, res).catch((err: unknown) => {
      const e =
        err instanceof ApiError
          ? err
          : toApiError(err as { code?: string; message?: string; detail?: string; hint?: string });
      send(
        res,
        e.status,
        { 'content-type': 'application/json; charset=utf-8' },
        {
          code: e.code,
          details: e.details,
          hint: e.hint,
          message: e.message,
        },
      );
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = /^\/rest\/v1\/([^/]+)$/.exec(url.pathname);
    if (!m) {
      send(res, 404, {}, undefined);
      return;
    }
    if (opts.apiKey !== undefined && req.headers.apikey !== opts.apiKey) {
      const missing = req.headers.apikey === undefined;
      send(
        res,
        401,
        { 'content-type': 'application/json; charset=utf-8' },
        {
          message: missing ? 'No API key found in request' : 'Invalid API key',
          hint: missing
            ? 'No `apikey` request header or url param was found.'
            : 'Double check your Supabase API key.',
        },
      );
      return;
    }
    const profile = req.headers['accept-profile'] ?? req.headers['content-profile'];
    if (profile !== undefined && profile !== 'public') {
      throw new ApiError(
        406,
        'PGRST106',
        'Invalid schema: ' + String(profile),
        null,
        'Only the following schemas are exposed: public',
      );
    }
    const tableName = decodeURIComponent(m[1] ?? '');
    const table = tables.get(tableName);
    if (!table) {
      throw new ApiError(
        404,
        'PGRST205',
        `Could not find the table 'public.${tableName}' in the schema cache`,
      );
    }
    const prefer = parsePrefer(req.headers.prefer);
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        return read(req, res, table, url);
      case 'POST':
        return insert(res, table, url, prefer, await readJson(req));
      case 'PATCH':
        return update(res, table, url, prefer, await readJson(req));
      default:
        throw new ApiError(501, 'PGRST000', `${req.method} is not implemented by the PostgREST fake`);
    }
  }

  async function read(req: IncomingMessage, res: ServerResponse, table: Table, url: URL): Promise<void> {
    const params: unknown[] = [];
    const where = filters(table, url, params);
    const order = orderBy(table, url.searchParams.get('order'));
    const limit = Math.min(intParam(url, 'limit') ?? maxRows, maxRows);
    const offset = intParam(url, 'offset');
    const sql =
      `select coalesce(json_agg(_postgrest_t), '[]')::text as body, count(*)::int as n from (` +
      `select ${selectList(table, url.searchParams.get('select'))} from ${q(table.name)}` +
      `${where ? ` where ${where}` : ''}${order ? ` order by ${order}` : ''}` +
      ` limit ${limit}${offset !== undefined ? ` offset ${offset}` : ''}) _postgrest_t`;
    const { body, n } = (await db.query<{ body: string; n: number }>(sql, params)).rows[0] ?? {
      body: '[]',
      n: 0,
    };
    const first = offset ?? 0;
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'content-range': n > 0 ? `${first}-${first + n - 1}/*` : '*/*',
    };
    if (String(req.headers.accept ?? '').includes('application/vnd.pgrst.object+json')) {
      const rows = JSON.parse(body) as unknown[];
      if (rows.length !== 1) {
        throw new ApiError(
          406,
          'PGRST116',
          'Cannot coerce the result to a single JSON object',
          `The result contains ${rows.length} rows`,
        );
      }
      send(res, 200, headers, req.method === 'HEAD' ? undefined : rows[0]);
      return;
    }
    sendRaw(res, 200, headers, req.method === 'HEAD' ? '' : body);
  }

  async function insert(
    res: ServerResponse,
    table: Table,
    url: URL,
    prefer: Prefer,
    payload: unknown,
  ): Promise<void> {
    const rows = Array.isArray(payload) ? payload : [payload];
    if (!rows.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
      throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
    }
    const cols = url.searchParams.has('columns')
      ? parseColumnList(url.searchParams.get('columns') ?? '')
      : [...new Set(rows.flatMap((r) => Object.keys(r as object)))];
    for (const c of cols) column(table, c, 'PGRST204');
    if (cols.length === 0 || rows.length === 0) {
      sendRaw(res, 201, { 'content-range': '*/*' }, prefer.return === 'representation' ? '[]' : '');
      return;
    }
    let conflict = '';
    if (prefer.resolution) {
      const target = url.searchParams.has('on_conflict')
        ? parseColumnList(url.searchParams.get('on_conflict') ?? '')
        : table.primaryKey;
      for (const c of target) column(table, c);
      conflict =
        prefer.resolution === 'ignore-duplicates'
          ? ` on conflict (${target.map(q).join(', ')}) do nothing`
          : ` on conflict (${target.map(q).join(', ')}) do update set ${cols.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`;
    }
    const list = cols.map(q).join(', ');
    const sql =
      `with pgrst_source as (insert into ${q(table.name)} (${list}) ` +
      `select ${list} from json_populate_recordset(null::${q(table.name)}, $1::text::json) _${conflict} returning *) ` +
      `select coalesce(json_agg(_postgrest_t), '[]')::text as body from ` +
      `(select ${selectList(table, url.searchParams.get('select'))} from pgrst_source) _postgrest_t`;
    const { body } = (await db.query<{ body: string }>(sql, [JSON.stringify(rows)])).rows[0] ?? {
      body: '[]',
    };
    respondWrite(res, 201, prefer, body);
  }

  async function update(
    res: ServerResponse,
    table: Table,
    url: URL,
    prefer: Prefer,
    payload: unknown,
  ): Promise<void> {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
    }
    const cols = Object.keys(payload);
    for (const c of cols) column(table, c, 'PGRST204');
    const params: unknown[] = [JSON.stringify(payload)];
    const where = filters(table, url, params);
    if (cols.length === 0) {
      respondWrite(res, 200, prefer, '[]');
      return;
    }
    const t = q(table.name);
    const sql =
      `with pgrst_source as (update ${t} set ${cols.map((c) => `${q(c)} = _.${q(c)}`).join(', ')} ` +
      `from (select * from json_populate_record(null::${t}, $1::text::json)) _` +
      `${where ? ` where ${where}` : ''} returning ${t}.*) ` +
      `select coalesce(json_agg(_postgrest_t), '[]')::text as body from ` +
      `(select ${selectList(table, url.searchParams.get('select'))} from pgrst_source) _postgrest_t`;
    const { body } = (await db.query<{ body: string }>(sql, params)).rows[0] ?? { body: '[]' };
    respondWrite(res, 200, prefer, body);
  }

  function respondWrite(res: ServerResponse, okStatus: number, prefer: Prefer, body: string): void {
    const applied = [
      prefer.resolution && `resolution=${prefer.resolution}`,
      prefer.return && `return=${prefer.return}`,
    ]
      .filter(Boolean)
      .join(', ');
    const headers: Record<string, string> = { 'content-range': '*/*' };
    if (applied) headers['preference-applied'] = applied;
    if (prefer.return === 'representation') {
      sendRaw(res, okStatus, { ...headers, 'content-type': 'application/json; charset=utf-8' }, body);
    } else {
      // return=minimal (PostgREST's default): 201 for POST, 204 for PATCH, no body.
      sendRaw(res, okStatus === 201 ? 201 : 204, headers, '');
    }
  }

  /** WHERE clause from every non-reserved query parameter; values become `$n` parameters. */
  function filters(table: Table, url: URL, params: unknown[]): string {
    const parts: string[] = [];
    for (const [key, raw] of url.searchParams) {
      if (RESERVED.has(key)) continue;
      const col = column(table, key);
      const dot = raw.indexOf('.');
      const op = dot < 0 ? raw : raw.slice(0, dot);
      const value = dot < 0 ? '' : raw.slice(dot + 1);
      const target = `${q(table.name)}.${q(col.name)}`;
      const bind = (v: string) => {
        params.push(v);
        return `$${params.length}::text::${col.type}`;
      };
      if (op in OPERATORS) {
        parts.push(`${target} ${OPERATORS[op]} ${bind(value)}`);
      } else if (op === 'in') {
        const items = parseInList(value);
        parts.push(items.length === 0 ? 'false' : `${target} in (${items.map(bind).join(', ')})`);
      } else if (op === 'is' && ['null', 'true', 'false', 'unknown'].includes(value.toLowerCase())) {
        parts.push(`${target} is ${value.toLowerCase()}`);
      } else {
        throw new ApiError(
          400,
          'PGRST100',
          `"failed to parse filter (${raw})" (line 1, column 1)`,
          `unexpected "${op}"`,
        );
      }
    }
    return parts.join(' and ');
  }

  function orderBy(table: Table, raw: string | null): string {
    if (!raw) return '';
    return raw
      .split(',')
      .map((term) => {
        const [name = '', ...mods] = term.split('.');
        const col = column(table, name);
        let dir = '';
        let nulls = '';
        for (const mod of mods) {
          if (mod === 'asc' || mod === 'desc') dir = ` ${mod}`;
          else if (mod === 'nullsfirst') nulls = ' nulls first';
          else if (mod === 'nullslast') nulls = ' nulls last';
          else throw new ApiError(400, 'PGRST100', `"failed to parse order (${raw})" (line 1, column 1)`);
        }
        return `${q(col.name)}${dir}${nulls}`;
      })
      .join(', ');
  }

  function selectList(table: Table, raw: string | null): string {
    if (raw === null || raw === '' || raw === '*') return '*';
    return raw
      .split(',')
      .map((name) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          throw new ApiError(
            400,
            'PGRST100',
            `"failed to parse select parameter (${raw})" (the fake supports plain columns only)`,
          );
        }
        return q(column(table, name).name);
      })
      .join(', ');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    db,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}

function column(table: Table, name: string, missingCode = '42703'): Column {
  const col = table.columns.get(name);
  if (col) return col;
  if (missingCode === 'PGRST204') {
    throw new ApiError(
      400,
      'PGRST204',
      `Could not find the '${name}' column of '${table.name}' in the schema cache`,
    );
  }
  throw new ApiError(400, '42703', `column ${table.name}.${name} does not exist`);
}

async function loadSchemaCache(db: SqlClient): Promise<Map<string, Table>> {
  const { rows } = await db.query<{ table: string; column: string; type: string; pk: boolean }>(
    `select c.relname as "table", a.attname as "column", format_type(a.atttypid, a.atttypmod) as "type",
            coalesce(a.attnum = any(i.indkey), false) as pk
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       left join pg_index i on i.indrelid = c.oid and i.indisprimary
      where n.nspname = current_schema() and c.relkind in ('r', 'v')
      order by c.relname, a.attnum`,
  );
  const tables = new Map<string, Table>();
  for (const r of rows) {
    let t = tables.get(r.table);
    if (!t) tables.set(r.table, (t = { name: r.table, columns: new Map(), primaryKey: [] }));
    t.columns.set(r.column, { name: r.column, type: r.type });
    if (r.pk) t.primaryKey.push(r.column);
  }
  return tables;
}

interface Prefer {
  return?: 'minimal' | 'representation';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
}

/** Prefer may come as several headers or one comma-separated list; unknown preferences are ignored (lenient handling). */
function parsePrefer(header: string | string[] | undefined): Prefer {
  const out: Prefer = {};
  const items = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((s) => s.trim());
  for (const item of items) {
    if (item === 'return=minimal' || item === 'return=headers-only') out.return = 'minimal';
    else if (item === 'return=representation') out.return = 'representation';
    else if (item === 'resolution=merge-duplicates') out.resolution = 'merge-duplicates';
    else if (item === 'resolution=ignore-duplicates') out.resolution = 'ignore-duplicates';
  }
  return out;
}

/** `"a","b"` or `a,b` -> ['a', 'b']. */
function parseColumnList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .filter((s) => s !== '');
}

/** `(a,b,"c,d")` -> ['a', 'b', 'c,d']. */
function parseInList(raw: string): string[] {
  if (!raw.startsWith('(') || !raw.endsWith(')')) {
    throw new ApiError(400, 'PGRST100', `"failed to parse filter (in.${raw})" (line 1, column 4)`);
  }
  const items: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([^,]*))\s*(?:,|$)/gy;
  const inner = raw.slice(1, -1);
  if (inner.trim() === '') return items;
  let m: RegExpExecArray | null;
  while (re.lastIndex < inner.length && (m = re.exec(inner)) !== null) {
    items.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '').trim());
    if (m[0] === '') break;
  }
  return items;
}

function intParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw)) throw new ApiError(400, 'PGRST100', `"failed to parse ${name} parameter (${raw})"`);
  return Number(raw);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
  }
}

function toApiError(err: { code?: string; message?: string; detail?: string; hint?: string }): ApiError {
  const code = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : 'XX000';
  return new ApiError(
    statusForSqlState(code),
    code,
    err.message ?? 'internal error',
    err.detail ?? null,
    err.hint ?? null,
  );
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  sendRaw(
    res,
    status,
    { 'content-type': 'application/json; charset=utf-8', ...headers },
    body === undefined ? '' : JSON.stringify(body),
  );
}

function sendRaw(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, headers);
  res.end(body);
}
