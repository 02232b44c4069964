import { getShortestPaths } from 'xstate/graph';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { claimPathOf, type ClaimSnapshot } from '../../machines/claim/claim.view.js';
import { claimInput, claimShortestPaths, sampleEvents, serializeClaimState } from '../support/claim-paths.js';

const leafStates = [
  'initial',
  'ongoing.collectingDate',
  'ongoing.collectingAmount',
  'ongoing.verifying',
  'done',
];

describe('claim machine graph', () => {
  const paths = claimShortestPaths();

  it('reaches every state of the claim flow', () => {
    const reached = new Set(paths.map((p) => claimPathOf(p.state as ClaimSnapshot)));
    expect([...reached].sort()).toEqual([...leafStates].sort());
  });

  it('can reach done from every non-final state', () => {
    for (const p of paths) {
      const from = p.state as ClaimSnapshot;
      if (from.status === 'done') continue;
      const toDone = getShortestPaths(claimMachine, {
        events: sampleEvents,
        input: claimInput,
        fromState: from,
        serializeState: (s) => serializeClaimState(s as ClaimSnapshot),
        toState: (s) => s.status === 'done',
      });
      expect(toDone.length).toBeGreaterThan(0);
    }
  });

  it('ends every path to done with status Pending and both fields set', () => {
    const done = paths.filter((p) => (p.state as ClaimSnapshot).status === 'done');
    expect(done.length).toBeGreaterThan(0);
    for (const p of done) {
      const ctx = (p.state as ClaimSnapshot).context;
      expect(ctx.claimStatus).toBe('Pending');
      expect(ctx.claimDate).not.toBeNull();
      expect(ctx.claimAmount).not.toBeNull();
    }
  });
});
