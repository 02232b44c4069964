/**
 * Per-turn latency on the Talk page: one stacked bar per bot turn, broken down by provider (STT
 * processing, LLM time to first token, TTS time to first audio, the rest), with the total
 * (caller stopped → first bot audio) and, when known, when the caller first heard it.
 * The same numbers are in a table for screen readers.
 */
import { h, svg, replaceChildren } from '../lib/dom';
import { ms } from '../lib/format';
import type { TurnTiming } from '../lib/rows';

/** Provider names shown in the legend. */
export interface ProviderNames {
  stt?: string | undefined;
  llm?: string | undefined;
  tts?: string | undefined;
}

/** The chart. */
export interface LatencyChart {
  readonly element: HTMLElement;
  add(t: TurnTiming): void;
  setProviders(p: ProviderNames): void;
  reset(): void;
}

const SEGMENTS = [
  { key: 'stt', label: 'STT', pick: (t: TurnTiming) => t.sttProcessingMs },
  { key: 'llm', label: 'LLM', pick: (t: TurnTiming) => t.llmTtfbMs },
  { key: 'tts', label: 'TTS', pick: (t: TurnTiming) => t.ttsTtfbMs },
] as const;

/** Creates the chart. */
export function createLatencyChart(): LatencyChart {
  const turns: TurnTiming[] = [];
  let providers: ProviderNames = {};
  const legend = h('ul', { class: 'legend' });
  const plot = h('div', { class: 'latency-plot' });
  const table = h('table', { class: 'visually-hidden' });
  const empty = h('p', { class: 'muted' }, 'Latency of each bot turn appears here.');
  const element = h(
    'section',
    { class: 'card latency', 'aria-labelledby': 'latency-title' },
    h('h2', { id: 'latency-title' }, 'Latency per turn'),
    legend,
    empty,
    plot,
    table,
  );

  const renderLegend = () => {
    replaceChildren(
      legend,
      SEGMENTS.map((s) =>
        h(
          'li',
          null,
          h('span', { class: `swatch seg-${s.key}`, 'aria-hidden': 'true' }),
          `${s.label}${providers[s.key] ? ` (${providers[s.key]})` : ''}`,
        ),
      ),
      h('li', null, h('span', { class: 'swatch seg-other', 'aria-hidden': 'true' }), 'other'),
      h('li', null, h('span', { class: 'swatch heard-mark', 'aria-hidden': 'true' }), 'heard'),
    );
  };

  const render = () => {
    empty.hidden = turns.length > 0;
    const W = 320;
    const rowH = 22;
    const left = 44;
    const maxMs = Math.max(
      1,
      ...turns.map((t) =>
        Math.max(
          t.latencyMs ?? 0,
          t.heardLatencyMs ?? 0,
          SEGMENTS.reduce((a, s) => a + (s.pick(t) ?? 0), 0),
        ),
      ),
    );
    const scale = (W - left - 56) / maxMs;
    const chart = svg(
      'svg',
      {
        viewBox: `0 0 ${W} ${turns.length * rowH + 4}`,
        class: 'latency-svg',
        role: 'img',
        'aria-label': `Latency of ${turns.length} turns; see the table for values`,
      },
      turns.map((t, i) => {
        const y = i * rowH + 2;
        let x = left;
        const segs = SEGMENTS.map((s) => {
          const v = s.pick(t) ?? 0;
          const w = v * scale;
          const r =
            v > 0
              ? svg(
                  'rect',
                  { x, y: y + 3, width: Math.max(w, 0.5), height: rowH - 8, class: `seg-${s.key}` },
                  svg('title', null, `${s.label}: ${ms(v)}`),
                )
              : null;
          x += w;
          return r;
        });
        const total = t.latencyMs ?? 0;
        const otherW = Math.max(0, left + total * scale - x);
        return svg(
          'g',
          null,
          svg('text', { x: 0, y: y + rowH / 2 + 2, class: 'axis-label' }, `turn ${t.turn}`),
          segs,
          otherW > 0.5
            ? svg(
                'rect',
                { x, y: y + 3, width: otherW, height: rowH - 8, class: 'seg-other' },
                svg('title', null, `other: ${ms(total - (x - left) / scale)}`),
              )
            : null,
          t.heardLatencyMs
            ? svg('line', {
                x1: left + t.heardLatencyMs * scale,
                x2: left + t.heardLatencyMs * scale,
                y1: y + 1,
                y2: y + rowH - 3,
                class: 'heard-mark',
              })
            : null,
          svg(
            'text',
            { x: Math.max(x, left + total * scale) + 4, y: y + rowH / 2 + 2, class: 'value-label' },
            t.latencyMs !== undefined ? ms(t.latencyMs) : '—',
            t.interrupted ? ' ✂' : '',
          ),
        );
      }),
    );
    replaceChildren(plot, turns.length ? chart : null);
    replaceChildren(
      table,
      h('caption', null, 'Latency per turn, milliseconds'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Turn', 'Total', 'Heard', 'STT', 'LLM', 'TTS', 'Interrupted'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        turns.map((t) =>
          h(
            'tr',
            null,
            h('th', { scope: 'row' }, String(t.turn)),
            [t.latencyMs, t.heardLatencyMs, t.sttProcessingMs, t.llmTtfbMs, t.ttsTtfbMs].map((v) =>
              h('td', null, ms(v)),
            ),
            h('td', null, t.interrupted ? 'yes' : 'no'),
          ),
        ),
      ),
    );
  };

  renderLegend();
  render();
  return {
    element,
    add(t) {
      const i = turns.findIndex((x) => x.turn === t.turn);
      if (i >= 0) turns[i] = t;
      else turns.push(t);
      render();
    },
    setProviders(p) {
      providers = p;
      renderLegend();
    },
    reset() {
      turns.length = 0;
      render();
    },
  };
}
