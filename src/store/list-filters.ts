/**
 * The filters clients list stored calls by (the API's `since`/`before`, `npm run replay -- --all
 * --since`), parsed strictly: only the one instant form the store writes, nothing `Date()` guesses;
 * and the listing cursor, `<created_at>,<id>` of a page's last row.
 */
import type { ConversationCursor, ConversationRow } from './types.js';

// UTC with optional milliseconds, as `toISOString()` writes it (without the milliseconds too).
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A real UTC instant (`2026-11-25T09:49:57.232Z`) normalized by `toISOString()`, or null. */
export function isoInstantOf(text: string): string | null {
  if (!ISO_INSTANT.test(text)) return null;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  // Date() rolls 2026-02-30 over to March: only a date and time that round-trip are real.
  return iso.slice(0, 19) === text.slice(0, 19) ? iso : null;
}

/** `YYYY-MM-DD` (midnight UTC) or a UTC instant, as an ISO instant; null when it is neither. */
export function sinceInstantOf(text: string): string | null {
  return isoInstantOf(ISO_DATE.test(text) ? `${text}T00:00:00Z` : text);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The cursor of the page after `row` (its last row), as the API returns it in `next`. */
export function cursorOf(row: Pick<ConversationRow, 'created_at' | 'id'>): string {
  return `${row.created_at},${row.id}`;
}

/** Parses a {@link cursorOf} string; null when it is not one. */
export function parseCursor(text: string): ConversationCursor | null {
  const parts = text.split(',');
  if (parts.length !== 2) return null;
  const createdAt = isoInstantOf(parts[0]!);
  const id = parts[1]!;
  return createdAt !== null && UUID.test(id) ? { createdAt, id } : null;
}
