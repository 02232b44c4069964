import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { replayTransitions } from '../../src/replay/replay.js';
import type { ConversationDetail, TransitionRow } from '../../src/store/types.js';
import { CALL_SCENARIOS } from '../fixtures/calls/generate.js';
import {
  callFixturePath,
  expectReplayMatches,
  listCallFixtures,
  loadCallFixture,
  replayFixture,
  runReplayCli,
} from '../support/replay-helper.js';

function clone(detail: ConversationDetail): ConversationDetail {
  return structuredClone(detail);
}

function rowOf(detail: ConversationDetail, match: (t: TransitionRow) => boolean): TransitionRow {
  const row = detail.transitions.find(match);
  if (!row) throw new Error('no such transition in the fixture');
  return row;
}

describe('golden call logs', () => {
  const names = listCallFixtures();

  it('has one golden log per scenario of the generator', () => {
    expect(names).toEqual(CALL_SCENARIOS.map((s) => s.name).sort());
  });

  it.each(names)('%s replays through both machines with no divergence', (name) => {
    const { report } = replayFixture(name);
    expect(report.errors).toEqual([]);
    expect(report.steps.some((s) => s.actor === 'call')).toBe(true);
    expect(report.steps.some((s) => s.actor === 'claim')).toBe(true);
  });

  it.each(CALL_SCENARIOS)('$name ends filed with the values the caller gave', (scenario) => {
    const { conversation, messages, metrics, transitions } = loadCallFixture(scenario.name);
    expect(conversation.state).toBe(scenario.expect.state);
    expect(conversation.claim_status).toBe('Pending');
    expect(conversation.claim_date).toBe(scenario.expect.claimDate);
    expect(Number(conversation.claim_amount)).toBe(scenario.expect.claimAmount);
    expect(conversation.end_reason).toBe('completed');
    expect(messages.length).toBeGreaterThan(0);
    expect(metrics?.conversation_id).toBe(conversation.id);
    const claimSteps = transitions.filter((t) => t.actor === 'claim');
    expect(claimSteps.at(-1)?.state_value).toBe('done');
  });

  it('records the date the call ran on in the claim machine input', () => {
    for (const name of names) {
      const init = rowOf(loadCallFixture(name), (t) => t.actor === 'claim' && t.event_type === 'xstate.init');
      expect(init.event).toMatchObject({ input: { today: '2026-11-24' } });
    }
  });

  it('shows the refusals of the rejected-values call as tool results the caller heard', () => {
    const { messages } = loadCallFixture('rejected-values');
    const tools = messages.filter((m) => m.role === 'tool').map((m) => m.text);
    expect(tools.some((t) => t.includes('is in the future'))).toBe(true);
    expect(tools.some((t) => t.includes('more than zero'))).toBe(true);
    expect(tools.some((t) => t.includes('above the limit'))).toBe(true);
  });
});

describe('replay divergence', () => {
  it('reports the step whose recorded state was tampered with', () => {
    const detail = clone(loadCallFixture('happy-path'));
    const row = rowOf(detail, (t) => t.actor === 'claim' && t.event_type === 'claim.date.provided');
    row.state_value = { ongoing: 'verifying' };

    const report = replayTransitions(detail.transitions);

    expect(report.ok).toBe(false);
    expect(report.divergences).toHaveLength(1);
    expect(report.divergences[0]).toMatchObject({
      actor: 'claim',
      seq: row.seq,
      eventType: 'claim.date.provided',
      recorded: { ongoing: 'verifying' },
      replayed: { ongoing: 'collectingAmount' },
    });
    expect(() => expectReplayMatches(detail)).toThrow(/diverged/);
  });

  it('reports a divergence in the call machine too', () => {
    const detail = clone(loadCallFixture('dtmf-only'));
    const row = rowOf(detail, (t) => t.actor === 'call' && t.event_type === 'call.started');
    row.state_value = 'ended';
    const report = replayTransitions(detail.transitions);
    expect(report.divergences.map((d) => [d.actor, d.seq])).toEqual([['call', row.seq]]);
  });

  it('uses the date recorded at call start, so a call replays the same on any later day', () => {
    // On 2027-06-01 the caller's "January 1st, 2027" would be accepted; it was refused on the day.
    const detail = clone(loadCallFixture('rejected-values'));
    const init = rowOf(detail, (t) => t.actor === 'claim' && t.event_type === 'xstate.init');
    (init.event as { input: { today: string } }).input.today = '2027-06-01';

    const report = replayTransitions(detail.transitions);

    expect(report.divergences[0]).toMatchObject({
      actor: 'claim',
      eventType: 'claim.date.provided',
      recorded: { ongoing: 'collectingDate' },
      replayed: { ongoing: 'collectingAmount' },
    });
  });

  it('refuses a log with a gap in the sequence numbers', () => {
    const detail = clone(loadCallFixture('happy-path'));
    const gap = rowOf(detail, (t) => t.actor === 'claim' && t.seq === 2);
    detail.transitions = detail.transitions.filter((t) => t !== gap);
    const report = replayTransitions(detail.transitions);
    expect(report.ok).toBe(false);
    expect(report.errors.join('\n')).toMatch(/gap in the log before seq 3/);
  });

  it('refuses a log that does not start with xstate.init', () => {
    const detail = clone(loadCallFixture('happy-path'));
    detail.transitions = detail.transitions.filter((t) => !(t.actor === 'claim' && t.seq === 0));
    expect(() => expectReplayMatches(detail)).toThrow(/not xstate.init/);
  });

  it('refuses an empty log instead of calling it a match', () => {
    expect(() => expectReplayMatches({ transitions: [] })).toThrow(/no transitions/);
  });
});

describe('replay CLI', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'statecall-replay-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('exits 0 and prints OK for a golden log file', async () => {
    const r = await runReplayCli([callFixturePath('happy-path')]);
    expect(r.stderr).not.toMatch(/replay failed/);
    expect(r.stdout).toMatch(/replay OK: \d+ steps, no divergence/);
    // The version the log was recorded under is printed (against today's when it differs, which
    // is reported and still exits 0).
    const recorded = loadCallFixture('happy-path').conversation.machine_version;
    expect(r.stdout).toMatch(new RegExp(`^machines: (recorded )?${recorded.replace('+', '\\+')}`, 'm'));
    expect(r.code).toBe(0);
  });

  it('exits 1 and names the divergent step for a tampered log file', async () => {
    const detail = clone(loadCallFixture('happy-path'));
    const row = rowOf(detail, (t) => t.actor === 'claim' && t.event_type === 'claim.details.confirmed');
    row.state_value = { ongoing: 'verifying' };
    const file = path.join(tmp, 'tampered.json');
    fs.writeFileSync(file, JSON.stringify(detail));

    const r = await runReplayCli([file]);

    expect(r.stdout).toMatch(/✗ claim .*claim\.details\.confirmed/);
    expect(r.stdout).toMatch(/replay FAILED: 1 divergent step/);
    expect(r.code).toBe(1);
  });
});
