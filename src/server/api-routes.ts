/**
 * The read API over stored conversations. Rows are returned as stored (snake_case columns).
 *   GET /api/conversations?limit=&state=   newest first
 *   GET /api/conversations/:id             {conversation, messages, transitions, metrics}
 */
import { Router, type Request, type Response, type NextFunction } from 'express';
import { z } from 'zod';
import { claimPhases } from '../../machines/claim.view.js';
import type { ConversationStore } from '../store/types.js';
import { checkDashboardAccess, type AccessConfig } from './access.js';

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
    const rows = await store.listConversations(parsed.data);
    res.json({ conversations: rows });
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
