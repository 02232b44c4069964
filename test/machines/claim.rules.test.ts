/**
 * The claim machine's product rules added for callers as they really talk: refusal reasons said
 * in words, corrections that move the flow on, a change request at the read-back, and a one-line
 * reason and a patient answer in every state's meta.
 */
import { initialTransition, transition } from 'xstate';
import { claimMachine, type ClaimStateMeta } from '../../machines/claim/claim.machine.js';
import { claimViewOf } from '../../machines/claim/claim.view.js';
import type { ClaimEvent } from '../../machines/claim/claim.events.js';
import { validateClaimAmount, validateClaimDate } from '../../machines/claim/claim.validation.js';
import { amountForSpeech, dateForSpeech, numberInWords } from '../../machines/claim/claim-speech.js';

const input = { claimId: 'CLM-4821-0937', today: '2026-11-24' };

function walk(events: ClaimEvent[]) {
  let [snap] = initialTransition(claimMachine, input);
  for (const e of events) [snap] = transition(claimMachine, snap, e);
  return snap;
}
const ack: ClaimEvent = { type: 'claim.number.acknowledged' };
const date: ClaimEvent = { type: 'claim.date.provided', date: '2026-03-03' };
const amount: ClaimEvent = { type: 'claim.amount.provided', amount: 1250 };

describe('refusal reasons are said in words', () => {
  it.each([
    ['2026-02-30', "that date doesn't exist: February has only 28 days in 2026"],
    ['2028-02-30', "that date doesn't exist: February has only 29 days in 2028"],
    ['2026-04-31', "that date doesn't exist: April has only 30 days"],
    ['2026-13-01', "that date doesn't exist"],
    ['2027-01-01', 'January 1st, 2027 is in the future'],
    [
      '1850-03-03',
      'March 3rd, 1850 is more than 5 years ago, and I can only take claims for the last 5 years',
    ],
    ['not-a-date', 'that is not a date I can use'],
  ])('%s is refused with "%s"', (value, reason) => {
    expect(validateClaimDate(value, input.today, 5 * 366)).toEqual({ ok: false, reason });
  });

  it('says the amount limit as money, never as digits', () => {
    expect(validateClaimAmount(2_000_000, 1_000_000)).toEqual({
      ok: false,
      reason: 'the amount is above the limit of one million dollars',
    });
  });

  it.each([
    [1_000_000, 'one million dollars'],
    [1250, 'one thousand two hundred fifty dollars'],
    [1250.5, 'one thousand two hundred fifty dollars and fifty cents'],
    [1, 'one dollar'],
    [0.75, 'seventy-five cents'],
    [12.01, 'twelve dollars and one cent'],
    [999_999.99, 'nine hundred ninety-nine thousand nine hundred ninety-nine dollars and ninety-nine cents'],
  ])('says %d as "%s"', (n, words) => {
    expect(amountForSpeech(n)).toBe(words);
  });

  it('says whole numbers in words up to the billions', () => {
    expect(numberInWords(0)).toBe('zero');
    expect(numberInWords(2_000_000_021)).toBe('two billion twenty-one');
  });

  it('says a date that does not exist with its parts as given', () => {
    expect(dateForSpeech('2026-02-30')).toBe('February 30th, 2026');
    expect(dateForSpeech('2026-03-03')).toBe('March 3rd, 2026');
  });

  it('stores nothing for a refused date', () => {
    const snap = walk([ack, { type: 'claim.date.provided', date: '2026-04-31' }]);
    expect(snap.context.claimDate).toBeNull();
    expect(snap.context.lastRejection?.reason).toMatch(/April has only 30 days/);
  });
});

describe('a correction moves the flow on to what is still missing', () => {
  it('a date corrected before the amount is known asks for the amount next', () => {
    const snap = walk([ack, { type: 'claim.field.corrected', field: 'date', value: '2026-11-20' }]);
    expect(claimViewOf(snap).path).toBe('ongoing.collectingAmount');
    expect(snap.context.claimDate).toBe('2026-11-20');
  });

  it('an amount corrected before the date is known asks for the date', () => {
    const snap = walk([ack, { type: 'claim.field.corrected', field: 'amount', value: '600' }]);
    expect(claimViewOf(snap).path).toBe('ongoing.collectingDate');
    expect(snap.context.claimAmount).toBe(600);
  });

  it('a refused correction stays put and says why', () => {
    const snap = walk([ack, { type: 'claim.field.corrected', field: 'date', value: '2026-02-30' }]);
    expect(claimViewOf(snap).path).toBe('ongoing.collectingDate');
    expect(snap.context.lastRejection?.reason).toMatch(/doesn't exist/);
  });
});

describe('a change request at the read-back asks for that field', () => {
  it.each([
    ['amount', 'ongoing.collectingAmount'],
    ['date', 'ongoing.collectingDate'],
  ] as const)('change of the %s goes to %s, keeping both values', (field, path) => {
    const snap = walk([ack, date, amount, { type: 'claim.field.change_requested', field }]);
    expect(claimViewOf(snap).path).toBe(path);
    expect(snap.context).toMatchObject({ claimDate: '2026-03-03', claimAmount: 1250 });
  });

  it('the new value then goes straight back to the read-back', () => {
    const snap = walk([
      ack,
      date,
      amount,
      { type: 'claim.field.change_requested', field: 'amount' },
      { type: 'claim.amount.provided', amount: 1500 },
    ]);
    expect(claimViewOf(snap).path).toBe('ongoing.verifying');
    expect(snap.context.claimAmount).toBe(1500);
  });

  it('is offered only at the read-back', () => {
    expect(claimViewOf(walk([ack])).acceptedEvents).not.toContain('claim.field.change_requested');
    expect(claimViewOf(walk([ack, date, amount])).acceptedEvents).toContain('claim.field.change_requested');
  });
});

describe('every state’s meta answers "why?" and a stall', () => {
  type Node = { meta?: unknown; states: Record<string, Node> };
  const all = (n: Node): Node[] => [n, ...Object.values(n.states).flatMap(all)];
  const metas = all(claimMachine.root as unknown as Node)
    .map((n) => n.meta as ClaimStateMeta | undefined)
    .filter((m): m is ClaimStateMeta => m !== undefined);

  it('covers every state with a meta', () => {
    expect(metas.length).toBeGreaterThanOrEqual(5);
  });

  it.each(metas.map((m) => [m.label, m] as const))(
    '%s has a one-line reason and a patient answer',
    (_, m) => {
      expect(m.why).toMatch(/^[A-Z].{20,160}\.$/);
      expect(m.why).not.toMatch(/\.\s+\S/); // one sentence
      expect(m.stall.length).toBeGreaterThan(20);
    },
  );
});
