/**
 * A conversation's stored metrics as a range chart: one row per timing (overall latency, heard
 * latency, then STT / LLM / TTS time to first byte and processing, each labelled with its
 * provider), a bar from min to max with a dot at the average, all on one millisecond axis; the
 * counts (turns, interruptions, tokens) as tiles. Every row also carries its numbers as text.
 */
import { h } from '../lib/dom';
import { ms } from '../lib/format';
import type { MetricsRow } from '../lib/rows';

/** One row of the chart. */
export interface MetricRow {
  label: string;
  group: 'overall' | 'stt' | 'llm' | 'tts';
  avg: number | null;
  min: number | null;
  max: number | null;
}

const num = (v: unknown): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** The rows of the chart, in display order (timings never measured are left out). */
export function metricRows(m: MetricsRow): MetricRow[] {
  const rec = m as unknown as Record<string, unknown>;
  const r = (label: string, group: MetricRow['group'], prefix: string): MetricRow => ({
    label,
    group,
    avg: num(rec[`${prefix}_avg_ms`]),
    min: num(rec[`${prefix}_min_ms`]),
    max: num(rec[`${prefix}_max_ms`]),
  });
  const p = (name: string | null) => (name ? ` · ${name}` : '');
  return [
    r('Latency (to first audio sent)', 'overall', 'latency'),
    r('Heard latency (to first audio heard)', 'overall', 'heard_latency'),
    r(`STT time to first transcript${p(m.stt_provider)}`, 'stt', 'stt_ttfb'),
    r(`STT processing${p(m.stt_provider)}`, 'stt', 'stt_processing'),
    r(`LLM time to first token${p(m.llm_provider)}`, 'llm', 'llm_ttfb'),
    r(`LLM processing${p(m.llm_provider)}`, 'llm', 'llm_processing'),
    r(`TTS time to first audio${p(m.tts_provider)}`, 'tts', 'tts_ttfb'),
    r(`TTS processing${p(m.tts_provider)}`, 'tts', 'tts_processing'),
  ].filter((x) => x.avg !== null || x.min !== null || x.max !== null);
}

/** A round axis maximum at or above `n` (1, 2, 2.5, 5 × 10^k). */
export function niceCeil(n: number): number {
  if (!(n > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

const pct = (v: number, max: number) => `${Math.max(0, Math.min(100, (v / max) * 100)).toFixed(2)}%`;

/** Renders the metrics section. */
export function renderMetrics(m: MetricsRow | null): HTMLElement {
  const section = h(
    'section',
    { class: 'card metrics', 'aria-labelledby': 'metrics-title' },
    h('h2', { id: 'metrics-title' }, 'Metrics'),
  );
  if (!m) {
    section.appendChild(
      h('p', { class: 'muted' }, 'No metrics were stored for this call (no bot turn completed).'),
    );
    return section;
  }
  section.appendChild(
    h(
      'ul',
      { class: 'tiles' },
      (
        [
          ['Turns', m.turns],
          ['Interruptions', m.interruptions],
          ['Prompt tokens', m.llm_prompt_tokens],
          ['Completion tokens', m.llm_completion_tokens],
        ] as const
      ).map(([k, v]) =>
        h(
          'li',
          null,
          h('span', { class: 'tile-value' }, String(v ?? 0)),
          h('span', { class: 'tile-label' }, k),
        ),
      ),
    ),
  );
  const rows = metricRows(m);
  if (!rows.length) {
    section.appendChild(h('p', { class: 'muted' }, 'No timing was measured.'));
    return section;
  }
  const max = niceCeil(Math.max(1, ...rows.map((r) => r.max ?? r.avg ?? 0)));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  section.appendChild(
    h(
      'figure',
      { class: 'range-figure' },
      h(
        'div',
        { class: 'range-axis', 'aria-hidden': 'true' },
        h('span', { class: 'range-axis-pad' }),
        h(
          'span',
          { class: 'range-axis-track' },
          ticks.map((t) => h('span', { class: 'range-tick', style: `left:${pct(t, max)}` }, ms(t))),
        ),
      ),
      h(
        'ul',
        { class: 'range-chart' },
        rows.map((r) => {
          const lo = r.min ?? r.avg ?? 0;
          const hi = r.max ?? r.avg ?? 0;
          return h(
            'li',
            { class: `range-row metric-${r.group}` },
            h('span', { class: 'range-label' }, r.label),
            h(
              'span',
              { class: 'range-track', 'aria-hidden': 'true' },
              ticks.map((t) => h('span', { class: 'range-grid', style: `left:${pct(t, max)}` })),
              h('span', {
                class: 'range-bar',
                style: `left:${pct(lo, max)};width:max(3px, ${pct(hi - lo, max)})`,
              }),
              r.avg !== null ? h('span', { class: 'range-avg', style: `left:${pct(r.avg, max)}` }) : null,
            ),
            h('span', { class: 'range-value' }, `avg ${ms(r.avg)} · min ${ms(r.min)} · max ${ms(r.max)}`),
          );
        }),
      ),
      h('figcaption', { class: 'muted' }, 'Bar: min to max over the call · dot: average'),
    ),
  );
  return section;
}
