/**
 * A live state chart of one machine: nested states as nested boxes (initial state marked, final
 * states double-bordered, invoked actors listed), transitions as arrows between the boxes, and the
 * active states highlighted from `state.changed` values. Only the active states show their
 * transitions as arrows (what can happen next); "All transitions" adds a readable table of every
 * transition (state, event, guard, target) instead of a mass of arrows. A legend says what the
 * badges, chips and arrows mean. The transition just taken stays marked until the next one.
 *
 * The arrows are a decorative SVG overlay (machine-arrows.ts); each state's transitions are also an
 * `event → target` list, which screen readers read, and which is shown instead of the arrows when
 * the chart is too narrow for them.
 */
import { h, replaceChildren } from '../lib/dom';
import { stateValueText } from '../lib/format';
import {
  buildArrows,
  createArrowLayer,
  takenArrows,
  type Arrow,
  type ArrowLabel,
  type ShownArrow,
} from './machine-arrows';
import {
  activeStateIds,
  stateById,
  transitionsOf,
  type DrawnTransition,
  type MachineJson,
  type MachineState,
} from './machine-types';

/** A rendered chart. */
export interface MachineChart {
  readonly element: HTMLElement;
  /** Highlights the states of an XState state value; `eventType` is shown as the last event. */
  setValue(value: unknown, eventType?: string | null): void;
  /** Clears the highlight (no call). */
  reset(): void;
}

let chartCount = 0;

/** Below this chart width the arrows become clutter: the text list is shown instead. */
const ARROWS_MIN_WIDTH = 380;
/** How long the arrow of the transition just taken draws itself in (styles.css `.ar-flash`). */
const FLASH_MS = 600;

function shortTarget(from: string, target: string): string {
  if (target === from) return '↺ itself';
  const parts = target.split('.');
  return parts.slice(1).join('.') || target;
}

function chip(from: string, t: DrawnTransition): HTMLElement {
  const target = t.targets.length ? t.targets.map((x) => shortTarget(from, x)).join(', ') : null;
  // The machine's own prefix (`claim.` of `claim.date.provided`) is left out next to the arrows.
  const machinePrefix = `${from.split('.')[0]}.`;
  const pre = t.trigger.startsWith(machinePrefix) ? machinePrefix : '';
  const title = `${t.trigger}${t.guard ? ` [${t.guard}]` : ''}${target ? ` → ${target}` : ' (stays, runs actions)'}`;
  return h(
    'li',
    { class: `tr${target ? '' : ' tr-internal'}`, title, 'data-event': t.eventType ?? undefined },
    h(
      'span',
      { class: 'tr-ev' },
      pre ? h('span', { class: 'tr-pre' }, pre) : null,
      t.trigger.slice(pre.length),
    ),
    t.guard ? h('span', { class: 'tr-guard' }, ` [${t.guard}]`) : null,
    target ? h('span', { class: 'tr-target' }, ` → ${target}`) : null,
  );
}

function renderState(id: string, key: string, state: MachineState, initial: boolean): HTMLElement {
  const kids = Object.entries(state.states ?? {});
  const trans = transitionsOf(state);
  const classes = ['st'];
  if (kids.length) classes.push('st-compound');
  if (state.type === 'final') classes.push('st-final');
  if (state.type === 'parallel') classes.push('st-parallel');
  if (initial) classes.push('st-initial');
  const invokes = (state.invoke ?? []).map((i) => i.src);
  return h(
    'div',
    { class: classes.join(' '), 'data-state': id, role: 'group', 'aria-label': `state ${key}` },
    h(
      'div',
      { class: 'st-head' },
      initial ? h('span', { class: 'st-initial-dot', title: 'initial state', 'aria-hidden': 'true' }) : null,
      h('span', { class: 'st-name' }, key),
      state.type === 'final' ? h('span', { class: 'st-tag' }, 'final') : null,
      invokes.length
        ? h('span', { class: 'st-tag', title: 'invoked actors' }, `invokes ${invokes.join(', ')}`)
        : null,
      trans.length ? h('span', { class: 'st-count', title: 'transitions' }, String(trans.length)) : null,
    ),
    trans.length
      ? h(
          'ul',
          { class: 'st-trans', 'aria-label': `transitions of ${key}` },
          trans.map((t) => chip(id, t)),
        )
      : null,
    kids.length
      ? h(
          'div',
          { class: 'st-kids' },
          kids.map(([k, s]) => renderState(`${id}.${k}`, k, s, state.initial === k)),
        )
      : null,
  );
}

/** What the chart's marks mean. */
function legend(): HTMLElement {
  const item = (mark: HTMLElement, text: string) => h('li', null, mark, text);
  return h(
    'ul',
    { class: 'machine-legend', 'aria-label': 'Legend' },
    item(h('span', { class: 'lg-box lg-active', 'aria-hidden': 'true' }), 'active state'),
    item(h('span', { class: 'st-initial-dot', 'aria-hidden': 'true' }), 'initial state'),
    item(h('span', { class: 'lg-box lg-final', 'aria-hidden': 'true' }), 'final state'),
    item(h('span', { class: 'st-count', 'aria-hidden': 'true' }, '3'), 'transitions leaving the state'),
    item(h('span', { class: 'lg-chip', 'aria-hidden': 'true' }, 'event'), 'an event the state handles'),
    item(h('span', { class: 'lg-line lg-avail', 'aria-hidden': 'true' }), 'can happen next'),
    item(h('span', { class: 'lg-line lg-taken', 'aria-hidden': 'true' }), 'just taken'),
  );
}

/** A dotted name that may wrap after its dots and spaces only, never mid-word. */
function breakable(text: string): Array<Node | string> {
  return text.split(/(?<=[.\s])/).flatMap((part, i) => (i ? [h('wbr'), part] : [part]));
}

/** Every transition of the machine as a table: from state, trigger, guard, target. */
function renderAllTransitions(machine: MachineJson, n: number): HTMLElement {
  const rows: HTMLElement[] = [];
  const walk = (id: string, state: MachineState) => {
    for (const t of transitionsOf(state)) {
      const target = t.targets.length ? t.targets.map((x) => shortTarget(id, x)).join(', ') : '(stays)';
      rows.push(
        h(
          'tr',
          { 'data-from': id },
          h('td', null, breakable(id.split('.').slice(1).join('.') || id)),
          h('td', null, h('code', null, breakable(t.trigger))),
          h('td', null, t.guard ? h('code', null, breakable(t.guard)) : '—'),
          h('td', null, breakable(target)),
        ),
      );
    }
    for (const [k, kid] of Object.entries(state.states ?? {})) walk(`${id}.${k}`, kid);
  };
  walk(machine.id, machine);
  return h(
    'div',
    { class: 'all-transitions table-scroll', hidden: true, id: `machine-all-list-${n}` },
    h(
      'table',
      null,
      h('caption', null, `All ${rows.length} transitions of the ${machine.id} machine`),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['From', 'Event', 'Only if', 'Goes to'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h('tbody', null, rows),
    ),
  );
}

/** Renders a machine's chart. */
export function createMachineChart(machine: MachineJson, opts: { title: string }): MachineChart {
  const n = ++chartCount;
  const now = h('span', { class: 'machine-now' }, 'not running');
  const last = h('span', { class: 'machine-last' });
  const goal = h('p', { class: 'machine-goal', hidden: true });
  const toggleId = `machine-all-${n}`;
  const toggle = h('input', { type: 'checkbox', id: toggleId });
  const root = h('div', { class: 'machine-body' }, renderState(machine.id, machine.id, machine, false));
  const allList = renderAllTransitions(machine, n);
  const figure = h(
    'figure',
    { class: 'machine', 'aria-labelledby': `machine-title-${n}` },
    h(
      'figcaption',
      null,
      h('h3', { id: `machine-title-${n}` }, opts.title),
      h('span', { class: 'machine-status' }, now, last),
      h('span', { class: 'machine-toggle' }, toggle, h('label', { for: toggleId }, 'All transitions')),
    ),
    goal,
    legend(),
    root,
    allList,
  );

  const nodes = new Map<string, HTMLElement>();
  for (const el of root.querySelectorAll<HTMLElement>('[data-state]')) nodes.set(el.dataset.state ?? '', el);
  let active = new Set<string>();

  const arrows = buildArrows(machine);
  const layer = createArrowLayer(root, nodes, n);
  root.append(layer.element);
  let taken = new Map<Arrow, ArrowLabel[]>();
  let takenAt = 0;
  let frame = 0;
  const redraw = () => {
    frame = 0;
    const wide = root.clientWidth >= ARROWS_MIN_WIDTH;
    figure.classList.toggle('arrows', wide);
    if (!wide) return layer.clear();
    const shown: ShownArrow[] = [];
    for (const arrow of arrows) {
      const labels = taken.get(arrow);
      // A taken arrow shows the event that took it, or all of them while it can be taken again.
      if (labels)
        shown.push({ arrow, style: 'taken', labels: active.has(arrow.from) ? arrow.labels : labels });
      else if (active.has(arrow.from)) shown.push({ arrow, style: 'avail' });
    }
    const age = performance.now() - takenAt;
    layer.draw({ arrows: shown, flashAge: age < FLASH_MS ? age : null });
  };
  /** Redraws once the layout has settled (after a resize or a state change). */
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(redraw);
  };
  new ResizeObserver(schedule).observe(root);

  toggle.addEventListener('change', () => {
    allList.hidden = !toggle.checked;
    if (toggle.checked) allList.scrollIntoView({ block: 'nearest' });
  });

  const apply = (ids: Set<string>, eventType: string | null) => {
    const justTaken = takenArrows(arrows, active, ids, eventType);
    const same = ids.size === active.size && [...ids].every((id) => active.has(id));
    // A repeat of the same state (e.g. "session ended") keeps the last transition marked.
    if (justTaken.size || !same) {
      taken = justTaken;
      takenAt = justTaken.size ? performance.now() : 0;
    }
    for (const [id, el] of nodes) {
      const on = ids.has(id);
      const wasOn = active.has(id);
      el.classList.toggle('active', on);
      if (on) el.setAttribute('aria-current', 'true');
      else el.removeAttribute('aria-current');
      const leaf = on && ![...ids].some((x) => x.startsWith(`${id}.`));
      el.classList.toggle('active-leaf', leaf);
      if (on && !wasOn) {
        el.classList.remove('entered');
        void el.offsetWidth; // restart the animation
        el.classList.add('entered');
        el.addEventListener('animationend', () => el.classList.remove('entered'), { once: true });
      }
    }
    active = ids;
    schedule();
  };

  return {
    element: figure,
    setValue(value, eventType) {
      const ids = activeStateIds(machine.id, value);
      apply(ids, eventType ?? null);
      replaceChildren(now, h('span', { class: 'visually-hidden' }, 'current state: '), stateValueText(value));
      replaceChildren(last, eventType ? ` after ${eventType}` : '');
      const leafGoals = [...ids]
        .map((id) => stateById(machine, id))
        .filter((s): s is MachineState => !!s && !s.states)
        .map((s) => s.meta?.goal)
        .filter((g): g is string => typeof g === 'string');
      goal.hidden = leafGoals.length === 0;
      replaceChildren(goal, leafGoals.length ? h('strong', null, 'Goal: ') : null, leafGoals.join(' '));
    },
    reset() {
      apply(new Set(), null);
      replaceChildren(now, 'not running');
      replaceChildren(last, '');
      goal.hidden = true;
    },
  };
}
