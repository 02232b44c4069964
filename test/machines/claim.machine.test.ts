import { createActor, initialTransition, transition } from 'xstate';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { claimViewOf } from '../../machines/claim/claim.view.js';
import { parseToolCall } from '../../machines/claim/claim.events.js';
import { toolDefinitionOf } from '../../src/providers/openai/openai-tools.js';

const input = { claimId: 'CLM-4821-0937', today: '2026-11-24', maxAmount: 50_000 };

function walk(events: Parameters<typeof transition<typeof claimMachine>>[2][]) {
  let [snap] = initialTransition(claimMachine, input);
  for (const e of events) [snap] = transition(claimMachine, snap, e);
  return snap;
}

describe('claim machine', () => {
  it('starts in initial with the issued claim number and status Open', () => {
    const view = claimViewOf(walk([]));
    expect(view.path).toBe('initial');
    expect(view.context.claimId).toBe('CLM-4821-0937');
    expect(view.context.claimStatus).toBe('Open');
    expect(view.acceptedEvents).toEqual(['claim.number.acknowledged', 'claim.number.repeat_requested']);
    expect(view.turnPolicy.interruptible).toBe(false);
  });

  it('repeats the number on request and moves on when acknowledged', () => {
    const snap = walk([{ type: 'claim.number.repeat_requested' }, { type: 'claim.number.acknowledged' }]);
    expect(claimViewOf(snap).path).toBe('ongoing.collectingDate');
    expect(snap.context.numberRepeats).toBe(1);
  });

  it('walks the happy path to done with status Pending', () => {
    const snap = walk([
      { type: 'claim.number.acknowledged' },
      { type: 'claim.date.provided', date: '2026-03-03' },
      { type: 'claim.amount.provided', amount: 1250.5 },
      { type: 'claim.details.confirmed' },
    ]);
    expect(snap.status).toBe('done');
    expect(snap.context).toMatchObject({
      claimDate: '2026-03-03',
      claimAmount: 1250.5,
      claimStatus: 'Pending',
    });
  });

  it('rejects a future date and records why, staying in collectingDate', () => {
    const snap = walk([
      { type: 'claim.number.acknowledged' },
      { type: 'claim.date.provided', date: '2027-01-01' },
    ]);
    expect(claimViewOf(snap).path).toBe('ongoing.collectingDate');
    expect(snap.context.lastRejection).toMatchObject({
      field: 'date',
      reason: expect.stringMatching(/future/),
    });
  });

  it('rejects an impossible calendar date', () => {
    const snap = walk([
      { type: 'claim.number.acknowledged' },
      { type: 'claim.date.provided', date: '2026-02-30' },
    ]);
    expect(snap.context.lastRejection?.reason).toMatch(/that date doesn.t exist/);
  });

  it('rejects negative, over-precise and over-cap amounts', () => {
    for (const amount of [-5, 0, 10.123, 60_000]) {
      const snap = walk([
        { type: 'claim.number.acknowledged' },
        { type: 'claim.date.provided', date: '2026-03-03' },
        { type: 'claim.amount.provided', amount },
      ]);
      expect(claimViewOf(snap).path).toBe('ongoing.collectingAmount');
      expect(snap.context.lastRejection?.field).toBe('amount');
    }
  });

  it('accepts an amount given before the date and then goes straight to verifying', () => {
    const snap = walk([
      { type: 'claim.number.acknowledged' },
      { type: 'claim.amount.provided', amount: 900 },
      { type: 'claim.date.provided', date: '2026-03-03' },
    ]);
    expect(claimViewOf(snap).path).toBe('ongoing.verifying');
  });

  it('applies a correction during verification and reads back again', () => {
    const snap = walk([
      { type: 'claim.number.acknowledged' },
      { type: 'claim.date.provided', date: '2026-03-03' },
      { type: 'claim.amount.provided', amount: 1250 },
      { type: 'claim.field.corrected', field: 'amount', value: '900' },
    ]);
    expect(claimViewOf(snap).path).toBe('ongoing.verifying');
    expect(snap.context.claimAmount).toBe(900);
  });

  it('offers only the tools the current state accepts', () => {
    const snap = walk([{ type: 'claim.number.acknowledged' }]);
    expect(claimViewOf(snap).acceptedEvents).toEqual([
      'claim.date.provided',
      'claim.amount.provided',
      'claim.field.corrected',
    ]);
  });

  it('runs as an actor and ends with its context as output', () => {
    const actor = createActor(claimMachine, { input }).start();
    actor.send({ type: 'claim.number.acknowledged' });
    actor.send({ type: 'claim.date.provided', date: '2026-11-01' });
    actor.send({ type: 'claim.amount.provided', amount: 10 });
    actor.send({ type: 'claim.details.confirmed' });
    expect(actor.getSnapshot().output?.claimStatus).toBe('Pending');
  });
});

describe('claim tools', () => {
  it('derives a JSON-schema tool from each event schema', () => {
    const def = toolDefinitionOf('claim.amount.provided');
    expect(def.function.name).toBe('claim_amount_provided');
    expect(def.function.parameters).toMatchObject({ type: 'object', required: ['amount'] });
  });

  it('validates tool arguments instead of throwing', () => {
    expect(parseToolCall('claim_date_provided', '{"date":"March"}')).toMatchObject({ ok: false });
    expect(parseToolCall('claim_date_provided', '{oops')).toEqual({
      ok: false,
      error: 'arguments are not valid JSON',
    });
    expect(parseToolCall('nope', '{}')).toMatchObject({ ok: false });
    expect(parseToolCall('claim_amount_provided', '{"amount": 12}')).toEqual({
      ok: true,
      event: { type: 'claim.amount.provided', amount: 12 },
    });
  });
});
