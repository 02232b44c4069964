/**
 * The load test's report: calls completed, failures by kind, and the latency from caller speech
 * end to first bot audio (p50/p90/p99, overall and per turn), as a text table and as a
 * self-contained HTML page with SVG charts (no scripts, no network).
 */
import { CALLER_TURNS, type CallerTurn } from './caller-script.js';
import { FAILURE_KINDS, type CallOutcome, type FailureKind } from './place-call.js';
import type { LoadResult } from './run-load.js';

/** Percentiles of a sample set (nearest rank); null fields when there are no samples. */
export interface LatencyStats {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** The numbers of a run. */
export interface LoadSummary {
  target: string;
  mode: 'voice' | 'keypad';
  startedAt: string;
  elapsedMs: number;
  placed: number;
  completed: number;
  failed: number;
  aborted: number;
  failures: Partial<Record<FailureKind, number>>;
  /** Every caller turn. */
  latency: LatencyStats;
  perTurn: Record<CallerTurn, LatencyStats>;
  /** Stream start -> first bot audio (not part of `latency`). */
  greeting: LatencyStats;
  /** Every caller-turn latency, for the histogram. */
  samples: number[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** p50/p90/p99/max of `values`. */
export function latencyStats(values: readonly number[]): LatencyStats {
  const s = [...values].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.at(-1) ?? null,
  };
}

/** Summarizes a run. */
export function summarize(
  result: LoadResult,
  meta: { target: string; mode: 'voice' | 'keypad' },
): LoadSummary {
  const o: CallOutcome[] = result.outcomes;
  const failures: Partial<Record<FailureKind, number>> = {};
  for (const c of o) if (c.failure) failures[c.failure] = (failures[c.failure] ?? 0) + 1;
  const samples = o.flatMap((c) => c.turns.map((t) => t.latencyMs));
  const perTurn = Object.fromEntries(
    CALLER_TURNS.map((turn) => [
      turn,
      latencyStats(o.flatMap((c) => c.turns.filter((t) => t.turn === turn).map((t) => t.latencyMs))),
    ]),
  ) as Record<CallerTurn, LatencyStats>;
  return {
    target: meta.target,
    mode: meta.mode,
    startedAt: result.startedAt.toISOString(),
    elapsedMs: Math.round(result.elapsedMs),
    placed: o.length,
    completed: o.filter((c) => c.status === 'completed').length,
    failed: o.filter((c) => c.status === 'failed').length,
    aborted: o.filter((c) => c.status === 'aborted').length,
    failures,
    latency: latencyStats(samples),
    perTurn,
    greeting: latencyStats(o.flatMap((c) => (c.greetingMs === undefined ? [] : [c.greetingMs]))),
    samples,
  };
}

const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

const statRow = (name: string, s: LatencyStats) => [
  name,
  String(s.count),
  ms(s.p50),
  ms(s.p90),
  ms(s.p99),
  ms(s.max),
];

/** The report as text (Markdown tables). */
export function formatReport(s: LoadSummary): string {
  const out: string[] = [];
  out.push(
    `Load test of ${s.target} (${s.mode}), started ${s.startedAt}, ${(s.elapsedMs / 1000).toFixed(1)} s`,
  );
  out.push('');
  out.push(
    table([
      ['calls placed', 'completed', 'failed', 'aborted'],
      [String(s.placed), String(s.completed), String(s.failed), String(s.aborted)],
    ]),
  );
  out.push('');
  const kinds = Object.entries(s.failures) as [FailureKind, number][];
  if (kinds.length) {
    out.push(
      table([['failure', 'calls', 'meaning'], ...kinds.map(([k, n]) => [k, String(n), FAILURE_KINDS[k]])]),
    );
    out.push('');
  }
  out.push('Caller speech end -> first bot audio:');
  out.push(
    table([
      ['turn', 'samples', 'p50', 'p90', 'p99', 'max'],
      statRow('all caller turns', s.latency),
      ...CALLER_TURNS.map((t) => statRow(t, s.perTurn[t])),
      statRow('greeting (from stream start)', s.greeting),
    ]),
  );
  return out.join('\n');
}

const esc = (t: string) =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A histogram of the caller-turn latencies as SVG. */
function histogramSvg(samples: readonly number[]): string {
  const W = 720;
  const H = 240;
  const pad = 40;
  if (samples.length === 0) return `<p>No latency samples.</p>`;
  const max = Math.max(...samples);
  const bins = Math.min(40, Math.max(5, Math.ceil(Math.sqrt(samples.length))));
  const width = Math.max(1, max / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of samples) counts[Math.min(bins - 1, Math.floor(v / width))]!++;
  const top = Math.max(...counts);
  const bw = (W - 2 * pad) / bins;
  const bars = counts
    .map((c, i) => {
      const h = top ? ((H - 2 * pad) * c) / top : 0;
      const x = pad + i * bw;
      return `<rect x="${x.toFixed(1)}" y="${(H - pad - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#3b82f6"><title>${Math.round(i * width)}–${Math.round((i + 1) * width)} ms: ${c}</title></rect>`;
    })
    .join('');
  const s = [...samples].sort((a, b) => a - b);
  const marks = (['p50', 'p90', 'p99'] as const)
    .map((name, k) => {
      const v = percentile(s, [50, 90, 99][k]!)!;
      const x = pad + (v / (width * bins)) * (W - 2 * pad);
      // Labels stack one per line; near the right edge they sit left of their line.
      const right = x > W * 0.7;
      const lx = right ? x - 3 : x + 3;
      return `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${pad - 10}" y2="${H - pad}" stroke="#dc2626" stroke-dasharray="4 3"/><text x="${lx.toFixed(1)}" y="${pad - 24 + k * 12}" font-size="11" fill="#dc2626" text-anchor="${right ? 'end' : 'start'}">${name} ${Math.round(v)} ms</text>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Latency histogram"><line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#555"/>${bars}${marks}<text x="${pad}" y="${H - 12}" font-size="11">0 ms</text><text x="${W - pad}" y="${H - 12}" font-size="11" text-anchor="end">${Math.round(width * bins)} ms</text><text x="${pad - 6}" y="${pad}" font-size="11" text-anchor="end">${top}</text></svg>`;
}

/** p50/p90/p99 per turn as grouped bars (SVG). */
function perTurnSvg(s: LoadSummary): string {
  const rows = [...CALLER_TURNS.map((t) => [t, s.perTurn[t]] as const), ['greeting', s.greeting] as const];
  const top = Math.max(1, ...rows.flatMap(([, st]) => [st.p99 ?? 0]));
  const W = 720;
  const rowH = 44;
  const left = 130;
  const H = rows.length * rowH + 30;
  const colors = { p50: '#22c55e', p90: '#f59e0b', p99: '#dc2626' } as const;
  const body = rows
    .map(([name, st], i) => {
      const y = 10 + i * rowH;
      const bars = (['p50', 'p90', 'p99'] as const)
        .map((p, k) => {
          const v = st[p];
          const w = v === null ? 0 : ((W - left - 90) * v) / top;
          return `<rect x="${left}" y="${y + k * 12}" width="${w.toFixed(1)}" height="10" fill="${colors[p]}"/><text x="${(left + w + 4).toFixed(1)}" y="${y + k * 12 + 9}" font-size="10">${p} ${ms(v)}</text>`;
        })
        .join('');
      return `<text x="${left - 8}" y="${y + 20}" font-size="12" text-anchor="end">${esc(name)}</text>${bars}`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Latency percentiles per turn">${body}</svg>`;
}

/** The report as a self-contained HTML page. */
export function renderHtmlReport(s: LoadSummary): string {
  const text = esc(formatReport(s));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>statecall load test ${esc(s.startedAt)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:60rem;color:#111}pre{background:#f4f4f5;padding:1rem;overflow:auto}h2{margin-top:2rem}</style></head>
<body><h1>Load test: ${esc(s.target)}</h1>
<p>${s.placed} calls placed, <strong>${s.completed} completed</strong>, ${s.failed} failed, ${s.aborted} aborted (${s.mode}, ${(s.elapsedMs / 1000).toFixed(1)} s).</p>
<h2>Caller speech end → first bot audio (${s.latency.count} turns)</h2>${histogramSvg(s.samples)}
<h2>Percentiles per turn</h2>${perTurnSvg(s)}
<h2>Report</h2><pre>${text}</pre></body></html>
`;
}
