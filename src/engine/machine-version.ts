/**
 * A short fingerprint of both machine definitions, stored with every conversation so a replay can
 * tell whether it runs the same machines that recorded the call.
 */
import { createHash } from 'node:crypto';
import { callMachine } from '../../machines/call.machine.js';
import { claimMachine } from '../../machines/claim.machine.js';

function fingerprint(): string {
  const json = JSON.stringify([claimMachine.definition, callMachine.definition]);
  return createHash('sha256').update(json).digest('hex').slice(0, 12);
}

/** e.g. `claim+call@3f9a1c0b2d4e`. */
export const machineVersion = `claim+call@${fingerprint()}`;
