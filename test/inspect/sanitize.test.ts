/**
 * What the Stately inspector may see of a call: the flow (event types, state values, flags), never
 * the caller's personal data (phone numbers, claim values, their words, keypad digits).
 */
import { createActor } from 'xstate';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import {
  REDACTED,
  redactCallData,
  sanitizeEvent,
  sanitizeInspectorContext,
  sanitizeInspectorEvent,
  sanitizeInspectorSnapshot,
} from '../../src/inspect/sanitize.js';

const PHONE = '+14155550123';

describe('inspector sanitizers', () => {
  it('masks phone numbers to their last four digits and hides custom parameters', () => {
    const e = sanitizeInspectorEvent({
      type: 'call.started',
      callSid: 'CA123',
      from: PHONE,
      to: '+1 (212) 555-0199',
      customParameters: { account: '998877', note: 'vip' },
    });
    expect(e).toEqual({
      type: 'call.started',
      callSid: 'CA123',
      from: '…0123',
      to: '…0199',
      customParameters: { account: REDACTED, note: REDACTED },
    });
  });

  it('redacts claim values in the claim events the dialogue sends', () => {
    expect(sanitizeInspectorEvent({ type: 'claim.date.provided', date: '2026-03-03' })).toEqual({
      type: 'claim.date.provided',
      date: REDACTED,
    });
    expect(sanitizeInspectorEvent({ type: 'claim.amount.provided', amount: 1250 })).toEqual({
      type: 'claim.amount.provided',
      amount: REDACTED,
    });
    expect(sanitizeInspectorEvent({ type: 'claim.field.corrected', field: 'amount', value: '900' })).toEqual({
      type: 'claim.field.corrected',
      field: 'amount',
      value: REDACTED,
    });
  });

  it("replaces the caller's words with their length and hides keypad digits but not # and *", () => {
    expect(
      sanitizeInspectorEvent({ type: 'stt.transcript.final', text: 'twelve hundred', speechFinal: true }),
    ).toEqual({ type: 'stt.transcript.final', text: '[redacted: 14 chars]', speechFinal: true });
    expect(sanitizeInspectorEvent({ type: 'dtmf.received', digit: '7' })).toEqual({
      type: 'dtmf.received',
      digit: '•',
    });
    expect(redactCallData({ dtmfBuffer: '0303*2026#' })).toEqual({ dtmfBuffer: '••••*••••#' });
  });

  it('redacts a claim context but keeps its flags, counters and the reference date', () => {
    const actor = createActor(claimMachine, { input: { claimId: 'CLM-4821-0937', today: '2026-11-24' } });
    actor.start();
    actor.send({ type: 'claim.number.acknowledged' });
    actor.send({ type: 'claim.date.provided', date: '2030-01-01' }); // refused: in the future
    actor.send({ type: 'claim.date.provided', date: '2026-03-03' });
    actor.send({ type: 'claim.amount.provided', amount: 1250 });
    const snap = actor.getSnapshot();
    const ctx = sanitizeInspectorContext(snap.context) as unknown as Record<string, unknown>;
    actor.stop();
    expect(ctx).toMatchObject({
      claimId: '…0937',
      claimDate: REDACTED,
      claimAmount: REDACTED,
      claimStatus: 'Open',
      numberAcknowledged: true,
      today: '2026-11-24',
    });
    const json = JSON.stringify(ctx);
    expect(json).not.toContain('2026-03-03');
    expect(json).not.toContain('1250');
    expect(json).not.toContain('4821');
  });

  it('redacts the value and the reason of a refused field, which repeats the value', () => {
    const ctx = sanitizeInspectorContext({
      lastRejection: {
        eventType: 'claim.date.provided',
        field: 'date',
        value: '2030-01-01',
        reason: '2030-01-01 is in the future',
      },
      endReason: 'caller_hung_up',
    });
    expect(ctx).toEqual({
      lastRejection: {
        eventType: 'claim.date.provided',
        field: 'date',
        value: REDACTED,
        reason: '[redacted: 27 chars]',
      },
      endReason: 'caller_hung_up',
    });
  });

  it("keeps a snapshot's state value and status while redacting its context, input and output", () => {
    const out = sanitizeInspectorSnapshot({
      status: 'done',
      value: { ongoing: 'verifying' },
      context: { claimAmount: 900, turn: 3 },
      input: { turn: 3, userText: 'nine hundred', dtmf: '900#' },
      output: { claimDate: '2026-03-03', claimStatus: 'Pending' },
      error: new Error('caller said 555-0123'),
      tags: new Set(['busy']),
      children: { claim: { id: 'claim', send: () => {} } },
      machine: { config: {} },
    });
    expect(out).toEqual({
      status: 'done',
      value: { ongoing: 'verifying' },
      context: { claimAmount: REDACTED, turn: 3 },
      input: { turn: 3, userText: '[redacted: 12 chars]', dtmf: '•••#' },
      output: { claimDate: REDACTED, claimStatus: 'Pending' },
      error: { message: '[redacted: 20 chars]' },
      tags: ['busy'],
      children: { claim: { xstate$$type: 1, id: 'claim' } },
    });
  });

  it('is idempotent and leaves its input untouched', () => {
    const input = { type: 'call.started', from: PHONE, text: 'hello there', amount: 5 };
    const once = sanitizeInspectorEvent(input);
    expect(sanitizeInspectorEvent(once)).toEqual(once);
    expect(input).toEqual({ type: 'call.started', from: PHONE, text: 'hello there', amount: 5 });
  });

  it('leaves the replay log sanitizer as it was: claim values stay so QA can replay calls', () => {
    expect(sanitizeEvent({ type: 'claim.amount.provided', amount: 1250 })).toEqual({
      type: 'claim.amount.provided',
      amount: 1250,
    });
  });
});
