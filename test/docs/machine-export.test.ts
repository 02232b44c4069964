/**
 * The machine pictures can't go stale: what `npm run machines:export` writes (docs/machines/*.json
 * and *.mmd, and the diagrams embedded in README.md / docs/DESIGNERS.md) is regenerated from the
 * machines in the code and compared byte for byte with what is committed; and the JSON itself,
 * loaded back with `createMachine`, has the very states and transitions of the code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine, type AnyStateMachine } from 'xstate';
import {
  EXPORTED_MACHINES,
  machineToJson,
  machineToMermaid,
  renderMachineFiles,
  staleMachineFiles,
} from '../../src/cli/export-machines.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface NodeLike {
  id: string;
  states: Record<string, NodeLike>;
  transitions: Map<string, Array<{ eventType: string; target?: Array<{ id: string }>; reenter?: boolean }>>;
  always?: Array<{ target?: Array<{ id: string }>; reenter?: boolean }>;
  invoke: Array<{ id: string; src: unknown }>;
  type: string;
  initial?: { target: Array<{ id: string }> };
}

/** Every state node with its transitions, as XState resolved them. */
function shape(machine: AnyStateMachine): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (n: NodeLike) => {
    const t = (x: { target?: Array<{ id: string }>; reenter?: boolean }) =>
      `${(x.target ?? []).map((s) => s.id).join(',')}${x.reenter ? ' (reenter)' : ''}`;
    out[n.id] = [
      `type ${n.type}`,
      `initial ${(n.initial?.target ?? []).map((s) => s.id).join(',')}`,
      ...n.invoke.map((i) => `invoke ${i.id} ${String(i.src)}`),
      // Per event in priority order; events sorted (their order across events carries no meaning).
      ...[...n.transitions.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .flatMap(([event, ts]) => ts.map((x) => `${event} -> ${t(x)}`)),
      ...(n.always ?? []).map((x) => `always -> ${t(x)}`),
    ];
    for (const c of Object.values(n.states)) walk(c);
  };
  walk(machine.root as unknown as NodeLike);
  return out;
}

describe('machine export for designers', () => {
  it('matches the committed files byte for byte (run npm run machines:export after changing a machine)', async () => {
    expect(await staleMachineFiles()).toEqual([]);
    const files = await renderMachineFiles();
    for (const name of ['call', 'claim']) {
      expect(files.has(`docs/machines/${name}.machine.json`)).toBe(true);
      expect(files.has(`docs/machines/${name}.machine.mmd`)).toBe(true);
    }
  });

  it.each(EXPORTED_MACHINES.map((m) => [m.name, m.machine] as const))(
    'gives back the %s machine with the same states, transitions and invocations when loaded with createMachine',
    (_name, machine) => {
      const json = JSON.parse(JSON.stringify(machineToJson(machine))) as Parameters<typeof createMachine>[0];
      const loaded = createMachine(json);
      expect(shape(loaded)).toEqual(shape(machine));
    },
  );

  it.each(EXPORTED_MACHINES.map((m) => [m.name, m.machine] as const))(
    'draws every state and every transition with a target of the %s machine in the Mermaid diagram',
    (_name, machine) => {
      const mmd = machineToMermaid(machineToJson(machine));
      expect(mmd.startsWith('stateDiagram-v2\n')).toBe(true);
      const s = shape(machine);
      for (const id of Object.keys(s).slice(1)) {
        const key = id.split('.').pop()!;
        expect(mmd).toMatch(new RegExp(`(^|\\s)${key}(\\s|$)`, 'm'));
      }
      const targeted = Object.values(s)
        .flat()
        .filter((line) => /^(?!type |initial |invoke ).+ -> \S/.test(line)).length;
      const edges = mmd.split('\n').filter((l) => / --> (?!\[\*\])/.test(l) && !l.includes('[*] -->')).length;
      expect(edges).toBe(targeted);
    },
  );

  it('embeds the current diagrams wherever a document marks a machine block', () => {
    for (const doc of ['README.md', 'docs/DESIGNERS.md']) {
      const file = path.join(repoRoot, doc);
      if (!fs.existsSync(file)) continue;
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /<!-- machine:([a-z]+) -->\n\n```mermaid\n([\s\S]*?)```\n\n<!-- \/machine:\1 -->/g,
      )) {
        const mmd = fs.readFileSync(path.join(repoRoot, `docs/machines/${m[1]}.machine.mmd`), 'utf8');
        expect(m[2]).toBe(mmd);
      }
    }
  });
});
