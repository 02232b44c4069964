/**
 * The transitions of a machine chart as arrows: an SVG overlay on the chart's nested boxes (the
 * boxes stay HTML, laid out by CSS) with one curved arrow per source → target pair, labelled with
 * its events. No layout library: each arrow leaves its source box on the side facing the target;
 * when a straight curve would cross another box it goes round through the side margin instead, as
 * do arrows between a state and its parent or child. Self-transitions are small loops on the top
 * edge. Labels are placed along the curve where they cover the fewest names and other labels.
 *
 * The overlay is decorative (`aria-hidden`): the chart's text list of transitions stays for
 * assistive technology.
 */
import { transitionsOf, type MachineJson, type MachineState } from './machine-types';

const NS = 'http://www.w3.org/2000/svg';

/** One event on an arrow. */
export interface ArrowLabel {
  /** Short text (the machine's own id prefix dropped: `claim.date.provided` → `date.provided`). */
  text: string;
  /** Full text for the tooltip: event, guards. */
  title: string;
  /** `always` transitions: taken as part of whatever event led into the source. */
  eventless: boolean;
  /** Whether a reported `state.changed.eventType` is this trigger. */
  matches(eventType: string): boolean;
}

/** Every transition from one state to another, drawn as one arrow. */
export interface Arrow {
  from: string;
  to: string;
  labels: ArrowLabel[];
}

/** How an arrow is shown. */
export type ArrowStyle = 'faint' | 'avail' | 'taken';

/** One arrow to draw; `labels` narrows its labels (the taken arrow shows the event that took it). */
export interface ShownArrow {
  arrow: Arrow;
  style: ArrowStyle;
  labels?: ArrowLabel[];
}

/** What to draw. */
export interface ArrowView {
  arrows: ReadonlyArray<ShownArrow>;
  /** Milliseconds since the `taken` arrows were taken, while their drawing-in animation runs. */
  flashAge: number | null;
}

function triggerMatcher(trigger: string): (eventType: string) => boolean {
  if (trigger.startsWith('after ')) {
    const delay = trigger.slice(6);
    return (e) => e.startsWith(`xstate.after.${delay}.`) || e === `xstate.after(${delay})`;
  }
  if (trigger.startsWith('done ')) return (e) => e.startsWith('xstate.done.actor.');
  if (trigger.startsWith('error ')) return (e) => e.startsWith('xstate.error.actor.');
  if (trigger === 'always') return () => false;
  return (e) => e === trigger;
}

/** The arrows of a machine: one per (source, target) pair, in definition order. */
export function buildArrows(machine: MachineJson): Arrow[] {
  const byKey = new Map<string, Arrow>();
  const guards = new Map<ArrowLabel, string[]>();
  const prefix = `${machine.id}.`;
  const walk = (id: string, state: MachineState) => {
    for (const t of transitionsOf(state)) {
      for (const to of t.targets) {
        const key = `${id}>${to}`;
        let arrow = byKey.get(key);
        if (!arrow) byKey.set(key, (arrow = { from: id, to, labels: [] }));
        const text = t.trigger.startsWith(prefix) ? t.trigger.slice(prefix.length) : t.trigger;
        let label = arrow.labels.find((l) => l.text === text);
        if (!label) {
          label = {
            text,
            title: t.trigger,
            eventless: t.trigger === 'always',
            matches: triggerMatcher(t.trigger),
          };
          arrow.labels.push(label);
          guards.set(label, []);
        }
        guards.get(label)!.push(t.guard ?? 'else');
      }
    }
    for (const [k, s] of Object.entries(state.states ?? {})) walk(`${id}.${k}`, s);
  };
  walk(machine.id, machine);
  for (const [label, gs] of guards) {
    if (gs.some((g) => g !== 'else')) label.title += ` [${gs.join(' | ')}]`;
  }
  return [...byKey.values()];
}

/**
 * The arrows a `state.changed` just took, each with the events that took it: from a state active
 * before to one active now, triggered by `eventType`, plus an eventless (`always`) hop through a
 * transient state. When the event is unknown (the page's own "session ended") but only one arrow
 * leads from the old states into a newly entered one, that one was taken, by one of its events.
 */
export function takenArrows(
  arrows: readonly Arrow[],
  before: ReadonlySet<string>,
  now: ReadonlySet<string>,
  eventType: string | null,
): Map<Arrow, ArrowLabel[]> {
  const out = new Map<Arrow, ArrowLabel[]>();
  if (!eventType) return out;
  for (const a of arrows) {
    const hit = a.labels.filter((l) => l.matches(eventType));
    if (!before.has(a.from) || !hit.length) continue;
    if (now.has(a.to)) out.set(a, hit);
    else {
      for (const b of arrows) {
        const hop = b.labels.filter((l) => l.eventless);
        if (b.from === a.to && now.has(b.to) && hop.length) out.set(a, hit).set(b, hop);
      }
    }
  }
  if (!out.size) {
    const only = arrows.filter((a) => before.has(a.from) && now.has(a.to) && !before.has(a.to));
    if (only.length === 1) out.set(only[0]!, only[0]!.labels);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// geometry

interface Rect {
  l: number;
  t: number;
  r: number;
  b: number;
}
interface Pt {
  x: number;
  y: number;
}
type Side = 'top' | 'bottom' | 'left' | 'right';

/** One end of an arrow on a box side; `pos` is along the side (x for top/bottom, y for left/right). */
interface End {
  side: Side;
  pref: number;
  pos: number;
}

interface Plan {
  arrow: Arrow;
  style: ArrowStyle;
  labels: ArrowLabel[];
  kind: 'self' | 'direct' | 'channel';
  a: End;
  b: End;
  /** Channel arrows: the x of the margin they go round through. */
  channel: number;
}

const inside = (p: Pt, r: Rect, pad = 0) =>
  p.x > r.l - pad && p.x < r.r + pad && p.y > r.t - pad && p.y < r.b + pad;
const overlap = (a: Rect, b: Rect) =>
  Math.max(0, Math.min(a.r, b.r) - Math.max(a.l, b.l)) * Math.max(0, Math.min(a.b, b.b) - Math.max(a.t, b.t));
const clamp = (v: number, lo: number, hi: number) =>
  lo > hi ? (lo + hi) / 2 : Math.max(lo, Math.min(hi, v));

function bezier(p0: Pt, c1: Pt, c2: Pt, p3: Pt, t: number): Pt {
  const u = 1 - t;
  return {
    x: u * u * u * p0.x + 3 * u * u * t * c1.x + 3 * u * t * t * c2.x + t * t * t * p3.x,
    y: u * u * u * p0.y + 3 * u * u * t * c1.y + 3 * u * t * t * c2.y + t * t * t * p3.y,
  };
}

const NORMAL: Record<Side, Pt> = {
  top: { x: 0, y: -1 },
  bottom: { x: 0, y: 1 },
  left: { x: -1, y: 0 },
  right: { x: 1, y: 0 },
};

function endPoint(r: Rect, e: End): Pt {
  if (e.side === 'top') return { x: e.pos, y: r.t };
  if (e.side === 'bottom') return { x: e.pos, y: r.b };
  if (e.side === 'left') return { x: r.l, y: e.pos };
  return { x: r.r, y: e.pos };
}

/** Spreads the ends sharing a box side so arrows do not leave or arrive on top of each other. */
function spread(ends: End[], lo: number, hi: number): void {
  ends.sort((x, y) => x.pref - y.pref);
  const gap = Math.min(16, (hi - lo) / Math.max(1, ends.length));
  let prev = -Infinity;
  for (const e of ends) {
    e.pos = Math.max(clamp(e.pref, lo, hi), prev + gap);
    prev = e.pos;
  }
  let next = Infinity;
  for (let i = ends.length - 1; i >= 0; i--) {
    const e = ends[i]!;
    e.pos = Math.max(lo, Math.min(e.pos, hi, next - gap));
    next = e.pos;
  }
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...kids: (Node | string)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...kids);
  return el;
}

/** Label font sizes (px, monospace: a character is 0.6 em wide), as in styles.css. */
const FONT: Record<ArrowStyle, number> = { faint: 10, avail: 11, taken: 11 };
const STYLES: ArrowStyle[] = ['faint', 'avail', 'taken'];

/** The overlay of one chart. */
export interface ArrowLayer {
  readonly element: SVGSVGElement;
  /** Draws the arrows between the boxes as they are laid out now. */
  draw(view: ArrowView): void;
  clear(): void;
}

/** Creates the overlay for the boxes in `nodes` (by state id), positioned inside `body`. */
export function createArrowLayer(
  body: HTMLElement,
  nodes: Map<string, HTMLElement>,
  uid: number,
): ArrowLayer {
  const marker = (style: ArrowStyle) =>
    svg(
      'marker',
      {
        id: `ah-${uid}-${style}`,
        class: `am am-${style}`,
        viewBox: '0 0 10 10',
        refX: 9,
        refY: 5,
        markerWidth: style === 'faint' ? 6 : 8,
        markerHeight: style === 'faint' ? 6 : 8,
        markerUnits: 'userSpaceOnUse',
        orient: 'auto',
      },
      svg('path', { d: 'M0 0L10 5L0 10z' }),
    );
  const paths = svg('g');
  const labels = svg('g', { class: 'al-layer' });
  const element = svg(
    'svg',
    { class: 'machine-arrows', 'aria-hidden': 'true', focusable: 'false' },
    svg('defs', {}, ...STYLES.map(marker)),
    paths,
    labels,
  );

  const clear = () => {
    paths.replaceChildren();
    labels.replaceChildren();
  };

  const draw = (view: ArrowView) => {
    const origin = body.getBoundingClientRect();
    const width = body.clientWidth;
    const height = body.clientHeight;
    if (!width || !height) return clear();
    element.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const rectOf = (el: Element): Rect => {
      const r = el.getBoundingClientRect();
      return {
        l: r.left - origin.left,
        t: r.top - origin.top,
        r: r.right - origin.left,
        b: r.bottom - origin.top,
      };
    };
    const boxes = new Map<string, Rect>();
    for (const [id, el] of nodes) boxes.set(id, rectOf(el));
    // What labels should not cover: the state names and their tags.
    const avoid: Rect[] = [];
    for (const el of nodes.values()) {
      const name = el.querySelector(':scope > .st-head');
      if (name) for (const c of name.children) avoid.push(rectOf(c));
    }
    for (const chip of body.querySelectorAll('.tr')) {
      const r = rectOf(chip);
      if (r.r - r.l > 2) avoid.push(r);
    }
    const isAncestor = (a: string, b: string) => b.startsWith(`${a}.`);
    const related = (id: string, x: string) => id === x || isAncestor(id, x);
    const obstacles = (s: string, t: string) =>
      [...boxes].filter(([id]) => !related(id, s) && !related(id, t)).map(([, r]) => r);
    /** Where a box's side arrows attach by default: its middle, or its header for a compound state. */
    const sideY = (r: Rect) => Math.min((r.t + r.b) / 2, r.t + 13);

    const groups = new Map<string, End[]>();
    const end = (id: string, side: Side, pref: number): End => {
      const e = { side, pref, pos: pref };
      const key = `${id}|${side}`;
      groups.set(key, [...(groups.get(key) ?? []), e]);
      return e;
    };

    const plans: Plan[] = [];
    for (const shown of view.arrows) {
      const { arrow, style } = shown;
      const labels = shown.labels ?? arrow.labels;
      const S = boxes.get(arrow.from);
      const T = boxes.get(arrow.to);
      if (!S || !T) continue;
      if (arrow.from === arrow.to) {
        const e: End = { side: 'top', pref: S.r - 22, pos: S.r - 22 };
        plans.push({ arrow, style, labels, kind: 'self', a: e, b: e, channel: 0 });
        continue;
      }
      const nested = isAncestor(arrow.from, arrow.to) || isAncestor(arrow.to, arrow.from);
      let sideways = false;
      if (!nested) {
        let sa: Side;
        let sb: Side;
        let pa: number;
        let pb: number;
        if (T.t >= S.b - 1 || T.b <= S.t + 1) {
          const down = T.t >= S.b - 1;
          [sa, sb] = down ? ['bottom', 'top'] : ['top', 'bottom'];
          const lo = Math.max(S.l, T.l);
          const hi = Math.min(S.r, T.r);
          if (hi - lo >= 24) pa = pb = (lo + hi) / 2;
          else {
            pa = clamp((T.l + T.r) / 2, S.l + 12, S.r - 12);
            pb = clamp((S.l + S.r) / 2, T.l + 12, T.r - 12);
          }
        } else {
          sideways = true;
          const right = T.l >= S.r - 1 || (T.l + T.r) / 2 > (S.l + S.r) / 2;
          [sa, sb] = right ? ['right', 'left'] : ['left', 'right'];
          const lo = Math.max(S.t, T.t);
          const hi = Math.min(S.b, T.b);
          pa = pb = hi > lo ? Math.min((lo + hi) / 2, lo + 13) : (S.t + S.b) / 2;
        }
        // Would the straight curve cross another box? Then go round.
        const p0 = endPoint(S, { side: sa, pref: pa, pos: pa });
        const p3 = endPoint(T, { side: sb, pref: pb, pos: pb });
        const k = Math.max(16, Math.hypot(p3.x - p0.x, p3.y - p0.y) * 0.35);
        const c1 = { x: p0.x + NORMAL[sa].x * k, y: p0.y + NORMAL[sa].y * k };
        const c2 = { x: p3.x + NORMAL[sb].x * k, y: p3.y + NORMAL[sb].y * k };
        const obs = obstacles(arrow.from, arrow.to);
        const blocked = [0.2, 0.35, 0.5, 0.65, 0.8].some((t) =>
          obs.some((r) => inside(bezier(p0, c1, c2, p3, t), r, -2)),
        );
        if (!blocked) {
          plans.push({
            arrow,
            style,
            labels,
            kind: 'direct',
            a: end(arrow.from, sa, pa),
            b: end(arrow.to, sb, pb),
            channel: 0,
          });
          continue;
        }
      }
      // Round through the margin on the side with fewer boxes in the way: left or right, or for
      // boxes side by side, above or below.
      const [first, second]: [Side, Side] = sideways ? ['top', 'bottom'] : ['left', 'right'];
      const va = sideways ? (S.l + S.r) / 2 : sideY(S);
      const vb = sideways ? (T.l + T.r) / 2 : sideY(T);
      const v0 = Math.min(va, vb);
      const v1 = Math.max(va, vb);
      const lo = (r: Rect) => (sideways ? r.l : r.t);
      const hi = (r: Rect) => (sideways ? r.r : r.b);
      const obs = obstacles(arrow.from, arrow.to);
      const cost = (side: Side) => {
        const outward = side === 'left' || side === 'top' ? -1 : 1;
        const edge = (r: Rect) => ({ left: r.l, right: r.r, top: r.t, bottom: r.b })[side];
        const inner = (r: Rect) => ({ left: r.r, right: r.l, top: r.b, bottom: r.t })[side];
        // The boxes in the way: between the two along the channel, and level with them across it.
        const a0 = sideways ? Math.min(S.t, T.t) : Math.min(S.l, T.l);
        const a1 = sideways ? Math.max(S.b, T.b) : Math.max(S.r, T.r);
        const across = (r: Rect) => (sideways ? r.b > a0 && r.t < a1 : r.r > a0 && r.l < a1);
        const far = [S, T, ...obs.filter((r) => hi(r) > v0 && lo(r) < v1 && across(r))].map(edge);
        const base = outward < 0 ? Math.min(...far) : Math.max(...far);
        // Channels already running alongside: this one goes outside them.
        const beside = plans.filter(
          (q) =>
            q.kind === 'channel' &&
            q.a.side === side &&
            Math.abs(q.channel - base) < 40 &&
            Math.min(q.a.pref, q.b.pref) < v1 &&
            Math.max(q.a.pref, q.b.pref) > v0,
        ).length;
        const ch = base + outward * (10 + Math.min(12, (v1 - v0) * 0.04) + 6 * beside);
        const crosses = (r: Rect, v: number) =>
          obs.filter(
            (o) =>
              lo(o) < v && hi(o) > v && (outward < 0 ? inner(o) <= edge(r) + 1 : inner(o) >= edge(r) - 1),
          ).length;
        const out = outward < 0 ? ch < 0 : ch > (sideways ? height : width);
        return { ch, n: crosses(S, va) + crosses(T, vb) + (out ? 0.5 : 0) + 0.4 * beside };
      };
      const one = cost(first);
      const two = cost(second);
      const side = two.n < one.n ? second : first;
      plans.push({
        arrow,
        style,
        labels,
        kind: 'channel',
        a: end(arrow.from, side, va),
        b: end(arrow.to, side, vb),
        channel: side === first ? one.ch : two.ch,
      });
    }

    const loops = new Set(plans.filter((p) => p.kind === 'self').map((p) => p.arrow.from));
    for (const [key, ends] of groups) {
      const id = key.slice(0, key.lastIndexOf('|'));
      const r = boxes.get(id)!;
      const side = ends[0]!.side;
      // A self-loop sits on the right end of the top side.
      if (side === 'top' || side === 'bottom')
        spread(ends, r.l + 10, r.r - (side === 'top' && loops.has(id) ? 48 : 10));
      else spread(ends, r.t + 6, r.b - 6);
    }

    const placed: Rect[] = [];
    const pathEls: Element[] = [];
    const labelEls: Element[] = [];
    // The most important labels get the best spots; their arrows are drawn last, on top.
    const order = [...plans].sort((x, y) => STYLES.indexOf(y.style) - STYLES.indexOf(x.style));
    for (const p of order) {
      const S = boxes.get(p.arrow.from)!;
      const T = boxes.get(p.arrow.to)!;
      let p0: Pt;
      let c1: Pt;
      let c2: Pt;
      let p3: Pt;
      if (p.kind === 'self') {
        p0 = { x: S.r - 30, y: S.t };
        p3 = { x: S.r - 14, y: S.t };
        c1 = { x: S.r - 38, y: S.t - 22 };
        c2 = { x: S.r - 6, y: S.t - 22 };
      } else if (p.kind === 'direct') {
        p0 = endPoint(S, p.a);
        p3 = endPoint(T, p.b);
        const k = Math.max(16, Math.hypot(p3.x - p0.x, p3.y - p0.y) * 0.35);
        c1 = { x: p0.x + NORMAL[p.a.side].x * k, y: p0.y + NORMAL[p.a.side].y * k };
        c2 = { x: p3.x + NORMAL[p.b.side].x * k, y: p3.y + NORMAL[p.b.side].y * k };
      } else {
        p0 = endPoint(S, p.a);
        p3 = endPoint(T, p.b);
        // Control points where the curve's apex reaches the channel.
        if (p.a.side === 'left' || p.a.side === 'right') {
          const cx = (8 * p.channel - p0.x - p3.x) / 6;
          c1 = { x: cx, y: p0.y };
          c2 = { x: cx, y: p3.y };
        } else {
          const cy = (8 * p.channel - p0.y - p3.y) / 6;
          c1 = { x: p0.x, y: cy };
          c2 = { x: p3.x, y: cy };
        }
      }
      const f = (n: number) => n.toFixed(1);
      const d = `M${f(p0.x)} ${f(p0.y)}C${f(c1.x)} ${f(c1.y)} ${f(c2.x)} ${f(c2.y)} ${f(p3.x)} ${f(p3.y)}`;
      const flash = p.style === 'taken' && view.flashAge !== null;
      pathEls.push(
        svg('path', {
          d,
          class: `ar ar-${p.style}${flash ? ' ar-flash' : ''}`,
          'marker-end': `url(#ah-${uid}-${p.style})`,
          // A redraw during the animation (layout settling) carries on where it was.
          ...(flash ? { pathLength: 1, style: `animation-delay:-${Math.round(view.flashAge!)}ms` } : {}),
        }),
      );

      // The label: where it covers the fewest names and earlier labels.
      const lines = p.labels.map((l) => l.text);
      const size = FONT[p.style];
      const line = size + 2;
      const w = Math.max(...lines.map((l) => l.length)) * size * 0.6 + 8;
      const hgt = lines.length * line + 3;
      // Spots on the curve (or round the loop), each also tried beside it; the best scored wins.
      const candidates: Pt[] =
        p.kind === 'self'
          ? [{ x: S.r - 22, y: S.t - 16 }]
          : [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8].map((t) => bezier(p0, c1, c2, p3, t));
      const offsets: ReadonlyArray<readonly [number, number, number]> =
        p.kind === 'self'
          ? [
              [-w / 2 - 14, 0, 0],
              [0, -hgt / 2 - 8, 30],
              [w / 2 + 12, 0, 40],
              [-w / 2 - 14, -hgt / 2, 50],
            ]
          : [
              [0, 0, 0],
              [w / 2 + 5, 0, 40],
              [-w / 2 - 5, 0, 60],
              [0, -hgt / 2 - 4, 50],
              [0, hgt / 2 + 4, 70],
            ];
      let best: Rect | null = null;
      let bestScore = Infinity;
      for (const [i, c] of candidates.entries()) {
        for (const [dx, dy, cost] of offsets) {
          const x = clamp(c.x + dx - w / 2, 0, width - w);
          const y = c.y + dy - hgt / 2;
          const rect = { l: x, t: y, r: x + w, b: y + hgt };
          let score = cost + i * 25;
          for (const q of placed) score += 6 * overlap(rect, q);
          for (const q of avoid) score += 9 * overlap(rect, q);
          // A label across a box's border looks like it belongs to that box.
          for (const q of boxes.values()) {
            const o = overlap(rect, q);
            if (o > 0 && o < w * hgt - 1) score += 250;
          }
          if (score < bestScore) {
            bestScore = score;
            best = rect;
          }
        }
      }
      const box = best!;
      placed.push(box);
      const text = svg('text', { x: f(box.l + 4), y: f(box.t + line - 1) });
      lines.forEach((l, i) => text.append(svg('tspan', { x: f(box.l + 4), ...(i ? { dy: line } : {}) }, l)));
      labelEls.push(
        svg(
          'g',
          { class: `al al-${p.style}` },
          svg('title', {}, p.labels.map((l) => l.title).join('\n') + ` → ${p.arrow.to}`),
          svg('rect', { x: f(box.l), y: f(box.t), width: f(w), height: f(hgt), rx: 3 }),
          text,
        ),
      );
    }
    paths.replaceChildren(...pathEls.reverse());
    labels.replaceChildren(...labelEls.reverse());
  };

  return { element, draw, clear };
}
