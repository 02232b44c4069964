/**
 * The read API over stored conversations. Rows are returned as stored (snake_case columns).
 *   GET /api/conversations?limit=&state=&since=&before=   newest first, `{conversations, next}`
 *   GET /api/conversations/:id             {conversation, messages, transitions, metrics}
 * `next` is the cursor of the following page (pass it as `before=`), null after the last page.
 */
import { Router, type Request, type Response, type NextFunction } from 'express';
import { z } from 'zod';
import type { ConversationCursor, ConversationRow, ConversationStore } from '../store/types.js';
import { checkDashboardAccess, type AccessConfig } from './access.js';

// An instant in the one form the store writes (UTC, optional milliseconds): nothing Date() guesses.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** A real instant in {@link ISO_INSTANT} form, normalized to `toISOString()`. */
function instantOf(text: string): string | null {
  if (!ISO_INSTANT.test(text)) return null;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  // Date() rolls 2026-02-30 over to March: only a date that round-trips is real.
  return iso.slice(0, 19) === text.slice(0, 19) ? iso : null;
}

/** `YYYY-MM-DD` (midnight UTC) or an ISO instant. */
const since = z.string().transform((text, ctx) => {
  const iso = instantOf(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (iso === null)
    ctx.addIssue({ code: 'custom', message: 'must be YYYY-MM-DD or an ISO-8601 UTC instant' });
  return iso ?? '';
});

/** The `next` cursor of a page: `<created_at>,<id>` of its last row. */
function cursorOf(row: ConversationRow): string {
  return `${row.created_at},${row.id}`;
}

const before = z.string().transform((text, ctx): ConversationCursor => {
  const [at = '', id = '', ...rest] = text.split(',');
  const createdAt = instantOf(at);
  if (createdAt === null || !z.uuid().safeParse(id).success || rest.length > 0) {
    ctx.addIssue({ code: 'custom', message: 'must be the `next` cursor of a previous page' });
  }
  return { createdAt: createdAt ?? '', id };
});

const listQuery = z
  .object({
    // Decimal digits only: Number() would also take "0x10", "1e1", " 16".
    limit: z
      .string()
      .regex(/^\d{1,4}$/, 'must be a whole number in decimal digits')
      .transform(Number)
      .pipe(z.number().int().min(1).max(200))
      .optional()
      .default(50),
    state: z.enum(['initial', 'ongoing', 'done']).optional(),
    since: since.optional(),
    before: before.optional(),
  })
  .strict();

const uuid = z.uuid();

/** Builds the /api router. */
export function createApiRouter(store: ConversationStore, access: AccessConfig): Router {
  const r = Router();
  r.use((req: Request, res: Response, next: NextFunction) => {
    const decision = checkDashboardAccess(req, access);
    if (!decision.ok) {
      res.status(decision.status).json({ error: decision.message });
      return;
    }
    next();
  });

  r.get('/conversations', async (req, res) => {
    const { token: _token, ...rest } = req.query as Record<string, unknown>;
    const parsed = listQuery.safeParse(rest);
    if (!parsed.success) {
      res.status(400).json({
        error: 'bad query',
        issues: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`),
      });
      return;
    }
    const { since: from, before: cursor, ...filter } = parsed.data;
    const rows = await store.listConversations({
      ...filter,
      ...(from !== undefined ? { since: from } : {}),
      ...(cursor !== undefined ? { before: cursor } : {}),
    });
    const last = rows.at(-1);
    res.json({ conversations: rows, next: last && rows.length >= parsed.data.limit ? cursorOf(last) : null });
  });

  r.get('/conversations/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!uuid.safeParse(id).success) {
      res.status(400).json({ error: 'conversation id must be a UUID' });
      return;
    }
    const detail = await store.getConversation(id);
    if (!detail) {
      res.status(404).json({ error: `conversation ${id} not found` });
      return;
    }
    res.json(detail);
  });

  r.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return r;
}
