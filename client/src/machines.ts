/**
 * Both machines as exported by `npm run machines:export` (docs/machines/*.json), bundled at build
 * time: the charts are drawn from exactly what the code defines (test/docs checks the export is
 * current).
 */
import callJson from '../../docs/machines/call.machine.json';
import claimJson from '../../docs/machines/claim.machine.json';
import type { MachineJson } from './charts/machine-types';

/** The call machine (turn-taking loop). */
export const CALL_MACHINE = callJson as unknown as MachineJson;
/** The claim machine (business flow). */
export const CLAIM_MACHINE = claimJson as unknown as MachineJson;
