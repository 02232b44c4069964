/**
 * A conversation's stored transitions as a timeline: one lane per machine (call, claim), each a
 * sequence of coloured segments, one per state it was in, from the recorded timestamps; a tick at
 * every transition. Below it, the full list (time, machine, event, resulting state) in a table.
 */
import { h, svg } from '../lib/dom';
import { formatDurationMs, stateValueText } from '../lib/format';
import type { TransitionRow } from '../lib/rows';

const PALETTE = 8;

/** Renders the timeline section. */
export function renderTimeline(transitions: TransitionRow[], endedAt: string | null): HTMLElement {
  const section = h(
    'section',
    { class: 'card timeline', 'aria-labelledby': 'timeline-title' },
    h('h2', { id: 'timeline-title' }, 'Timeline'),
  );
  if (!transitions.length) {
    section.appendChild(h('p', { class: 'muted' }, 'No transitions were recorded.'));
    return section;
  }
  const times = transitions.map((t) => new Date(t.created_at).getTime());
  const t0 = Math.min(...times);
  const endT = Math.max(...times, endedAt ? new Date(endedAt).getTime() : 0);
  const span = Math.max(1, endT - t0);
  const W = 720;
  const left = 56;
  const laneH = 34;
  const scale = (W - left - 8) / span;
  const lanes: Array<'call' | 'claim'> = ['call', 'claim'];
  const colours = new Map<string, number>();
  const colourOf = (top: string) => {
    if (!colours.has(top)) colours.set(top, colours.size % PALETTE);
    return colours.get(top)!;
  };

  const laneEls = lanes.map((actor, li) => {
    const rows = transitions.filter((t) => t.actor === actor);
    const y = 22 + li * (laneH + 10);
    const segs = rows.map((r, i) => {
      const start = new Date(r.created_at).getTime();
      const next = rows[i + 1];
      const end = next ? new Date(next.created_at).getTime() : endT;
      const text = stateValueText(r.state_value);
      const top = text.split('.')[0] ?? text;
      const x = left + (start - t0) * scale;
      const w = Math.max(1.5, (end - start) * scale);
      const leaf = text.split('.').pop() ?? text;
      return svg(
        'g',
        null,
        svg(
          'rect',
          { x, y, width: w, height: laneH, class: `seg seg-c${colourOf(top)}` },
          svg('title', null, `${actor}: ${text} (after ${r.event_type}) at +${formatDurationMs(start - t0)}`),
        ),
        w > leaf.length * 6.2 + 6
          ? svg('text', { x: x + 3, y: y + laneH / 2 + 4, class: 'seg-label' }, leaf)
          : null,
      );
    });
    return svg(
      'g',
      { class: `lane lane-${actor}` },
      svg('text', { x: 0, y: y + laneH / 2 + 4, class: 'row-label' }, actor),
      segs,
    );
  });
  const ticks = niceTicks(span);
  const chart = svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${22 + lanes.length * (laneH + 10)}`,
      class: 'timeline-svg',
      role: 'img',
      'aria-label': `States of the call and claim machines over ${formatDurationMs(span)}; the table below lists every transition`,
    },
    ticks.map((t) =>
      svg(
        'g',
        null,
        svg('line', {
          x1: left + t * scale,
          x2: left + t * scale,
          y1: 14,
          y2: 22 + lanes.length * (laneH + 10) - 10,
          class: 'grid',
        }),
        svg(
          'text',
          { x: left + t * scale, y: 10, class: 'axis-label', 'text-anchor': 'middle' },
          formatDurationMs(t),
        ),
      ),
    ),
    laneEls,
  );
  section.appendChild(h('figure', { class: 'timeline-figure' }, chart));
  section.appendChild(
    h(
      'details',
      { class: 'numbers' },
      h('summary', null, `All ${transitions.length} transitions`),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          null,
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Time', 'Machine', 'Event', 'State after'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            null,
            transitions.map((t) =>
              h(
                'tr',
                null,
                h('td', null, `+${formatDurationMs(new Date(t.created_at).getTime() - t0)}`),
                h('td', null, t.actor),
                h('td', null, h('code', null, t.event_type)),
                h('td', null, stateValueText(t.state_value)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
  return section;
}

/** About five round tick positions (ms) covering `span`. */
export function niceTicks(span: number): number[] {
  const steps = [100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000];
  const step = steps.find((s) => span / s <= 6) ?? 600_000;
  const out: number[] = [];
  for (let t = 0; t <= span; t += step) out.push(t);
  return out;
}
