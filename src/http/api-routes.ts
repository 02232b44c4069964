/**
 * The read API over stored conversations. Rows are returned as stored (snake_case columns).
 *   GET /api/conversations?limit=&state=&end_reason=&since=&before=   newest first, `{conversations, next}`
 *   GET /api/conversations/:id             {conversation, messages, transitions, metrics, recording}
 *   GET /api/conversations/:id/recording   the call's recording, audio/wav (Range requests work)
 * `next` is the cursor of the following page (pass it as `before=`), null after the last page.
 */
import { Router } from 'express';
import { z } from 'zod';
import { claimPhases } from '../../machines/claim/claim.view.js';
import type { ConversationCursor, ConversationDetail, ConversationStore } from '../store/types.js';
import { cursorOf, parseCursor, sinceInstantOf } from '../store/list-filters.js';
import { requireDashboardAccess, type AccessConfig } from './access.js';

/** `YYYY-MM-DD` (midnight UTC) or an ISO instant. */
const since = z.string().transform((text, ctx) => {
  const iso = sinceInstantOf(text);
  if (iso === null)
    ctx.addIssue({ code: 'custom', message: 'must be YYYY-MM-DD or an ISO-8601 UTC instant' });
  return iso ?? '';
});

const before = z.string().transform((text, ctx): ConversationCursor => {
  const cursor = parseCursor(text);
  if (cursor === null)
    ctx.addIssue({ code: 'custom', message: 'must be the `next` cursor of a previous page' });
  return cursor ?? { createdAt: '', id: '' };
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
    state: z.enum(claimPhases).optional(),
    end_reason: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be an end reason such as caller_hung_up')
      .optional(),
    since: since.optional(),
    before: before.optional(),
  })
  .strict();

const uuid = z.uuid();

/** What GET /api/conversations/:id returns: the stored detail, and its recording's path if any. */
export type ConversationResponse = ConversationDetail & { recording: { url: string } | null };

/** Finds a conversation's recording file (src/recording/recordings.ts). */
export interface RecordingFinder {
  find(conversationId: string): Promise<string | null>;
}

/** Builds the /api router. */
export function createApiRouter(
  store: ConversationStore,
  access: AccessConfig,
  recordings?: RecordingFinder,
): Router {
  const r = Router();
  r.use(requireDashboardAccess(access));

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
    const { since: from, before: cursor, end_reason: endReason, ...filter } = parsed.data;
    const rows = await store.listConversations({
      ...filter,
      ...(endReason !== undefined ? { endReason } : {}),
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
    const recorded = recordings ? await recordings.find(id) : null;
    const body: ConversationResponse = {
      ...detail,
      recording: recorded ? { url: `/api/conversations/${id}/recording` } : null,
    };
    res.json(body);
  });

  r.get('/conversations/:id/recording', async (req, res) => {
    const id = String(req.params.id);
    if (!uuid.safeParse(id).success) {
      res.status(400).json({ error: 'conversation id must be a UUID' });
      return;
    }
    const file = recordings ? await recordings.find(id) : null;
    if (!file) {
      res.status(404).json({ error: `no recording for conversation ${id}` });
      return;
    }
    // sendFile answers Range requests (206), so the player can seek without downloading it all.
    res.sendFile(file, {
      headers: { 'Content-Type': 'audio/wav', 'Cache-Control': 'private, no-store' },
      dotfiles: 'deny',
    });
  });

  r.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return r;
}
