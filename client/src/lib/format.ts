/** Formatting for the pages: money, dates, durations, state values. Locale-aware, never throws. */

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** `$1,250.00`, or an em dash when unknown. */
export function formatAmount(amount: number | string | null | undefined): string {
  if (amount === null || amount === undefined || amount === '') return '—';
  const n = typeof amount === 'number' ? amount : Number(amount);
  return Number.isFinite(n) ? money.format(n) : '—';
}

/** A claim date (`YYYY-MM-DD`) as `Mar 3, 2026`, or an em dash. */
export function formatClaimDate(date: string | null | undefined): string {
  if (!date) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (!m) return date;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toLocaleDateString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });
}

/** A timestamp in the viewer's time zone: `Nov 25, 2026, 09:41`. */
export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** How long ago: `just now`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** A duration in ms as `850 ms`, `12.4 s`, `3 min 05 s`. */
export function formatDurationMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

/** Call duration from two timestamps, or null when it has not ended. */
export function durationBetween(startIso: string, endIso: string | null): number | null {
  if (!endIso) return null;
  const a = new Date(startIso).getTime();
  const b = new Date(endIso).getTime();
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, b - a) : null;
}

/** An XState state value as a dotted path: `{active:{responding:'thinking'}}` → `active.responding.thinking`. */
export function stateValueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      const rest = stateValueText(v);
      return rest ? `${k}.${rest}` : k;
    });
    return parts.length > 1 ? `(${parts.join(' | ')})` : (parts[0] ?? '');
  }
  return '';
}

/** Milliseconds rounded for display: `312 ms`. */
export function ms(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : `${Math.round(n)} ms`;
}
