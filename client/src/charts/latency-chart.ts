/**
 * Per-turn latency on the Talk page: one stacked bar per bot turn, broken down by provider (STT
 * processing, LLM time to first token, TTS time to first audio, the rest), with the total (caller
 * stopped → first bot audio sent) and a tick where the caller first heard it. HTML bars, so the
 * text stays readable at any width; each row also says its numbers in words for screen readers.
 */
import { h, replaceChildren } from '../lib/dom';
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
  { key: 'stt', label: 'STT', long: 'speech to text', pick: (t: TurnTiming) => t.sttProcessingMs },
  { key: 'llm', label: 'LLM', long: 'language model to first token', pick: (t: TurnTiming) => t.llmTtfbMs },
  { key: 'tts', label: 'TTS', long: 'speech synthesis to first audio', pick: (t: TurnTiming) => t.ttsTtfbMs },
] as const;

/** What the grey "other" part of a bar is: the total minus the three providers' parts. */
export const OTHER_EXPLAINED =
  'other: the rest of the total — waiting to be sure you had finished (end-of-turn patience), the language model writing the rest of the first sentence after its first token, and the engine itself (machines, turn set-up, sending the first audio).';

const pct = (v: number, max: number) => `${Math.max(0, Math.min(100, (v / max) * 100)).toFixed(2)}%`;

/** Creates the chart. */
export function createLatencyChart(): LatencyChart {
  const turns: TurnTiming[] = [];
  let providers: ProviderNames = {};
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' });
  const list = h('ol', { class: 'bars' });
  const empty = h('p', { class: 'muted' }, 'Latency of each bot turn appears here.');
  const element = h(
    'section',
    { class: 'card latency', 'aria-labelledby': 'latency-title' },
    h('h2', { id: 'latency-title' }, 'Latency per turn'),
    legend,
    h(
      'details',
      { class: 'legend-note muted' },
      h('summary', null, 'What is “other”?'),
      h('p', null, OTHER_EXPLAINED.replace(/^other: /, 'The grey part is ')),
    ),
    empty,
    list,
  );

  const renderLegend = () => {
    replaceChildren(
      legend,
      SEGMENTS.map((s) =>
        h(
          'li',
          { title: s.long },
          h('span', { class: `swatch seg-${s.key}`, 'aria-hidden': 'true' }),
          `${s.label}${providers[s.key] ? ` (${providers[s.key]})` : ''}`,
        ),
      ),
      h(
        'li',
        { title: OTHER_EXPLAINED },
        h('span', { class: 'swatch seg-other', 'aria-hidden': 'true' }),
        'other',
      ),
      h('li', null, h('span', { class: 'swatch swatch-heard', 'aria-hidden': 'true' }), 'first heard'),
    );
  };

  const render = () => {
    empty.hidden = turns.length > 0;
    const max = Math.max(
      1,
      ...turns.map((t) =>
        Math.max(
          t.latencyMs ?? 0,
          t.heardLatencyMs ?? 0,
          SEGMENTS.reduce((a, s) => a + (s.pick(t) ?? 0), 0),
        ),
      ),
    );
    replaceChildren(
      list,
      turns.map((t) => {
        let used = 0;
        const segs = SEGMENTS.map((s) => {
          const v = s.pick(t) ?? 0;
          if (v <= 0) return null;
          const el = h('span', {
            class: `bar-seg seg-${s.key}`,
            style: `left:${pct(used, max)};width:${pct(v, max)}`,
            title: `${s.label}: ${ms(v)}`,
          });
          used += v;
          return el;
        });
        const total = t.latencyMs ?? used;
        const other = total - used;
        const words = [
          `total ${ms(t.latencyMs)}`,
          t.heardLatencyMs !== undefined ? `heard after ${ms(t.heardLatencyMs)}` : null,
          ...SEGMENTS.map((s) => (s.pick(t) !== undefined ? `${s.label} ${ms(s.pick(t))}` : null)),
          other > 0 ? `other ${ms(other)}` : null,
          t.interrupted ? 'interrupted' : null,
        ].filter(Boolean);
        return h(
          'li',
          { class: 'bar-row', 'data-turn': String(t.turn) },
          h('span', { class: 'bar-label' }, `Turn ${t.turn}`),
          h(
            'span',
            { class: 'bar-track', 'aria-hidden': 'true' },
            segs,
            other > 0
              ? h('span', {
                  class: 'bar-seg seg-other',
                  style: `left:${pct(used, max)};width:${pct(other, max)}`,
                  title: `other: ${ms(other)} (end-of-turn wait, rest of the first sentence, engine)`,
                })
              : null,
            t.heardLatencyMs !== undefined
              ? h('span', {
                  class: 'bar-tick',
                  style: `left:${pct(t.heardLatencyMs, max)}`,
                  title: `heard after ${ms(t.heardLatencyMs)}`,
                })
              : null,
          ),
          h(
            'span',
            { class: 'bar-value', 'aria-hidden': 'true' },
            ms(t.latencyMs),
            t.interrupted ? ' ✂' : '',
          ),
          h('span', { class: 'visually-hidden' }, `: ${words.join(', ')}`),
        );
      }),
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
