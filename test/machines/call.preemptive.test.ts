/**
 * Preemptive generation in the call machine, with pure transitions: while `endOfTurn` waits the
 * claim state's patience, the `prepare` actor gets exactly the input the caller's turn will get; the
 * turn takes the prepared reply over (`RespondInput.prepared`) only when the patience ends with
 * nothing more said; every other way out of `endOfTurn` stops `prepare` and starts a fresh turn.
 */
import { initialTransition, transition } from 'xstate';
import {
  callMachine,
  type CallEvent,
  type CallInput,
  type RespondInput,
} from '../../machines/call/call.machine.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { step, type CallStep } from '../support/call-steps.js';

type Step = CallStep;

const CLAIM = { claimId: 'CLM-1000-0006', today: '2026-11-24' };

const next = step;

/** The greeting answered and the claim number acknowledged: the bot listens for the date. */
function listeningForDate(over: Partial<CallInput> = {}): Step {
  const [snap] = initialTransition(callMachine, {
    conversationId: 'c1',
    channel: 'terminal',
    claim: CLAIM,
    ...over,
  });
  let s = next(snap, { type: 'call.started' });
  s = next(s.snap, { type: 'bot.turn.completed', turn: s.snap.context.turn, outcome: 'none' });
  let [claim] = initialTransition(claimMachine, CLAIM);
  [claim] = transition(claimMachine, claim, { type: 'claim.number.acknowledged' });
  return next(s.snap, { type: 'xstate.snapshot.claim', snapshot: claim });
}

const spawned = (s: Step, id: string): RespondInput | undefined =>
  s.actions.find((a) => a.type === 'xstate.spawnChild' && a.params?.id === id)?.params?.input as
    RespondInput | undefined;
const stopped = (s: Step, id: string) =>
  s.actions.some((a) => {
    if (a.type !== 'xstate.stopChild') return false;
    const child = a.params?.child as { id?: string } | undefined;
    return a.params?.id === id || child?.id === id;
  });
const value = (s: Step) => JSON.stringify(s.snap.value);
const final = (s: Step, text: string) =>
  next(s.snap, { type: 'stt.transcript.final', text, speechFinal: true });
/** Fires the endpointing patience the machine scheduled in `scheduled`, from `s`. */
function patienceEnds(scheduled: Step, s: Step = scheduled): Step {
  const timer = scheduled.actions.find(
    (a) =>
      a.type === 'xstate.raise' &&
      String((a.params?.event as { type: string }).type).includes('endpointingPatience'),
  );
  if (!timer) throw new Error('no endpointingPatience timer scheduled');
  return next(s.snap, timer.params!.event as CallEvent);
}
const withoutFlag = ({ prepared: _p, ...rest }: RespondInput) => rest;
const speaks = (s: Step) => next(s.snap, { type: 'user.speech.started' });
const silent = (s: Step) => next(s.snap, { type: 'user.speech.stopped', durationMs: 900 });
/** A segment Deepgram flushed without `speech_final` (the STT has not ended the turn). */
const segment = (s: Step, text: string) =>
  next(s.snap, { type: 'stt.transcript.final', text, speechFinal: false });
const interim = (s: Step, text: string) => next(s.snap, { type: 'stt.transcript.partial', text });

describe('preemptive generation in the call machine', () => {
  it('prepares the reply to an unfinished answer while the patience runs, and takes it over when the patience ends', () => {
    const waiting = final(listeningForDate(), 'it was on March');
    expect(value(waiting)).toBe('{"active":{"endOfTurn":"preparing"}}');
    const prepared = spawned(waiting, 'prepare');
    expect(prepared).toMatchObject({
      reason: 'user',
      userText: 'it was on March',
      prepared: false,
      dtmf: null,
    });
    expect(prepared!.turn).toBe(waiting.snap.context.turn + 1);
    expect(spawned(waiting, 'respond')).toBeUndefined();

    const committed = patienceEnds(waiting);
    expect(value(committed)).toBe('{"active":{"responding":"thinking"}}');
    expect(stopped(committed, 'prepare')).toBe(true);
    const turn = spawned(committed, 'respond')!;
    expect(turn.prepared).toBe(true);
    // Exactly the input that was prepared: the session can take the held reply over as it is.
    expect(withoutFlag(turn)).toEqual(withoutFlag(prepared!));
    expect(committed.snap.context).toMatchObject({ turnPrepared: true, takePrepared: false });
  });

  it('stops the preparation when the caller goes on, and answers the whole utterance with a fresh turn', () => {
    const waiting = final(listeningForDate(), 'it was on March');
    const goesOn = next(waiting.snap, { type: 'user.speech.started' });
    expect(value(goesOn)).toBe('{"active":{"userSpeaking":"talking"}}');
    expect(stopped(goesOn, 'prepare')).toBe(true);
    const answered = final(goesOn, 'the third');
    const turn = spawned(answered, 'respond')!;
    expect(turn).toMatchObject({ userText: 'it was on March the third', prepared: false });
    // endOfTurn is left in the same macrostep it was entered: its `prepare` never starts.
    expect(stopped(answered, 'prepare')).toBe(true);
  });

  it('stops the preparation when a partial transcript shows the caller went on', () => {
    const waiting = final(listeningForDate(), 'it was on March');
    const goesOn = next(waiting.snap, { type: 'stt.transcript.partial', text: 'the' });
    expect(value(goesOn)).toBe('{"active":{"userSpeaking":"talking"}}');
    expect(stopped(goesOn, 'prepare')).toBe(true);
  });

  it('answers a final that completes the answer at once with a fresh turn, never the shorter prepared one', () => {
    const waiting = final(listeningForDate(), 'it was on March');
    const done = final(waiting, 'third');
    expect(stopped(done, 'prepare')).toBe(true);
    expect(spawned(done, 'respond')).toMatchObject({ userText: 'it was on March third', prepared: false });
  });

  it('prepares again for the longer text when more unfinished words arrive, without restarting the patience', () => {
    const waiting = final(listeningForDate(), 'it was on');
    const more = final(waiting, 'the');
    expect(value(more)).toBe('{"active":{"endOfTurn":"preparing"}}');
    expect(stopped(more, 'prepare')).toBe(true);
    expect(spawned(more, 'prepare')).toMatchObject({ userText: 'it was on the', prepared: false });
    expect(more.actions.some((a) => a.type === 'xstate.raise')).toBe(false); // the same patience runs on
    const committed = patienceEnds(waiting, more);
    expect(spawned(committed, 'respond')).toMatchObject({ userText: 'it was on the', prepared: true });
  });

  it('prepares nothing for an answer that is complete at once', () => {
    const s = final(listeningForDate(), 'March 3rd');
    expect(value(s)).toBe('{"active":{"responding":"thinking"}}');
    expect(spawned(s, 'respond')).toMatchObject({ userText: 'March 3rd', prepared: false });
    expect(stopped(s, 'prepare')).toBe(true); // created and stopped within the macrostep: never started
  });

  it('waits the patience with nothing prepared when preemptive generation is off', () => {
    const waiting = final(listeningForDate({ preemptive: false }), 'it was on March');
    expect(value(waiting)).toBe('{"active":{"endOfTurn":"unprepared"}}');
    expect(spawned(patienceEnds(waiting), 'respond')).toMatchObject({
      userText: 'it was on March',
      prepared: false,
    });
  });

  it('starts a fresh turn after the patience when the preparation failed', () => {
    const waiting = final(listeningForDate(), 'it was on March');
    const failed = next(waiting.snap, { type: 'xstate.error.actor.prepare', error: new Error('boom') });
    expect(value(failed)).toBe('{"active":{"endOfTurn":"unprepared"}}');
    expect(spawned(patienceEnds(waiting, failed), 'respond')).toMatchObject({ prepared: false });
  });

  it('starts a fresh turn for a typed turn that arrives during the patience', () => {
    const waiting = final(listeningForDate(), 'it was on March');
    const typed = next(waiting.snap, { type: 'user.text.received', text: 'the third' });
    expect(stopped(typed, 'prepare')).toBe(true);
    expect(spawned(typed, 'respond')).toMatchObject({
      userText: 'it was on March the third',
      prepared: false,
    });
  });
});

describe('preemptive generation on VAD silence (before the STT ends the turn)', () => {
  const SILENT_PREPARING = '{"active":{"userSpeaking":{"awaitingTranscript":"preparingOnSilence"}}}';

  it('prepares on silence for the finals in hand, and the utterance end takes the reply over', () => {
    const s = silent(segment(speaks(listeningForDate()), 'March 3rd'));
    expect(value(s)).toBe(SILENT_PREPARING);
    const prepared = spawned(s, 'prepare')!;
    expect(prepared).toMatchObject({ reason: 'user', userText: 'March 3rd', prepared: false });
    expect(spawned(s, 'respond')).toBeUndefined();

    const ended = next(s.snap, { type: 'stt.utterance.ended' });
    expect(value(ended)).toBe('{"active":{"responding":"thinking"}}');
    const turn = spawned(ended, 'respond')!;
    expect(turn.prepared).toBe(true);
    expect(withoutFlag(turn)).toEqual(withoutFlag(prepared));
  });

  it('prepares on silence for a stable interim, taken over when the final says the same words', () => {
    const s = silent(interim(speaks(listeningForDate()), 'March 3rd'));
    expect(value(s)).toBe(SILENT_PREPARING);
    const prepared = spawned(s, 'prepare')!;
    expect(prepared.userText).toBe('March 3rd');
    const answered = final(s, 'March 3rd');
    const turn = spawned(answered, 'respond')!;
    expect(turn).toMatchObject({ userText: 'March 3rd', prepared: true });
    expect(withoutFlag(turn)).toEqual(withoutFlag(prepared));
  });

  it('answers with a fresh turn when the final says other words than the interim', () => {
    const s = silent(interim(speaks(listeningForDate()), 'March 3'));
    const answered = final(s, 'March 3rd');
    expect(spawned(answered, 'respond')).toMatchObject({ userText: 'March 3rd', prepared: false });
    expect(stopped(answered, 'prepare')).toBe(true);
  });

  it('drops the preparation when new words show up, and answers them all with a fresh turn', () => {
    const s = silent(segment(speaks(listeningForDate()), 'March'));
    const more = interim(s, 'third');
    expect(value(more)).toBe('{"active":{"userSpeaking":{"awaitingTranscript":"waiting"}}}');
    expect(stopped(more, 'prepare')).toBe(true);
    const answered = final(more, 'third');
    expect(spawned(answered, 'respond')).toMatchObject({ userText: 'March third', prepared: false });
  });

  it('drops the preparation when the caller speaks again', () => {
    const s = silent(segment(speaks(listeningForDate()), 'March 3rd'));
    const again = speaks(s);
    expect(value(again)).toBe('{"active":{"userSpeaking":"talking"}}');
    expect(stopped(again, 'prepare')).toBe(true);
    const answered = final(silent(again), 'and twelve hundred dollars');
    expect(spawned(answered, 'respond')).toMatchObject({
      userText: 'March 3rd and twelve hundred dollars',
      prepared: false,
    });
  });

  it('carries the same preparation into the patience of an unfinished answer, taken over when it ends', () => {
    const s = silent(segment(speaks(listeningForDate()), 'it was on March'));
    const prepared = spawned(s, 'prepare')!;
    const ended = next(s.snap, { type: 'stt.utterance.ended' });
    expect(value(ended)).toBe('{"active":{"endOfTurn":"preparing"}}');
    // The patience's `prepare` asks for the very same turn: the session lets the held reply go on.
    expect(withoutFlag(spawned(ended, 'prepare')!)).toEqual(withoutFlag(prepared));
    const turn = spawned(patienceEnds(ended), 'respond')!;
    expect(turn).toMatchObject({ userText: 'it was on March', prepared: true });
  });

  it('prepares nothing on silence when preemptive generation is off, or before any words', () => {
    const off = silent(segment(speaks(listeningForDate({ preemptive: false })), 'March 3rd'));
    expect(value(off)).toBe('{"active":{"userSpeaking":{"awaitingTranscript":"waiting"}}}');
    expect(spawned(off, 'prepare')).toBeUndefined();
    const noWords = silent(speaks(listeningForDate()));
    expect(value(noWords)).toBe('{"active":{"userSpeaking":{"awaitingTranscript":"waiting"}}}');
  });
});

describe('preemptive generation on VAD silence: the segment flushed after the silence', () => {
  it('prepares again for the flushed final when it says more than the interim did', () => {
    const s = silent(interim(speaks(listeningForDate()), 'March'));
    expect(spawned(s, 'prepare')!.userText).toBe('March');
    const flushed = segment(s, 'March third');
    expect(value(flushed)).toBe('{"active":{"userSpeaking":{"awaitingTranscript":"preparingOnSilence"}}}');
    expect(stopped(flushed, 'prepare')).toBe(true);
    const prepared = spawned(flushed, 'prepare')!;
    expect(prepared.userText).toBe('March third');
    const turn = spawned(next(flushed.snap, { type: 'stt.utterance.ended' }), 'respond')!;
    expect(turn).toMatchObject({ userText: 'March third', prepared: true });
    expect(withoutFlag(turn)).toEqual(withoutFlag(prepared));
  });

  it('asks for the same preparation when the flushed final says what the interim did', () => {
    const s = silent(interim(speaks(listeningForDate()), 'March third'));
    const flushed = segment(s, 'March third');
    // Same turn, same words: the session keeps the reply it holds (see the respond actor).
    expect(withoutFlag(spawned(flushed, 'prepare')!)).toEqual(withoutFlag(spawned(s, 'prepare')!));
    const turn = spawned(next(flushed.snap, { type: 'stt.utterance.ended' }), 'respond')!;
    expect(turn).toMatchObject({ userText: 'March third', prepared: true });
  });
});

describe('the endpointing patience and the VAD', () => {
  /** The caller said "it was on" and the STT ended the segment while the VAD still hears sound. */
  const pausedInside = () => final(speaks(listeningForDate()), 'it was on');
  const fire = (scheduled: Step, s: Step, name: string) => {
    const timer = scheduled.actions.find(
      (a) => a.type === 'xstate.raise' && String((a.params?.event as { type: string }).type).includes(name),
    );
    if (!timer) throw new Error(`no ${name} timer scheduled`);
    return next(s.snap, timer.params!.event as CallEvent);
  };

  it('does not answer when the patience ends while the VAD still hears the caller', () => {
    const waiting = pausedInside();
    const over = patienceEnds(waiting);
    expect(value(over)).toBe('{"active":{"endOfTurn":"preparing"}}');
    expect(spawned(over, 'respond')).toBeUndefined();
    // The caller had gone on: their next words end the wait; one turn answers them all.
    const more = interim(over, 'March third');
    expect(value(more)).toBe('{"active":{"userSpeaking":"talking"}}');
    const answered = final(more, 'March third');
    expect(spawned(answered, 'respond')).toMatchObject({
      userText: 'it was on March third',
      prepared: false,
    });
  });

  it('answers with the prepared reply once the VAD hears silence after the patience', () => {
    const waiting = pausedInside();
    const prepared = spawned(waiting, 'prepare')!;
    const turn = spawned(silent(patienceEnds(waiting)), 'respond')!;
    expect(turn).toMatchObject({ userText: 'it was on', prepared: true });
    expect(withoutFlag(turn)).toEqual(withoutFlag(prepared));
  });

  it('lets a silence heard during the patience count: the patience ending answers at once', () => {
    const waiting = pausedInside();
    const quiet = silent(waiting);
    expect(value(quiet)).toBe('{"active":{"endOfTurn":"preparing"}}');
    expect(spawned(patienceEnds(waiting, quiet), 'respond')).toMatchObject({ prepared: true });
  });

  it('answers anyway when the VAD never falls silent (steady noise)', () => {
    const waiting = pausedInside();
    const over = patienceEnds(waiting);
    const capped = fire(waiting, over, 'patienceSilenceCap');
    expect(spawned(capped, 'respond')).toMatchObject({ userText: 'it was on', prepared: true });
  });
});
