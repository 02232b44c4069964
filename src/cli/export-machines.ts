/**
 * `npm run machines:export`: writes both machines, as defined in `machines/`, for designers and the
 * browser client:
 *
 * - `docs/machines/<name>.machine.json`: the machine as a plain XState config (`id`, `initial`,
 *   `states`, `on`, `after`, `always`, `invoke` with `onDone`/`onError`/`onSnapshot`, `entry`, `exit`, `meta`,
 *   `type`). Every target is resolved to an absolute `#id` by XState itself, guards and actions are
 *   given by name (`and(a, b)` guards as `a && b`, inline `assign`s as `assign(field, ...)`), and
 *   what cannot be data (input and context factories) is left out. Paste it into
 *   `createMachine(...)` in Stately Studio's import, or load it with `createMachine(json)`.
 *   The browser client imports these files at build time to draw the live state charts.
 * - `docs/machines/<name>.machine.mmd`: a Mermaid `stateDiagram-v2` of the same structure.
 * - In `README.md` and `docs/DESIGNERS.md`, the text between `<!-- machine:<name> -->` and
 *   `<!-- /machine:<name> -->` markers is replaced with the diagram in a ```mermaid block.
 *
 * `--check` writes nothing and exits 1 when any file differs from what the code gives (CI and
 * test/docs use the same rendering). Output is deterministic: same machines → same bytes.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { callMachine } from '../../machines/call/call.machine.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';

/** One exported transition (XState config form, always in an array). */
export interface ExportedTransition {
  /** Absolute targets (`#call.active.listening`); absent for a targetless (actions-only) transition. */
  target?: string | string[];
  guard?: string;
  actions?: string[];
  reenter?: true;
}

/** One exported invocation. */
export interface ExportedInvoke {
  id: string;
  src: string;
  systemId?: string;
  onDone?: ExportedTransition[];
  onError?: ExportedTransition[];
  onSnapshot?: ExportedTransition[];
}

/** One exported state node (XState config form). */
export interface ExportedState {
  type?: 'parallel' | 'final' | 'history';
  initial?: string;
  entry?: string[];
  exit?: string[];
  invoke?: ExportedInvoke[];
  on?: Record<string, ExportedTransition[]>;
  after?: Record<string, ExportedTransition[]>;
  always?: ExportedTransition[];
  meta?: Record<string, unknown>;
  description?: string;
  tags?: string[];
  states?: Record<string, ExportedState>;
}

/** The exported machine: a state node config with its id. */
export interface ExportedMachine extends ExportedState {
  id: string;
}

/** The machines this project exports, by file stem. */
export const EXPORTED_MACHINES: ReadonlyArray<{ name: 'call' | 'claim'; machine: AnyStateMachine }> = [
  { name: 'call', machine: callMachine },
  { name: 'claim', machine: claimMachine },
];

// ---------------------------------------------------------------------------------------------
// Names of guards and actions as written in the source.

type Fn = ((...args: never[]) => unknown) & Record<string, unknown>;

function guardName(g: unknown): string | undefined {
  if (g === undefined || g === null) return undefined;
  if (typeof g === 'string') return g;
  if (typeof g === 'function') {
    const f = g as Fn;
    const parts = Array.isArray(f.guards) ? (f.guards as unknown[]).map((x) => guardName(x) ?? '?') : [];
    if (f.check && (f.check as { name?: string }).name === 'checkAnd') return parts.join(' && ');
    if (f.check && (f.check as { name?: string }).name === 'checkOr') return parts.join(' || ');
    if (f.check && (f.check as { name?: string }).name === 'checkNot') return `!(${parts.join(', ')})`;
    return f.name || 'inline guard';
  }
  if (typeof g === 'object' && typeof (g as { type?: unknown }).type === 'string') {
    return (g as { type: string }).type;
  }
  return 'guard';
}

function actionName(a: unknown): string {
  if (typeof a === 'string') return a;
  if (typeof a === 'function') {
    const f = a as Fn;
    if (f.type === 'xstate.assign') {
      const assignment = f.assignment;
      const keys = assignment && typeof assignment === 'object' ? Object.keys(assignment) : [];
      return keys.length ? `assign(${keys.join(', ')})` : 'assign';
    }
    if (typeof f.type === 'string') return f.type.replace(/^xstate\./, '');
    return f.name || 'inline action';
  }
  if (a && typeof a === 'object' && typeof (a as { type?: unknown }).type === 'string') {
    return (a as { type: string }).type;
  }
  return 'action';
}

function toArray<T>(x: T | T[] | undefined | null): T[] {
  if (x === undefined || x === null) return [];
  return Array.isArray(x) ? x : [x];
}

// ---------------------------------------------------------------------------------------------
// Walk: the config gives names, XState's resolved definition gives targets.

interface NodeLike {
  id: string;
  key: string;
  type: string;
  config: Record<string, unknown>;
  states: Record<string, NodeLike>;
  on: Record<string, Array<{ target?: Array<{ id: string }>; reenter?: boolean }>>;
  after: Array<{ eventType: string; delay: unknown; target?: Array<{ id: string }>; reenter?: boolean }>;
  always?: Array<{ target?: Array<{ id: string }>; reenter?: boolean }>;
  invoke: Array<{ id: string; src: unknown; systemId?: string }>;
  meta?: Record<string, unknown>;
  description?: string;
  tags: string[];
  initial?: { target: Array<{ key: string }> };
}

function transitionsOf(
  configured: unknown,
  resolved: Array<{ target?: Array<{ id: string }>; reenter?: boolean }>,
): ExportedTransition[] {
  const configs = toArray(configured as unknown);
  return configs.map((c, i) => {
    const r = resolved[i];
    const cfg = (typeof c === 'string' ? { target: c } : (c ?? {})) as Record<string, unknown>;
    const t: ExportedTransition = {};
    const targets = (r?.target ?? []).map((n) => `#${n.id}`);
    if (targets.length === 1) t.target = targets[0]!;
    else if (targets.length > 1) t.target = targets;
    const guard = guardName(cfg.guard);
    if (guard) t.guard = guard;
    const actions = toArray(cfg.actions as unknown).map(actionName);
    if (actions.length) t.actions = actions;
    if (r?.reenter) t.reenter = true;
    return t;
  });
}

function exportNode(node: NodeLike): ExportedState {
  const cfg = node.config;
  const out: ExportedState = {};
  if (node.type === 'parallel' || node.type === 'final' || node.type === 'history') out.type = node.type;
  const initialKey = node.initial?.target[0]?.key;
  if (initialKey) out.initial = initialKey;
  const entry = toArray(cfg.entry as unknown).map(actionName);
  if (entry.length) out.entry = entry;
  const exit = toArray(cfg.exit as unknown).map(actionName);
  if (exit.length) out.exit = exit;

  const invokeCfgs = toArray(cfg.invoke as unknown) as Array<Record<string, unknown>>;
  const doneKeys = new Set<string>();
  if (node.invoke.length) {
    out.invoke = node.invoke.map((inv, i) => {
      const ic = invokeCfgs[i] ?? {};
      const e: ExportedInvoke = { id: inv.id, src: typeof inv.src === 'string' ? inv.src : String(ic.src) };
      if (inv.systemId) e.systemId = inv.systemId;
      const doneKey = `xstate.done.actor.${inv.id}`;
      const errorKey = `xstate.error.actor.${inv.id}`;
      const snapshotKey = `xstate.snapshot.${inv.id}`;
      doneKeys.add(doneKey).add(errorKey).add(snapshotKey);
      if (ic.onDone) e.onDone = transitionsOf(ic.onDone, node.on[doneKey] ?? []);
      if (ic.onError) e.onError = transitionsOf(ic.onError, node.on[errorKey] ?? []);
      if (ic.onSnapshot) e.onSnapshot = transitionsOf(ic.onSnapshot, node.on[snapshotKey] ?? []);
      return e;
    });
  }

  const onCfg = (cfg.on ?? {}) as Record<string, unknown>;
  const on: Record<string, ExportedTransition[]> = {};
  for (const [event, configured] of Object.entries(onCfg)) {
    on[event] = transitionsOf(configured, node.on[event] ?? []);
  }
  if (Object.keys(on).length) out.on = on;

  const afterCfg = (cfg.after ?? {}) as Record<string, unknown>;
  const after: Record<string, ExportedTransition[]> = {};
  for (const [delay, configured] of Object.entries(afterCfg)) {
    const resolved = node.after.filter((t) => String(t.delay) === delay);
    after[delay] = transitionsOf(configured, resolved);
  }
  if (Object.keys(after).length) out.after = after;

  if (cfg.always) out.always = transitionsOf(cfg.always, node.always ?? []);
  if (node.meta && Object.keys(node.meta).length) out.meta = node.meta;
  if (node.description) out.description = node.description;
  if (node.tags.length) out.tags = [...node.tags];

  const keys = Object.keys(node.states);
  if (keys.length) {
    out.states = {};
    for (const k of keys) out.states[k] = exportNode(node.states[k]!);
  }
  return out;
}

/** The machine as plain, JSON-safe XState config data (see file header). Pure. */
export function machineToJson(machine: AnyStateMachine): ExportedMachine {
  const root = machine.root as unknown as NodeLike;
  return { id: machine.id, ...exportNode(root) };
}

// ---------------------------------------------------------------------------------------------
// Mermaid

interface FlatNode {
  /** XState id, e.g. `call.active.listening`. */
  id: string;
  key: string;
  state: ExportedState;
  children: FlatNode[];
}

function flatten(id: string, key: string, state: ExportedState): FlatNode {
  return {
    id,
    key,
    state,
    children: Object.entries(state.states ?? {}).map(([k, s]) => flatten(`${id}.${k}`, k, s)),
  };
}

function allNodes(n: FlatNode): FlatNode[] {
  return [n, ...n.children.flatMap(allNodes)];
}

/** Text safe for a Mermaid label (no `:` `;` `#` or braces, which the parser reads). */
function label(s: string): string {
  return s
    .replace(/[:;#{}]/g, ' ')
    .replace(/&&/g, 'and')
    .replace(/\|\|/g, 'or')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * A Mermaid `stateDiagram-v2` of an exported machine: nested states as composite states, `[*]` for
 * initial and final states, one edge per transition with a target, labelled `event [guard]`
 * (`after delay`, `always`, `done hangUp`, `error hangUp` for the implicit events).
 * Targetless (actions-only) transitions are not drawn.
 */
export function machineToMermaid(json: ExportedMachine): string {
  const root = flatten(json.id, json.id, json);
  const nodes = allNodes(root).slice(1);
  const keyCount = new Map<string, number>();
  for (const n of nodes) keyCount.set(n.key, (keyCount.get(n.key) ?? 0) + 1);
  const mid = new Map<string, string>();
  for (const n of nodes) {
    const unique = keyCount.get(n.key) === 1 && /^[A-Za-z][A-Za-z0-9_]*$/.test(n.key) && n.key !== 'end';
    mid.set(
      n.id,
      unique
        ? n.key
        : n.id
            .split('.')
            .slice(1)
            .join('_')
            .replace(/[^A-Za-z0-9_]/g, '_'),
    );
  }
  const lines: string[] = ['stateDiagram-v2'];
  const edges: string[] = [];
  const pad = (d: number) => '  '.repeat(d);

  const edge = (from: FlatNode, t: ExportedTransition, text: string) => {
    for (const target of toArray(t.target)) {
      const to = mid.get(target.replace(/^#/, ''));
      if (!to) continue;
      const g = t.guard ? ` [${t.guard}]` : '';
      edges.push(`  ${mid.get(from.id)} --> ${to} : ${label(text + g)}`);
    }
  };

  const emit = (n: FlatNode, depth: number) => {
    const id = mid.get(n.id)!;
    if (n.children.length) {
      lines.push(`${pad(depth)}state ${id} {`);
      emitChildren(n, depth + 1);
      lines.push(`${pad(depth)}}`);
    } else if (id !== n.key) {
      lines.push(`${pad(depth)}state "${n.key}" as ${id}`);
    } else {
      lines.push(`${pad(depth)}${id}`);
    }
    const s = n.state;
    if (s.type === 'final') lines.push(`${pad(depth)}${id} --> [*]`);
    for (const [event, ts] of Object.entries(s.on ?? {})) for (const t of ts) edge(n, t, event);
    for (const [delay, ts] of Object.entries(s.after ?? {})) for (const t of ts) edge(n, t, `after ${delay}`);
    for (const t of s.always ?? []) edge(n, t, 'always');
    for (const inv of s.invoke ?? []) {
      for (const t of inv.onDone ?? []) edge(n, t, `done ${inv.src}`);
      for (const t of inv.onError ?? []) edge(n, t, `error ${inv.src}`);
      for (const t of inv.onSnapshot ?? []) edge(n, t, `snapshot ${inv.src}`);
    }
  };
  const emitChildren = (parent: FlatNode, depth: number) => {
    const initial = parent.state.initial;
    if (initial) {
      const child = parent.children.find((c) => c.key === initial);
      if (child) lines.push(`${pad(depth)}[*] --> ${mid.get(child.id)}`);
    }
    for (const c of parent.children) emit(c, depth);
  };

  emitChildren(root, 1);
  return [...lines, ...edges, ''].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Files

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Markdown files whose `<!-- machine:NAME -->` blocks are kept in sync. */
export const DIAGRAM_DOCS = ['README.md', 'docs/DESIGNERS.md'] as const;

async function formatJson(text: string, filePath: string): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(filePath)) ?? {};
  return prettier.format(text, { ...options, filepath: filePath, parser: 'json' });
}

/** Replaces every marked diagram block in a markdown text (unchanged when there is no marker). */
export function embedDiagrams(markdown: string, diagrams: Record<string, string>): string {
  return markdown.replace(
    /(<!-- machine:([a-z]+) -->\n)[\s\S]*?(<!-- \/machine:\2 -->)/g,
    (whole, open: string, name: string, close: string) => {
      const d = diagrams[name];
      return d === undefined ? whole : `${open}\n\`\`\`mermaid\n${d}\`\`\`\n\n${close}`;
    },
  );
}

/**
 * Everything the export writes, as repo-relative path → content. Markdown files are included only
 * when they exist (their marked blocks replaced).
 */
export async function renderMachineFiles(root = repoRoot): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const diagrams: Record<string, string> = {};
  for (const { name, machine } of EXPORTED_MACHINES) {
    const json = machineToJson(machine);
    const jsonPath = `docs/machines/${name}.machine.json`;
    files.set(jsonPath, await formatJson(JSON.stringify(json), path.join(root, jsonPath)));
    const mmd = machineToMermaid(json);
    files.set(`docs/machines/${name}.machine.mmd`, mmd);
    diagrams[name] = mmd;
  }
  for (const doc of DIAGRAM_DOCS) {
    let text: string;
    try {
      text = await readFile(path.join(root, doc), 'utf8');
    } catch {
      continue;
    }
    files.set(doc, embedDiagrams(text, diagrams));
  }
  return files;
}

/** Paths whose content on disk differs from the rendering (empty = up to date). */
export async function staleMachineFiles(root = repoRoot): Promise<string[]> {
  const stale: string[] = [];
  for (const [rel, content] of await renderMachineFiles(root)) {
    const current = await readFile(path.join(root, rel), 'utf8').catch(() => null);
    if (current !== content) stale.push(rel);
  }
  return stale;
}

async function main(): Promise<void> {
  if (process.argv.includes('--check')) {
    const stale = await staleMachineFiles();
    if (stale.length) {
      console.error(`stale machine exports (run npm run machines:export): ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log('machine exports are up to date');
    return;
  }
  const files = await renderMachineFiles();
  let written = 0;
  for (const [rel, content] of files) {
    const abs = path.join(repoRoot, rel);
    const current = await readFile(abs, 'utf8').catch(() => null);
    if (current === content) continue;
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
    written += 1;
    console.log(`wrote ${rel}`);
  }
  console.log(
    written
      ? `machine exports: ${written} of ${files.size} files updated`
      : `machine exports: nothing changed (${files.size} files already match the machines)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
