/**
 * Transfer to a person, as the call machine decides it (pure `transition()`, effects as data): a
 * request from the dialogue, the keypad's 0, or too many misunderstood turns; the announcement,
 * then the redirect; no transfer number; a failed or stuck redirect.
 */
import { initialTransition, transition } from 'xstate';
import {
  callMachine,
  type CallInput,
  type CallNotice,
  type RespondInput,
  type TurnOutcome,
} from '../../machines/call/call.machine.js';
import { keypadAsksForPerson, transferWhisperText } from '../../machines/call/transfer.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { step, type CallStep as Step } from '../support/call-steps.js';

const baseInput: CallInput = {
  conversationId: 'c1',
  channel: 'phone',
  claim: { claimId: 'CLM-1000-0006', today: '2026-11-24' },
  transfer: { available: true, afterMisunderstandings: 3 },
};

/** The greeting has played: the machine listens. */
function listening(input: Partial<CallInput> = {}): Step {
  const [snap] = initialTransition(callMachine, { ...baseInput, ...input });
  const s = step(snap, { type: 'call.started', callSid: 'CA1' });
  return completed(s);
}

const value = (s: Step) => JSON.stringify(s.snap.value);
const turn = (s: Step) => s.snap.context.turn;
const spawned = (s: Step, id: string) =>
  s.actions.find((a) => a.type === 'xstate.spawnChild' && a.params?.id === id)?.params?.input;
const respondInput = (s: Step) => spawned(s, 'respond') as RespondInput | undefined;
const hangUpInput = (s: Step) =>
  s.actions.find((a) => a.type === 'xstate.spawnChild' && a.params?.src === 'hangUp')?.params?.input;
const emitted = (s: Step): CallNotice[] =>
  s.actions.filter((a) => a.type === 'xstate.emit').map((a) => a.params?.event as CallNotice);
const timerOf = (s: Step, delay: string) =>
  s.actions
    .filter((a) => a.type === 'xstate.raise' && a.params?.delay !== undefined)
    .map((a) => (a.params!.event as { type: string }).type)
    .find((t) => t.startsWith(`xstate.after.${delay}.`));
const completed = (s: Step, outcome: TurnOutcome = 'none') =>
  step(s.snap, { type: 'bot.turn.completed', turn: turn(s), outcome });
const callerSays = (s: Step, text: string) => step(s.snap, { type: 'user.text.received', text });
const asksForPerson = (s: Step) => step(s.snap, { type: 'caller.transfer.requested', turn: turn(s) });
const press = (s: Step, digits: string) =>
  [...digits].reduce((acc, digit) => step(acc.snap, { type: 'dtmf.received', digit }), s);

describe('call machine: transfer to a person', () => {
  it('announces the transfer when the caller asks for a person, then redirects once it has played', () => {
    let s = callerSays(listening(), 'can I talk to a real person');
    s = asksForPerson(s);
    expect(value(s)).toBe('{"active":{"transferring":"announcing"}}');
    expect(respondInput(s)).toMatchObject({ reason: 'transfer', dialogue: 'fallback', keypadOffer: null });
    expect(emitted(s)).toContainEqual({
      type: 'transfer.requested',
      turn: turn(s),
      cause: 'caller',
      available: true,
    });
    // The caller's words and keys while the bot announces it change nothing.
    s = press(callerSays(s, 'hello?'), '1');
    expect(value(s)).toBe('{"active":{"transferring":"announcing"}}');
    s = completed(s);
    expect(value(s)).toBe('{"active":{"transferring":"redirecting"}}');
    expect(spawned(s, 'transfer')).toEqual({ cause: 'caller' });
    expect(s.snap.context.endReason).toBe('transferred');
    s = step(s.snap, { type: 'xstate.done.actor.transfer', output: undefined });
    expect(value(s)).toBe('"ending"');
    expect(hangUpInput(s)).toEqual({ reason: 'transferred' });
  });

  it('keeps `transferred` when the carrier stops the stream before the redirect answered', () => {
    let s = completed(asksForPerson(callerSays(listening(), 'operator')));
    s = step(s.snap, { type: 'call.stopped', reason: 'caller_hung_up' });
    expect(value(s)).toBe('"ended"');
    expect(s.snap.context.endReason).toBe('transferred');
  });

  it('says transfers are not available and goes on with the claim when the line cannot transfer', () => {
    let s = callerSays(listening({ transfer: { available: false } }), 'agent please');
    s = asksForPerson(s);
    expect(value(s)).toBe('{"active":{"responding":"thinking"}}');
    expect(respondInput(s)).toMatchObject({ reason: 'transferUnavailable' });
    expect(emitted(s)).toContainEqual({
      type: 'transfer.requested',
      turn: turn(s) - 1,
      cause: 'caller',
      available: false,
    });
    s = completed(s);
    expect(value(s)).toBe('{"active":"listening"}');
    expect(s.snap.context.endReason).toBeNull();
  });

  it('ignores a transfer request from a turn that is no longer current', () => {
    let s = callerSays(listening(), 'a person');
    s = step(s.snap, { type: 'caller.transfer.requested', turn: turn(s) - 1 });
    expect(value(s)).toBe('{"active":{"responding":"thinking"}}');
  });

  describe('the keypad', () => {
    it('transfers on 0 where the keypad takes answers (1 = yes, 2 = no), even while the bot speaks', () => {
      const s = press(listening(), '0');
      expect(value(s)).toBe('{"active":{"transferring":"announcing"}}');
      expect(s.snap.context.transferCause).toBe('keypad');
      const speaking = press(callerSays(listening(), 'hmm'), '0');
      expect(value(speaking)).toBe('{"active":{"transferring":"announcing"}}');
      expect(speaking.actions.map((a) => a.type)).toContain('interruptPlayback');
    });

    it('takes 0 as a digit of a date or an amount, and 0# as the request for a person there', () => {
      let s = listening();
      const [claimAck] = transition(claimMachine, initialTransition(claimMachine, baseInput.claim)[0], {
        type: 'claim.number.acknowledged',
      });
      // The claim now collects the date: the keypad enters values.
      s = step(s.snap, { type: 'xstate.snapshot.claim', snapshot: claimAck });
      expect(s.snap.context.turnPolicy.keypad).toBe('entry');
      const date = press(s, '0303');
      expect(value(date)).toBe('{"active":"listening"}');
      expect(date.snap.context.dtmfBuffer).toBe('0303');
      const person = press(s, '0#');
      expect(value(person)).toBe('{"active":{"transferring":"announcing"}}');
    });

    it('says transfers are not available on 0 when the line cannot transfer', () => {
      const s = press(listening({ transfer: { available: false } }), '0');
      expect(respondInput(s)).toMatchObject({ reason: 'transferUnavailable' });
      expect(emitted(s)).toContainEqual(expect.objectContaining({ cause: 'keypad', available: false }));
    });

    it('decides which digits ask for a person', () => {
      expect(keypadAsksForPerson('', '0', 'answer')).toBe(true);
      expect(keypadAsksForPerson('', '0', 'entry')).toBe(false);
      expect(keypadAsksForPerson('0', '#', 'entry')).toBe(true);
      expect(keypadAsksForPerson('10', '#', 'entry')).toBe(false);
      expect(keypadAsksForPerson('1', '0', 'answer')).toBe(false);
    });
  });

  describe('misunderstood turns', () => {
    it('transfers after the configured number of misunderstood turns in a row', () => {
      let s = listening();
      s = completed(callerSays(s, 'blah'));
      s = completed(callerSays(s, 'blah blah'));
      expect(value(s)).toBe('{"active":"listening"}');
      s = completed(callerSays(s, 'blah blah blah'));
      expect(value(s)).toBe('{"active":{"transferring":"announcing"}}');
      expect(s.snap.context).toMatchObject({ transferCause: 'misunderstood', misunderstandings: 0 });
      expect(emitted(s)).toContainEqual(expect.objectContaining({ cause: 'misunderstood', available: true }));
    });

    it('never transfers by itself with a threshold of 0, nor without a transfer number', () => {
      for (const transfer of [{ available: true, afterMisunderstandings: 0 }, { available: false }]) {
        let s = listening({ transfer });
        for (let i = 0; i < 5; i++) s = completed(callerSays(s, 'blah'));
        expect(value(s)).toBe('{"active":"listening"}');
        expect(s.snap.context.misunderstandings).toBe(5);
      }
    });
  });

  describe('a redirect that does not work', () => {
    const redirecting = () => completed(asksForPerson(callerSays(listening(), 'a human please')));

    it('apologises and goes on with the claim when the carrier refuses, and offers no second try', () => {
      let s = step(redirecting().snap, { type: 'xstate.error.actor.transfer', error: new Error('404') });
      expect(value(s)).toBe('{"active":{"responding":"thinking"}}');
      expect(respondInput(s)).toMatchObject({ reason: 'transferFailed' });
      expect(s.snap.context).toMatchObject({ endReason: null, transfer: { available: false } });
      s = asksForPerson(callerSays(completed(s), 'agent'));
      expect(respondInput(s)).toMatchObject({ reason: 'transferUnavailable' });
    });

    it('gives up on a redirect that takes longer than the transfer timeout', () => {
      const r = redirecting();
      const timer = timerOf(r, 'transferTimeout');
      expect(timer).toBeDefined();
      const s = step(r.snap, { type: timer! });
      expect(respondInput(s)).toMatchObject({ reason: 'transferFailed' });
    });

    it('redirects even if the announcement never finishes playing (watchdog)', () => {
      const announcing = asksForPerson(callerSays(listening(), 'representative'));
      const s = step(announcing.snap, { type: timerOf(announcing, 'thinkingWatchdog')! });
      expect(value(s)).toBe('{"active":{"transferring":"redirecting"}}');
    });
  });

  it('tells the agent the claim as it stands in the whisper', () => {
    expect(
      transferWhisperText({
        claim: { claimId: 'CLM-4821-0937', claimDate: '2026-03-03', claimAmount: null },
        cause: 'caller',
        companyName: 'Acme Insurance',
      }),
    ).toBe(
      'Claims call transferred by the Acme Insurance assistant. The caller asked to speak to a person. ' +
        'Claim number C. L. M. 4 8 2 1, 0 9 3 7. Date of the incident: March 3, 2026. Still missing: the amount.',
    );
    expect(
      transferWhisperText({
        claim: { claimId: 'CLM-4821-0937', claimDate: '2026-03-03', claimAmount: 1250.5 },
        cause: 'misunderstood',
        companyName: 'Acme Insurance',
      }),
    ).toContain('Amount claimed: $1,250.50. Date and amount are collected but not yet confirmed');
    expect(transferWhisperText({ claim: null, cause: null, companyName: 'Acme' })).toBe(
      'Claims call transferred by the Acme assistant. No claim details were found for this call.',
    );
  });
});
