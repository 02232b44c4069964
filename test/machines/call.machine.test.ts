import { createActor, fromCallback, fromPromise, SimulatedClock } from 'xstate';
import { callMachine, type CallEvent, type RespondInput } from '../../machines/call/call.machine.js';

function setup() {
  const respondInputs: RespondInput[] = [];
  const stopped: number[] = [];
  const interrupts: number[] = [];
  const hangUps: string[] = [];
  const clock = new SimulatedClock();
  const machine = callMachine.provide({
    actors: {
      respond: fromCallback<CallEvent, RespondInput>(({ input }) => {
        respondInputs.push(input);
        return () => stopped.push(input.turn);
      }),
      hangUp: fromPromise<void, { reason: string }>(async ({ input }) => {
        hangUps.push(input.reason);
      }),
    },
    actions: { interruptPlayback: () => interrupts.push(Date.now()) },
  });
  const actor = createActor(machine, {
    clock,
    input: {
      conversationId: 'c1',
      channel: 'terminal',
      claim: { claimId: 'CLM-1000-0006', today: '2026-11-24' },
    },
  }).start();
  actor.send({ type: 'call.started', callSid: 'CA1', from: '+15551234567' });
  const state = () => JSON.stringify(actor.getSnapshot().value);
  const turn = () => actor.getSnapshot().context.turn;
  /** The bot starts speaking its current turn, as the real respond actor would. */
  const botSays = () => actor.send({ type: 'bot.speech.started', turn: turn() });
  const botDone = (outcome: 'accepted' | 'rejected' | 'none' = 'none') =>
    actor.send({ type: 'bot.turn.completed', turn: turn(), outcome });
  /** The dialogue applies a claim event (the turn policy follows the claim's state). */
  const claim = (event: { type: 'claim.number.acknowledged' }) => actor.system.get('claim')!.send(event);
  return { actor, clock, respondInputs, stopped, interrupts, hangUps, state, turn, botSays, botDone, claim };
}

describe('call machine', () => {
  it('greets first, then listens once the greeting has played', () => {
    const t = setup();
    expect(t.state()).toBe('{"active":{"responding":"thinking"}}');
    expect(t.respondInputs[0]).toMatchObject({ turn: 1, reason: 'greeting' });
    t.botSays();
    expect(t.state()).toBe('{"active":{"responding":"speaking"}}');
    t.botDone();
    expect(t.state()).toBe('{"active":"listening"}');
  });

  it('answers a final transcript after the end of the caller turn', () => {
    const t = setup();
    t.botSays();
    t.botDone();
    t.actor.send({ type: 'user.speech.started' });
    t.actor.send({ type: 'stt.transcript.final', text: 'March third', speechFinal: true });
    expect(t.state()).toBe('{"active":{"responding":"thinking"}}');
    expect(t.respondInputs[1]).toMatchObject({ turn: 2, reason: 'user', userText: 'March third' });
  });

  it('waits for the state’s endpointing patience before answering', () => {
    const t = setup();
    t.claim({ type: 'claim.number.acknowledged' }); // collecting the date: 400 ms of patience
    t.botSays();
    t.botDone();
    t.actor.send({ type: 'stt.transcript.final', text: 'it was March', speechFinal: true });
    expect(t.state()).toBe('{"active":{"endOfTurn":"preparing"}}');
    t.actor.send({ type: 'stt.transcript.partial', text: 'third' });
    expect(t.state()).toBe('{"active":{"userSpeaking":"talking"}}');
    t.actor.send({ type: 'stt.transcript.final', text: 'third', speechFinal: true });
    t.clock.increment(400);
    expect(t.respondInputs[1]).toMatchObject({ userText: 'it was March third' });
  });

  it('lets the caller barge in: clears playback, stops the turn, counts the interruption', () => {
    const t = setup();
    t.claim({ type: 'claim.number.acknowledged' }); // an interruptible state
    t.botSays();
    t.botDone();
    t.actor.send({ type: 'user.text.received', text: 'hi' });
    t.botSays();
    t.actor.send({ type: 'stt.transcript.partial', text: 'wait, no' });
    expect(t.state()).toBe('{"active":{"interrupted":"window"}}');
    expect(t.interrupts).toHaveLength(1);
    expect(t.stopped).toContain(2);
    expect(t.actor.getSnapshot().context.interruptions).toBe(1);
  });

  it('ignores backchannels while the bot speaks', () => {
    const t = setup();
    t.claim({ type: 'claim.number.acknowledged' });
    t.botSays();
    t.actor.send({ type: 'stt.transcript.partial', text: 'mm-hmm' });
    t.actor.send({ type: 'stt.transcript.final', text: 'okay', speechFinal: true });
    expect(t.state()).toBe('{"active":{"responding":"speaking"}}');
    expect(t.interrupts).toHaveLength(0);
  });

  it('does not let a caller cut off an uninterruptible read-out, but answers what they said after it', () => {
    const t = setup(); // reading out the claim number: not interruptible
    t.botSays();
    t.actor.send({ type: 'stt.transcript.final', text: 'got it thanks', speechFinal: true });
    expect(t.state()).toBe('{"active":{"responding":"speaking"}}');
    t.botDone();
    expect(t.respondInputs[1]).toMatchObject({ turn: 2, userText: 'got it thanks' });
  });

  it('re-prompts an idle caller, then says goodbye and hangs up', async () => {
    const t = setup();
    t.botSays();
    t.botDone();
    t.clock.increment(8000);
    expect(t.respondInputs[1]).toMatchObject({ reason: 'reprompt' });
    t.botDone();
    t.clock.increment(8000);
    expect(t.respondInputs[2]).toMatchObject({ reason: 'reprompt' });
    t.botDone();
    t.clock.increment(8000);
    expect(t.respondInputs[3]).toMatchObject({ reason: 'goodbye' });
    t.botDone();
    await new Promise((r) => setTimeout(r, 0));
    expect(t.hangUps).toEqual(['idle']);
    expect(t.actor.getSnapshot().status).toBe('done');
  });

  it('answers a keypad entry: a lone 1, or digits ended by #', () => {
    const t = setup();
    t.botSays();
    t.botDone();
    t.actor.send({ type: 'dtmf.received', digit: '1' });
    expect(t.respondInputs[1]).toMatchObject({ reason: 'dtmf', dtmf: '1' });
    t.claim({ type: 'claim.number.acknowledged' }); // what the real respond actor applies for the 1
    t.botDone();
    for (const d of '03032026#') t.actor.send({ type: 'dtmf.received', digit: d });
    expect(t.respondInputs[2]).toMatchObject({ reason: 'dtmf', dtmf: '03032026' });
  });

  it('forces a recovery turn when the bot thinks too long', () => {
    const t = setup();
    t.clock.increment(12_000);
    expect(t.respondInputs[1]).toMatchObject({ reason: 'recover' });
  });

  it('ends when the caller hangs up', () => {
    const t = setup();
    t.actor.send({ type: 'call.stopped', reason: 'caller_hung_up' });
    expect(t.actor.getSnapshot().status).toBe('done');
    expect(t.actor.getSnapshot().context.endReason).toBe('caller_hung_up');
  });
});
