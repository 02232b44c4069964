/**
 * A conversation's stored metrics as a range chart: one row per timing (overall latency, heard
 * latency, then STT / LLM / TTS time-to-first-byte and processing, labelled with the provider),
 * a bar from min to max with the average marked, all on one millisecond scale. Counts (turns,
 * interruptions, tokens) as tiles. A table with the same numbers follows for screen readers.
 */
import { h, svg } from '../lib/dom';
import { ms } from '../lib/format';
import type { MetricsRow } from '../lib/rows';

interface Row {
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

/** The rows of the chart, in display order (rows never measured are left out). */
export function metricRows(m: MetricsRow): Row[] {
  const r = (label: string, group: Row['group'], prefix: string): Row => {
    const rec = m as unknown as Record<string, unknown>;
    return {
      label,
      group,
      avg: num(rec[`${prefix}_avg_ms`]),
      min: num(rec[`${prefix}_min_ms`]),
      max: num(rec[`${prefix}_max_ms`]),
    };
  };
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
      [
        ['Turns', m.turns],
        ['Interruptions', m.interruptions],
        ['Prompt tokens', m.llm_prompt_tokens],
        ['Completion tokens', m.llm_completion_tokens],
      ].map(([k, v]) =>
        h(
          'li',
          null,
          h('span', { class: 'tile-value' }, String(v ?? 0)),
          h('span', { class: 'tile-label' }, String(k)),
        ),
      ),
    ),
  );
  const rows = metricRows(m);
  if (!rows.length) {
    section.appendChild(h('p', { class: 'muted' }, 'No timing was measured.'));
    return section;
  }
  const W = 640;
  const labelW = 250;
  const rowH = 30;
  const top = 18;
  const max = Math.max(1, ...rows.map((r) => r.max ?? r.avg ?? 0));
  const nice = niceCeil(max);
  const scale = (W - labelW - 70) / nice;
  const ticks = [0, nice / 4, nice / 2, (3 * nice) / 4, nice];
  const chart = svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${top + rows.length * rowH + 6}`,
      class: 'metrics-svg',
      role: 'img',
      'aria-label':
        'Average, minimum and maximum of each timing in milliseconds; the table below has the values',
    },
    ticks.map((t) =>
      svg(
        'g',
        null,
        svg('line', {
          x1: labelW + t * scale,
          x2: labelW + t * scale,
          y1: top - 4,
          y2: top + rows.length * rowH,
          class: 'grid',
        }),
        svg('text', { x: labelW + t * scale, y: 11, class: 'axis-label', 'text-anchor': 'middle' }, ms(t)),
      ),
    ),
    rows.map((r, i) => {
      const y = top + i * rowH;
      const lo = r.min ?? r.avg ?? 0;
      const hi = r.max ?? r.avg ?? 0;
      return svg(
        'g',
        { class: `metric metric-${r.group}` },
        svg(
          'text',
          { x: labelW - 8, y: y + rowH / 2 + 4, class: 'row-label', 'text-anchor': 'end' },
          r.label,
        ),
        svg(
          'rect',
          {
            x: labelW + lo * scale,
            y: y + 9,
            width: Math.max(2, (hi - lo) * scale),
            height: rowH - 18,
            rx: 3,
            class: 'range',
          },
          svg('title', null, `min ${ms(r.min)}, max ${ms(r.max)}`),
        ),
        r.avg !== null
          ? svg(
              'circle',
              { cx: labelW + r.avg * scale, cy: y + rowH / 2, r: 5, class: 'avg' },
              svg('title', null, `avg ${ms(r.avg)}`),
            )
          : null,
        svg(
          'text',
          { x: labelW + hi * scale + 8, y: y + rowH / 2 + 4, class: 'value-label' },
          `avg ${ms(r.avg)}`,
        ),
      );
    }),
  );
  section.appendChild(
    h(
      'figure',
      { class: 'metrics-figure' },
      chart,
      h('figcaption', { class: 'muted' }, 'Bar: min to max over the call · dot: average'),
    ),
  );
  section.appendChild(
    h(
      'details',
      { class: 'numbers' },
      h('summary', null, 'Numbers'),
      h(
        'table',
        null,
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Timing', 'Avg', 'Min', 'Max'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          null,
          rows.map((r) =>
            h(
              'tr',
              null,
              h('th', { scope: 'row' }, r.label),
              [r.avg, r.min, r.max].map((v) => h('td', null, ms(v))),
            ),
          ),
        ),
      ),
    ),
  );
  return section;
}

/** A round axis maximum at or above `n` (1, 2, 2.5, 5 × 10^k). */
export function niceCeil(n: number): number {
  if (!(n > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}
