/**
 * Tool calls in words: `claim_amount_provided (amount: 1250) → accepted, now ongoing.verifying`
 * instead of raw JSON. Used by the live transcript (`tool.called`) and by stored transcripts
 * (`tool` messages, stored as `name(arguments) -> result`).
 */

/** A tool call, described. */
export interface ToolText {
  name: string;
  args: string;
  /** `accepted…` / `refused…` / the raw result, shortened. */
  outcome: string;
  ok: boolean | null;
}

const MAX = 140;
const short = (s: string) => (s.length > MAX ? `${s.slice(0, MAX - 1)}…` : s);

function describeArgs(args: string): string {
  try {
    const o = JSON.parse(args) as unknown;
    if (o && typeof o === 'object' && !Array.isArray(o)) {
      return Object.entries(o as Record<string, unknown>)
        .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ');
    }
  } catch {
    /* not JSON: shown as is */
  }
  return short(args.trim());
}

function describeResult(result: string): { outcome: string; ok: boolean | null } {
  try {
    const o = JSON.parse(result) as Record<string, unknown> | null;
    if (o && typeof o === 'object' && typeof o.ok === 'boolean') {
      const state = typeof o.state === 'string' ? `, now ${o.state}` : '';
      const why = [o.reason, o.error, o.message].find((x): x is string => typeof x === 'string');
      return o.ok
        ? { outcome: `accepted${state}`, ok: true }
        : { outcome: `refused${why ? `: ${short(why)}` : ''}${state}`, ok: false };
    }
  } catch {
    /* not JSON: shown as is */
  }
  return { outcome: short(result.trim()), ok: null };
}

/** Describes a live `tool.called` notice. */
export function describeToolCall(name: string, args: string, result: string): ToolText {
  return { name, args: describeArgs(args), ...describeResult(result) };
}

/** Describes a stored `tool` message (`name(arguments) -> result`); null when it has another shape. */
export function describeStoredTool(text: string): ToolText | null {
  const m = /^([\w.-]+)\(([\s\S]*?)\)\s*->\s*([\s\S]*)$/.exec(text.trim());
  return m ? describeToolCall(m[1]!, m[2]!, m[3]!) : null;
}
