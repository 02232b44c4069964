/**
 * PII sanitizers for anything that leaves the process about a call: the replay log, the Stately
 * inspector, logs. Phone numbers are masked to their last 4 digits; nothing binary is kept.
 */
import { maskPhoneNumber } from '../privacy/phone-number.js';

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

// ---------------------------------------------------------------------------------------------
// Stately inspector: stricter than the replay log. The replay log must keep claim values (QA
// re-drives the machines with them); whatever goes to the inspector (a browser tab, possibly a
// designer's) must not. Phone numbers and claim ids keep their last 4 digits, claim values
// (date, amount, corrections, rejected values) become `[redacted]`, the caller's words (and the
// bot's, which repeat them) become `[redacted: N chars]`, keypad digits become `•`. State values,
// event types, counters and flags are kept, so the inspector still shows the whole flow.

const CLAIM_VALUE_KEYS = new Set([
  'claimdate',
  'claimamount',
  'claim_date',
  'claim_amount',
  'date',
  'amount',
  'value',
]);
const CLAIM_ID_KEYS = new Set(['claimid', 'claim_id']);
const TEXT_KEYS = new Set([
  'text',
  'usertext',
  'turnusertext',
  'heardtext',
  'transcript',
  'arguments',
  'result',
  'message',
]);
const DTMF_KEYS = new Set(['digit', 'dtmf', 'dtmfbuffer', 'dtmfentry', 'turndtmf']);
const INSPECTOR_PHONE_KEYS = new Set([...PHONE_KEYS, 'fromnumber', 'tonumber']);

/** Marker for a redacted claim value. */
export const REDACTED = '[redacted]';

function redactText(v: unknown): unknown {
  if (typeof v !== 'string') return v === null || v === undefined ? v : REDACTED;
  if (v === '' || v.startsWith('[redacted')) return v;
  return `[redacted: ${v.length} chars]`;
}

function redactKeyed(key: string, v: unknown, depth: number, inRejection: boolean): unknown {
  const k = key.toLowerCase();
  if (v === null || v === undefined) return v;
  if (INSPECTOR_PHONE_KEYS.has(k)) return typeof v === 'string' ? maskPhoneNumber(v) : REDACTED;
  if (CLAIM_VALUE_KEYS.has(k)) return REDACTED;
  if (CLAIM_ID_KEYS.has(k)) return typeof v === 'string' ? maskPhoneNumber(v) : REDACTED;
  if (TEXT_KEYS.has(k) || (inRejection && k === 'reason')) return redactText(v);
  if (DTMF_KEYS.has(k)) return typeof v === 'string' ? v.replace(/[0-9]/g, '•') : REDACTED;
  if (k === 'customparameters' && v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v as Record<string, unknown>).map((p) => [p, REDACTED]));
  }
  return redactCallData(v, depth + 1, k === 'lastrejection');
}

/**
 * A JSON-safe copy of call data (an event, a machine context, an actor's input or output) with
 * personal data redacted for the Stately inspector (see above). Never throws, never mutates its
 * input, and is idempotent (redacting twice gives the same result).
 */
export function redactCallData(value: unknown, depth = 0, inRejection = false): unknown {
  const v = sanitizeValue(value, depth);
  if (depth > 8) return '[depth]';
  if (Array.isArray(v)) return v.map((x) => redactCallData(x, depth + 1));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      out[k] = redactKeyed(k, x, depth, inRejection);
    return out;
  }
  return v;
}

/** An event as the inspector may show it: its `type`, and its payload redacted. */
export function sanitizeInspectorEvent<E extends { type: string }>(event: E): E {
  if (!event || typeof event !== 'object') return event;
  const out = redactCallData(event) as Record<string, unknown>;
  return { ...out, type: event.type } as unknown as E;
}

/** A machine context as the inspector may show it (see {@link redactCallData}). */
export function sanitizeInspectorContext<C>(context: C): C {
  return (context === undefined ? context : redactCallData(context)) as C;
}

/**
 * An actor snapshot as the inspector may show it: status, state value, tags and child ids as they
 * are; context, input and output redacted; an error reduced to its message (redacted). Plain data
 * (no machine, no functions).
 */
export function sanitizeInspectorSnapshot(snapshot: unknown): Record<string, unknown> {
  if (!snapshot || typeof snapshot !== 'object') return { status: 'active' };
  const s = snapshot as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (typeof s.status === 'string') out.status = s.status;
  if ('value' in s) out.value = sanitizeValue(s.value, 0);
  if ('context' in s) out.context = sanitizeInspectorContext(s.context);
  if ('input' in s) out.input = redactCallData(s.input);
  if ('output' in s) out.output = redactCallData(s.output);
  if (s.error !== undefined && s.error !== null) {
    const message = s.error instanceof Error ? s.error.message : (s.error as { message?: unknown }).message;
    out.error = { message: redactText(typeof message === 'string' ? message : String(s.error)) };
  }
  if (s.tags instanceof Set || Array.isArray(s.tags))
    out.tags = [...(s.tags as Iterable<unknown>)].map(String);
  if (s.children && typeof s.children === 'object') {
    out.children = Object.fromEntries(
      Object.entries(s.children as Record<string, { id?: unknown }>).map(([k, ref]) => [
        k,
        { xstate$$type: 1, id: typeof ref?.id === 'string' ? ref.id : k },
      ]),
    );
  }
  return out;
}
