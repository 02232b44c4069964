/**
 * PII sanitizers for anything that leaves the process about a call: the replay log, the Stately
 * inspector, logs. Phone numbers are masked to their last 4 digits; nothing binary is kept.
 */
import { maskPhoneNumber } from '../providers/local/speech-format.js';

const PHONE_KEYS = new Set(['from', 'to', 'caller', 'called', 'from_number', 'to_number']);

/** Returns a JSON-safe copy of an event with phone numbers masked and non-data values dropped. */
export function sanitizeEvent(event: unknown, depth = 0): Record<string, unknown> {
  const out = sanitizeValue(event, depth) as Record<string, unknown> | null;
  return out && typeof out === 'object' && !Array.isArray(out) ? out : { value: out };
}

function sanitizeValue(v: unknown, depth: number, key?: string): unknown {
  if (depth > 6) return '[depth]';
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (key && PHONE_KEYS.has(key.toLowerCase())) return maskPhoneNumber(v);
    return v.length > 2000 ? `${v.slice(0, 2000)}…` : v;
  }
  if (typeof v === 'undefined' || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') {
    return undefined;
  }
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return '[binary]';
  if (Array.isArray(v)) return v.slice(0, 100).map((x) => sanitizeValue(x, depth + 1));
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      if (v instanceof Error) return { name: v.name, message: v.message };
      return `[${(proto as { constructor?: { name?: string } }).constructor?.name ?? 'object'}]`;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const s = sanitizeValue(x, depth + 1, k);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return undefined;
}
