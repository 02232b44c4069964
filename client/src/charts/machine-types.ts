/**
 * Shape of `docs/machines/*.machine.json` as written by `npm run machines:export`
 * (src/cli/export-machines.ts): plain XState config with absolute `#id` targets.
 */

/** One transition. */
export interface MachineTransition {
  target?: string | string[];
  guard?: string;
  actions?: string[];
  reenter?: boolean;
}

/** One invocation. */
export interface MachineInvoke {
  id: string;
  src: string;
  systemId?: string;
  onDone?: MachineTransition[];
  onError?: MachineTransition[];
}

/** One state node. */
export interface MachineState {
  type?: 'parallel' | 'final' | 'history';
  initial?: string;
  entry?: string[];
  exit?: string[];
  invoke?: MachineInvoke[];
  on?: Record<string, MachineTransition[]>;
  after?: Record<string, MachineTransition[]>;
  always?: MachineTransition[];
  meta?: { goal?: string; turnPolicy?: { interruptible?: boolean; endpointingPatienceMs?: number } } & Record<
    string,
    unknown
  >;
  description?: string;
  states?: Record<string, MachineState>;
}

/** A whole machine. */
export interface MachineJson extends MachineState {
  id: string;
}

/** A transition with the event that triggers it, as drawn. */
export interface DrawnTransition {
  /** What triggers it: an event type, `after <delay>`, `always`, `done <src>`, `error <src>`. */
  trigger: string;
  /** The event type as the server reports it (`state.changed.eventType`), when it is a plain event. */
  eventType: string | null;
  targets: string[];
  guard: string | null;
}

/** Every transition of a state, in definition order. */
export function transitionsOf(state: MachineState): DrawnTransition[] {
  const out: DrawnTransition[] = [];
  const add = (trigger: string, eventType: string | null, ts: MachineTransition[] | undefined) => {
    for (const t of ts ?? []) {
      const targets = t.target === undefined ? [] : Array.isArray(t.target) ? t.target : [t.target];
      out.push({
        trigger,
        eventType,
        targets: targets.map((x) => x.replace(/^#/, '')),
        guard: t.guard ?? null,
      });
    }
  };
  for (const [event, ts] of Object.entries(state.on ?? {})) add(event, event, ts);
  for (const [delay, ts] of Object.entries(state.after ?? {})) add(`after ${delay}`, null, ts);
  add('always', null, state.always);
  for (const inv of state.invoke ?? []) {
    add(`done ${inv.src}`, null, inv.onDone);
    add(`error ${inv.src}`, null, inv.onError);
  }
  return out;
}

/**
 * Ids of every active state node for an XState state value: `{active:{responding:'thinking'}}` under
 * machine `call` → `call`, `call.active`, `call.active.responding`, `call.active.responding.thinking`.
 */
export function activeStateIds(machineId: string, value: unknown): Set<string> {
  const out = new Set<string>([machineId]);
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'string') out.add(`${prefix}.${v}`);
    else if (v && typeof v === 'object') {
      for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
        out.add(`${prefix}.${k}`);
        walk(`${prefix}.${k}`, sub);
      }
    }
  };
  walk(machineId, value);
  return out;
}

/** Looks up a state node by id (`claim.ongoing.verifying`). */
export function stateById(machine: MachineJson, id: string): MachineState | null {
  const parts = id.split('.');
  if (parts[0] !== machine.id) return null;
  let node: MachineState | undefined = machine;
  for (const p of parts.slice(1)) node = node?.states?.[p];
  return node ?? null;
}
