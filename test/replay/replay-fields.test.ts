import { assign } from 'xstate';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { machineVersion } from '../../src/session/machine-version.js';
import {
  compareMachineVersion,
  formatMachineVersion,
  formatReplayReport,
  replayConversation,
} from '../../src/replay/replay.js';
import type { ConversationDetail } from '../../src/store/types.js';
import { loadCallFixture } from '../support/replay-helper.js';

function fixture(name: string): ConversationDetail {
  return structuredClone(loadCallFixture(name));
}

describe('replay compares the claim fields', () => {
  it('ends every golden call with the claim fields its conversation row stored', () => {
    for (const name of ['happy-path', 'dtmf-only', 'correction-while-verifying']) {
      const detail = fixture(name);
      const report = replayConversation(detail);
      expect(report.fieldDivergences).toEqual([]);
      expect(report.finalClaim).toEqual({
        claim_date: detail.conversation.claim_date,
        claim_amount: Number(detail.conversation.claim_amount),
        claim_status: 'Pending',
        state: 'done',
      });
    }
  });

  it('reports a stored amount the replayed claim does not end with', () => {
    const detail = fixture('happy-path');
    detail.conversation.claim_amount = 999;
    const report = replayConversation(detail);
    expect(report.ok).toBe(false);
    expect(report.divergences).toEqual([]);
    expect(report.fieldDivergences).toEqual([
      { field: 'claim_amount', recorded: 999, replayed: 1250.5, source: 'conversation' },
    ]);
    expect(formatReplayReport(report)).toMatch(
      /claim_amount: replayed 1250\.5, recorded 999 \(conversation row\)/,
    );
  });

  it('reports a stored phase and status the replayed claim does not reach', () => {
    const detail = fixture('dtmf-only');
    detail.conversation.state = 'ongoing';
    detail.conversation.claim_status = 'Open';
    const fields = replayConversation(detail).fieldDivergences.map((f) => f.field);
    expect(fields).toEqual(['claim_status', 'state']);
  });

  it('accepts an amount the store returns as a decimal string', () => {
    const detail = fixture('happy-path');
    (detail.conversation as { claim_amount: unknown }).claim_amount = '1250.50';
    expect(replayConversation(detail).fieldDivergences).toEqual([]);
  });

  it('checks the claim output the call machine recorded when the claim finished', () => {
    const detail = fixture('happy-path');
    const done = detail.transitions.find((t) => t.event_type === 'xstate.done.actor.claim')!;
    (done.event as { output: { claimDate: string } }).output.claimDate = '2026-03-04';
    expect(replayConversation(detail).fieldDivergences).toEqual([
      {
        field: 'claim_date',
        recorded: '2026-03-04',
        replayed: '2026-03-03',
        source: { actor: 'call', seq: done.seq, eventType: 'xstate.done.actor.claim' },
      },
    ]);
  });

  it('catches an action change that moves a field but no state', () => {
    // Amounts rounded to whole dollars: every state is the same, the stored amount is not.
    const rounding = claimMachine.provide({
      actions: { acceptAmount: assign({ claimAmount: () => 1250 }) },
    });
    const report = replayConversation(fixture('happy-path'), { claim: rounding });
    expect(report.divergences).toEqual([]);
    expect(report.fieldDivergences.map((f) => [f.field, f.source === 'conversation'])).toEqual([
      ['claim_amount', false],
      ['claim_amount', true],
    ]);
  });
});

describe('replay compares the machine version', () => {
  it('says the machines are the same when the recorded version is today’s', () => {
    const v = compareMachineVersion(machineVersion);
    expect(v.same).toBe(true);
    expect(formatMachineVersion(v)).toMatch(/the same as when the call was recorded/);
  });

  it('reports a different recorded version as a change, not as a divergence', () => {
    const detail = fixture('happy-path');
    const v = compareMachineVersion(detail.conversation.machine_version, 'claim+call@000000000000');
    expect(v).toEqual({
      recorded: detail.conversation.machine_version,
      today: 'claim+call@000000000000',
      same: false,
    });
    expect(formatMachineVersion(v)).toMatch(/machines changed since this call/);
    expect(replayConversation(detail).ok).toBe(true);
  });
});
