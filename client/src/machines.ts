/**
 * Both machines as exported by `npm run machines:export` (docs/machines/*.json), bundled at build
 * time: the charts are drawn from exactly what the code defines (test/docs checks the export is
 * current). Also the words a designer gave each claim state (its meta `label`) and one stable
 * colour per state, so every page names and colours a state the same way in every call.
 */
import callJson from '../../docs/machines/call.machine.json';
import claimJson from '../../docs/machines/claim.machine.json';
import { stateById, type MachineJson, type MachineState } from './charts/machine-types';

/** The call machine (turn-taking loop). */
export const CALL_MACHINE = callJson as unknown as MachineJson;
/** The claim machine (business flow). */
export const CLAIM_MACHINE = claimJson as unknown as MachineJson;

/**
 * The label of a claim state (`ongoing.collectingAmount` → "Collecting the amount"), from the claim
 * machine's meta; the path itself when the state has no label (a machine newer than this page).
 */
export function claimStepLabel(path: string): string {
  const label = stateById(CLAIM_MACHINE, `${CLAIM_MACHINE.id}.${path}`)?.meta?.label;
  return typeof label === 'string' && label ? label : path;
}

/** Every state id of a machine in definition order (`call`, `call.connecting`, ...). */
function stateIds(machine: MachineJson): string[] {
  const out: string[] = [];
  const walk = (id: string, s: MachineState) => {
    out.push(id);
    for (const [k, kid] of Object.entries(s.states ?? {})) walk(`${id}.${k}`, kid);
  };
  walk(machine.id, machine);
  return out;
}

/** Every state of both machines numbered in one sequence, so no two states share a colour step. */
const ORDER = new Map<string, number>(
  [CALL_MACHINE, CLAIM_MACHINE].flatMap(stateIds).map((id, i) => [id, i] as const),
);

/**
 * A hue (0-359) for a state, fixed by its place in the machine's definition: the same state has the
 * same colour in every call, and neighbouring states differ (golden-angle steps).
 */
export function stateHue(machineId: string, path: string): number {
  const key = `${machineId}.${path}`;
  const index = ORDER.get(key) ?? [...key].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7);
  return Math.round((index * 137.508 + 210) % 360);
}
