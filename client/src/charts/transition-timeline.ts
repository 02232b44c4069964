/**
 * A conversation's stored transitions as a timeline: one lane per machine (call, claim), each a
 * row of coloured segments, one per state it was in, placed by the recorded timestamps. Each
 * state has one colour in every call (from its place in the machine, see `stateHue`). Hovering,
 * tapping or focusing a segment tells its state, the event that entered it and when. Below it the
 * full list (time, machine, event, resulting state).
 */
import { h, replaceChildren } from '../lib/dom';
import { formatDurationMs, stateValueText } from '../lib/format';
import type { TransitionRow } from '../lib/rows';
import { CALL_MACHINE, CLAIM_MACHINE, stateHue } from '../machines';

/** About six round tick positions (ms) covering `span`. */
export function niceTicks(span: number): number[] {
  const steps = [
    50, 100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  ];
  const step = steps.find((s) => span / s <= 6) ?? 600_000;
  const out: number[] = [];
  for (let t = 0; t <= span; t += step) out.push(t);
  return out;
}

const pct = (v: number, max: number) => `${Math.max(0, Math.min(100, (v / max) * 100)).toFixed(3)}%`;

/** Renders the timeline section. */
export function renderTimeline(transitions: TransitionRow[], endedAt: string | null): HTMLElement {
  const section = h(
    'section',
    { class: 'card timeline', 'aria-labelledby': 'timeline-title' },
    h('h2', { id: 'timeline-title' }, 'Timeline of transitions'),
  );
  if (!transitions.length) {
    section.appendChild(h('p', { class: 'muted' }, 'No transitions were recorded.'));
    return section;
  }
  const at = (t: TransitionRow) => new Date(t.created_at).getTime();
  const t0 = Math.min(...transitions.map(at));
  const endT = Math.max(...transitions.map(at), endedAt ? new Date(endedAt).getTime() : 0);
  const span = Math.max(1, endT - t0);
  const detail = h(
    'p',
    { class: 'tl-detail', 'aria-live': 'polite' },
    'Tap, hover or focus a segment for its state and the event that entered it.',
  );
  const machineId = (actor: 'call' | 'claim') => (actor === 'call' ? CALL_MACHINE.id : CLAIM_MACHINE.id);

  const lane = (actor: 'call' | 'claim') => {
    const rows = transitions.filter((t) => t.actor === actor);
    const changes = rows.filter(
      (r, i) => i === 0 || stateValueText(r.state_value) !== stateValueText(rows[i - 1]!.state_value),
    );
    return h(
      'div',
      { class: `tl-lane tl-${actor}` },
      h('span', { class: 'tl-label' }, actor),
      h(
        'span',
        { class: 'tl-track' },
        changes.map((r, i) => {
          const start = at(r) - t0;
          const next = changes[i + 1];
          const end = next ? at(next) - t0 : span;
          const text = stateValueText(r.state_value);
          const leaf = text.split('.').pop() ?? text;
          const about = `${actor}: ${text} (after ${r.event_type}) from +${formatDurationMs(start)} for ${formatDurationMs(Math.max(end - start, 0))}`;
          const seg = h(
            'button',
            {
              type: 'button',
              class: 'tl-seg',
              'data-state': text,
              style: `left:${pct(start, span)};width:${pct(Math.max(end - start, 0), span)};--seg-h:${stateHue(machineId(actor), text)}`,
              title: about,
              'aria-label': about,
            },
            h('span', { class: 'tl-seg-text', 'aria-hidden': 'true' }, leaf),
          );
          const show = () => replaceChildren(detail, about);
          seg.addEventListener('click', show);
          seg.addEventListener('focus', show);
          seg.addEventListener('mouseenter', show);
          return seg;
        }),
      ),
    );
  };

  section.appendChild(
    h(
      'figure',
      {
        class: 'tl-figure',
        'aria-label': `States of the call and claim machines over ${formatDurationMs(span)}`,
      },
      h(
        'div',
        { class: 'tl-axis', 'aria-hidden': 'true' },
        h('span', { class: 'tl-label' }),
        h(
          'span',
          { class: 'tl-track' },
          niceTicks(span).map((t) =>
            h('span', { class: 'range-tick', style: `left:${pct(t, span)}` }, formatDurationMs(t)),
          ),
        ),
      ),
      lane('call'),
      lane('claim'),
      h('figcaption', { class: 'muted' }, detail),
    ),
  );
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
                h('td', null, `+${formatDurationMs(at(t) - t0)}`),
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
