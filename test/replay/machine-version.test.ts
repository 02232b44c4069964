import { callMachine, DEFAULT_CALL_TIMINGS } from '../../machines/call/call.machine.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { validateClaimAmount } from '../../machines/claim/claim.validation.js';
import { MACHINE_DEFAULTS, machineVersion, machineVersionOf } from '../../src/session/machine-version.js';

const today = { claim: claimMachine, call: callMachine, defaults: MACHINE_DEFAULTS };

describe('machineVersion', () => {
  it('is the same for the same machines computed twice', () => {
    expect(machineVersionOf(today)).toBe(machineVersionOf({ ...today, defaults: { ...MACHINE_DEFAULTS } }));
    expect(machineVersion).toMatch(/^claim\+call@[0-9a-f]{12}$/);
  });

  it('changes when one guard of the claim machine changes', () => {
    const stricter = claimMachine.provide({
      guards: {
        amountValid: ({ context, event }) =>
          event.type === 'claim.amount.provided' &&
          validateClaimAmount(event.amount, Math.min(context.maxAmount, 1000)).ok,
      },
    });
    expect(machineVersionOf({ ...today, claim: stricter })).not.toBe(machineVersionOf(today));
  });

  it('changes when one action of the claim machine changes', () => {
    const changed = claimMachine.provide({ actions: { countRepeat: () => {} } });
    expect(machineVersionOf({ ...today, claim: changed })).not.toBe(machineVersionOf(today));
  });

  it('changes when one delay of the call machine changes', () => {
    const changed = callMachine.provide({ delays: { idleTimeout: 1_000 } });
    expect(machineVersionOf({ ...today, call: changed })).not.toBe(machineVersionOf(today));
  });

  it('changes when a default timing changes', () => {
    const defaults = { ...MACHINE_DEFAULTS, callTimings: { ...DEFAULT_CALL_TIMINGS, idleTimeoutMs: 9_000 } };
    expect(machineVersionOf({ ...today, defaults })).not.toBe(machineVersionOf(today));
  });

  it('changes when a validation helper the guards delegate to changes', () => {
    const helpers = { validateClaimAmount };
    const other = { validateClaimAmount: (amount: number) => ({ ok: amount > 0 }) };
    expect(machineVersionOf({ ...today, helpers: other })).not.toBe(machineVersionOf({ ...today, helpers }));
  });
});
