/**
 * The call machine's decisions, tested the xstate-core way: pure `initialTransition()` /
 * `transition()`, effects as data (spawned actors, emitted notices, delayed events), no actors and
 * no clock. A timer "fires" by sending the delayed event the machine scheduled.
 */
import { initialTransition, transition, type AnyStateNode } from 'xstate';
import {
  callMachine,
  DEFAULT_CALL_TIMINGS,
  KEYPAD_OFFER_AFTER,
  type CallNotice,
  type RespondInput,
  type TurnOutcome,
} from '../../machines/call/call.machine.js';
import { claimMachine } from '../../machines/claim/claim.machine.js';
import { step, type CallStep, type StepAction } from '../support/call-steps.js';
import { claimMetaOfPath, claimPathOfValue, turnPolicyOfMeta } from '../../machines/claim/claim.view.js';

type Step = CallStep;

const input = {
  conversationId: 'c1',
  channel: 'terminal' as const,
  claim: { claimId: 'CLM-1000-0006', today: '2026-11-24' },
};

/** Connected: the greeting turn is being produced. */
function connected(): Step {
  const [snap] = initialTransition(callMachine, input);
  return step(snap, { type: 'call.started' });
}

const value = (s: Step) => JSON.stringify(s.snap.value);
const turn = (s: Step) => s.snap.context.turn;
const respondInput = (s: Step): RespondInput | undefined =>
  s.actions.find((a) => a.type === 'xstate.spawnChild' && a.params?.id === 'respond')?.params
    ?.input as RespondInput;
const hangUpInput = (s: Step) =>
  s.actions.find((a) => a.type === 'xstate.spawnChild' && a.params?.src === 'hangUp')?.params?.input;
const emitted = (s: Step): CallNotice[] =>
  s.actions.filter((a) => a.type === 'xstate.emit').map((a) => a.params?.event as CallNotice);
const timers = (s: Step) =>
  s.actions
    .filter((a) => a.type === 'xstate.raise' && a.params?.delay !== undefined)
    .map((a) => ({ event: (a.params!.event as { type: string }).type, delay: a.params!.delay as number }));

/** Fires the timer named `delay` that the last step scheduled. */
function fire(s: Step, delay: string): Step {
  const t = timers(s).find((x) => x.event.startsWith(`xstate.after.${delay}.`));
  if (!t)
    throw new Error(
      `no ${delay} timer scheduled (have: ${timers(s)
        .map((x) => x.event)
        .join(', ')})`,
    );
  return step(s.snap, { type: t.event });
}

const completed = (s: Step, outcome: TurnOutcome = 'none') =>
  step(s.snap, { type: 'bot.turn.completed', turn: turn(s), outcome });
/** The caller types (or says) something and the bot starts answering it. */
const callerSays = (s: Step, text: string) => step(s.snap, { type: 'user.text.received', text });

/** A claim snapshot after some claim events (what the claim child would report). */
function claimSnapshot(events: Parameters<typeof transition<typeof claimMachine>>[2][]) {
  let [c] = initialTransition(claimMachine, input.claim);
  for (const e of events) [c] = transition(claimMachine, c, e);
  return c;
}

describe('call machine decisions (pure transitions)', () => {
  describe('keypad offer', () => {
    it(`offers the keypad once ${KEYPAD_OFFER_AFTER} caller turns in a row were not understood`, () => {
      let s = completed(connected());
      s = completed(callerSays(s, 'blah'), 'none');
      expect(s.snap.context.misunderstandings).toBe(1);
      s = callerSays(s, 'blah blah');
      expect(respondInput(s)?.keypadOffer).toBeNull();
      s = completed(s, 'none');
      expect(s.snap.context.misunderstandings).toBe(2);
      s = callerSays(s, 'still blah');
      expect(respondInput(s)).toMatchObject({ reason: 'user', keypadOffer: 'misunderstood' });
      expect(emitted(s)).toContainEqual({ type: 'keypad.offered', turn: turn(s), reason: 'misunderstood' });
    });

    it('counts an unheard turn, keeps the count on a refused value and resets it on an accepted one', () => {
      let s = completed(connected());
      s = step(s.snap, { type: 'user.speech.started' });
      s = step(s.snap, { type: 'user.speech.stopped', durationMs: 2000 });
      s = fire(s, 'transcriptWait');
      expect(respondInput(s)).toMatchObject({ reason: 'unheard' });
      s = completed(s);
      expect(s.snap.context.misunderstandings).toBe(1);
      s = completed(callerSays(s, 'the 40th of March'), 'rejected');
      expect(s.snap.context.misunderstandings).toBe(1);
      s = completed(callerSays(s, 'March 3rd'), 'accepted');
      expect(s.snap.context.misunderstandings).toBe(0);
    });

    it('offers the keypad on the first unheard utterance when the call has no speech-to-text', () => {
      const [start] = initialTransition(callMachine, { ...input, transcribes: false });
      let s = completed(step(start, { type: 'call.started' }));
      expect(s.snap.context.transcribes).toBe(false);
      s = step(s.snap, { type: 'user.speech.started' });
      s = step(s.snap, { type: 'user.speech.stopped', durationMs: 2000 });
      s = fire(s, 'transcriptWait');
      expect(respondInput(s)).toMatchObject({ reason: 'unheard', keypadOffer: 'misunderstood' });
      // With speech-to-text the first miss gets no offer yet.
      let t = completed(connected());
      t = step(t.snap, { type: 'user.speech.started' });
      t = step(t.snap, { type: 'user.speech.stopped', durationMs: 2000 });
      t = fire(t, 'transcriptWait');
      expect(respondInput(t)).toMatchObject({ reason: 'unheard', keypadOffer: null });
    });

    it('does not count a question or a stall the bot answered ("why?", "hang on") as a misunderstanding', () => {
      let s = completed(connected());
      s = completed(callerSays(s, 'blah'), 'none');
      s = completed(callerSays(s, 'why do you need that?'), 'answered');
      s = completed(callerSays(s, 'hang on, let me check'), 'answered');
      expect(s.snap.context.misunderstandings).toBe(1);
      s = callerSays(s, 'March 3rd');
      expect(respondInput(s)?.keypadOffer).toBeNull();
    });

    it('does not count reprompts or the greeting as misunderstandings', () => {
      let s = completed(connected());
      s = completed(fire(s, 'idleTimeout'));
      expect(s.snap.context.misunderstandings).toBe(0);
    });
  });

  describe('caller goodbye', () => {
    it('says goodbye mid-claim, then hangs up as caller_left without filing', () => {
      let s = completed(connected());
      s = callerSays(s, 'bye');
      s = step(s.snap, { type: 'caller.goodbye.said', turn: turn(s) });
      expect(value(s)).toBe('{"active":{"responding":"thinking"}}');
      expect(respondInput(s)).toMatchObject({ reason: 'callerGoodbye', userText: '' });
      s = completed(s);
      expect(value(s)).toBe('"ending"');
      expect(hangUpInput(s)).toEqual({ reason: 'caller_left' });
      expect(s.snap.context).toMatchObject({ endReason: 'caller_left', claimDone: false });
    });

    it('ends the call instead of recovering when the goodbye turn itself fails', () => {
      let s = completed(connected());
      s = callerSays(s, 'bye');
      s = step(s.snap, { type: 'caller.goodbye.said', turn: turn(s) });
      s = step(s.snap, { type: 'bot.turn.failed', turn: turn(s), message: 'boom' });
      expect(value(s)).toBe('"ending"');
      expect(hangUpInput(s)).toEqual({ reason: 'caller_left' });
    });
  });

  describe('provider failures', () => {
    it('STT lost: every following prompt offers the keypad, with a notice', () => {
      const listening = completed(connected());
      let s = step(listening.snap, {
        type: 'provider.failed',
        provider: 'stt',
        retryable: false,
        message: 'gave up',
      });
      expect(s.snap.context.sttLost).toBe(true);
      expect(emitted(s)).toEqual([
        { type: 'provider.fallback', provider: 'stt', scope: 'call', message: 'gave up' },
      ]);
      // The idle timer listening scheduled still runs (a targetless transition schedules nothing).
      s = fire({ snap: s.snap, actions: listening.actions }, 'idleTimeout');
      expect(respondInput(s)).toMatchObject({ reason: 'reprompt', keypadOffer: 'sttLost' });
    });

    it('STT actor crashing (invoke onError) counts as STT lost', () => {
      let s = completed(connected());
      s = step(s.snap, { type: 'xstate.error.actor.stt', error: new Error('socket') });
      expect(s.snap.context.sttLost).toBe(true);
      expect(emitted(s)[0]).toMatchObject({ type: 'provider.fallback', provider: 'stt' });
    });

    it('LLM lost for good: later turns go to the fallback dialogue; a retryable failure only this turn', () => {
      let s = completed(connected());
      s = callerSays(s, 'March 3rd');
      s = step(s.snap, { type: 'provider.failed', provider: 'llm', retryable: true, status: 500 });
      expect(emitted(s)[0]).toMatchObject({ provider: 'llm', scope: 'turn' });
      s = completed(s, 'accepted');
      s = callerSays(s, '900 dollars');
      expect(respondInput(s)?.dialogue).toBe('primary');
      s = step(s.snap, { type: 'provider.failed', provider: 'llm', retryable: false, status: 401 });
      expect(emitted(s)[0]).toMatchObject({ provider: 'llm', scope: 'call' });
      s = completed(s, 'accepted');
      s = callerSays(s, 'yes');
      expect(respondInput(s)?.dialogue).toBe('fallback');
    });

    it('TTS lost: the fallback voice is recorded in the context and shown to clients', () => {
      const s = step(connected().snap, {
        type: 'provider.failed',
        provider: 'tts',
        retryable: false,
        message: 'fell back to local',
      });
      expect(s.snap.context.ttsLost).toBe(true);
      expect(emitted(s)[0]).toMatchObject({ provider: 'tts', scope: 'call' });
    });
  });

  describe('claim child', () => {
    it('syncs the turn policy from the claim child’s snapshots (no engine push)', () => {
      const c = claimSnapshot([{ type: 'claim.number.acknowledged' }]);
      const expected = turnPolicyOfMeta(claimMetaOfPath(claimPathOfValue(c.value)));
      const s = step(connected().snap, { type: 'xstate.snapshot.claim', snapshot: c });
      expect(s.snap.context.turnPolicy).toEqual(expected);
      expect(expected).toMatchObject({ interruptible: true, keypad: 'entry' });
    });

    it('starts with the policy of the claim’s first state', () => {
      const c = claimSnapshot([]);
      expect(connected().snap.context.turnPolicy).toEqual(
        turnPolicyOfMeta(claimMetaOfPath(claimPathOfValue(c.value))),
      );
    });

    it('hangs up after the turn in which the claim reached done (onDone), as completed', () => {
      let s = completed(connected());
      s = callerSays(s, 'yes');
      s = step(s.snap, { type: 'xstate.done.actor.claim', output: {} });
      expect(s.snap.context.claimDone).toBe(true);
      expect(s.snap.context.turnPolicy.interruptible).toBe(false);
      expect(value(s)).toBe('{"active":{"responding":"thinking"}}');
      s = completed(s, 'accepted');
      expect(value(s)).toBe('"ending"');
      expect(hangUpInput(s)).toEqual({ reason: 'completed' });
    });

    it('ends the call with error when the claim child fails', () => {
      const s = step(connected().snap, { type: 'xstate.error.actor.claim', error: new Error('x') });
      expect(value(s)).toBe('"ending"');
      expect(s.snap.context.endReason).toBe('error');
    });
  });

  describe('false interruption', () => {
    /** The bot is speaking turn 2 in an interruptible state (collecting the date). */
    function botSpeakingInterruptible(): Step {
      let s = completed(connected());
      s = step(s.snap, {
        type: 'xstate.snapshot.claim',
        snapshot: claimSnapshot([{ type: 'claim.number.acknowledged' }]),
      });
      s = callerSays(s, 'got it');
      return step(s.snap, { type: 'bot.speech.started', turn: turn(s) });
    }
    /** A partial with a word cuts the bot off (the caller's sound has started). */
    function cutOff(): Step {
      let s = botSpeakingInterruptible();
      s = step(s.snap, { type: 'user.speech.started' });
      return step(s.snap, { type: 'stt.transcript.partial', text: 'so' });
    }

    it('stops the bot on a partial and waits for real words', () => {
      const s = cutOff();
      expect(value(s)).toBe('{"active":{"interrupted":"window"}}');
      expect(s.actions.map((a) => a.type)).toContain('interruptPlayback');
      expect(s.snap.context.resumeTurn).toBe(2);
      expect(timers(s)).toContainEqual(
        expect.objectContaining({ delay: DEFAULT_CALL_TIMINGS.falseInterruptionMs }),
      );
    });

    it('resumes the cut turn when the caller went quiet with no words within the window', () => {
      let s = cutOff();
      const window = s.actions;
      s = step(s.snap, { type: 'user.speech.stopped', durationMs: 300 });
      s = fire({ snap: s.snap, actions: window }, 'falseInterruption');
      expect(value(s)).toBe('{"active":{"responding":"thinking"}}');
      expect(respondInput(s)).toMatchObject({ turn: 3, reason: 'resume', resumeTurn: 2, userText: '' });
    });

    it('treats a backchannel final as no words, and resumes', () => {
      let s = cutOff();
      const window = s.actions;
      s = step(s.snap, { type: 'user.speech.stopped', durationMs: 300 });
      s = step(s.snap, { type: 'stt.transcript.final', text: 'mm-hmm', speechFinal: true });
      expect(value(s)).toBe('{"active":{"interrupted":"window"}}');
      expect(emitted(s)).toEqual([{ type: 'transcript.final', text: 'mm-hmm' }]);
      s = fire({ snap: s.snap, actions: window }, 'falseInterruption');
      expect(respondInput(s)).toMatchObject({ reason: 'resume', resumeTurn: 2, userText: '' });
    });

    it('resumes at once when the STT ends the utterance with nothing said', () => {
      const s = step(cutOff().snap, { type: 'stt.utterance.ended' });
      expect(respondInput(s)).toMatchObject({ reason: 'resume', resumeTurn: 2 });
    });

    it('waits while the caller still makes sound, then gives the STT the window again', () => {
      let s = cutOff();
      s = fire(s, 'falseInterruption');
      expect(value(s)).toBe('{"active":{"interrupted":"lingering"}}');
      s = step(s.snap, { type: 'user.speech.stopped', durationMs: 1500 });
      expect(value(s)).toBe('{"active":{"interrupted":"window"}}');
      s = fire(s, 'falseInterruption');
      expect(respondInput(s)).toMatchObject({ reason: 'resume', resumeTurn: 2 });
    });

    it('takes the interruption as real once a final brings a word, and answers the caller', () => {
      let s = cutOff();
      s = step(s.snap, { type: 'stt.transcript.final', text: 'so the date is wrong', speechFinal: true });
      expect(value(s)).toBe('{"active":{"endOfTurn":"preparing"}}');
      s = fire(s, 'endpointingPatience');
      // The VAD still hears the caller (who cut the bot off): its silence confirms the turn.
      expect(value(s)).toBe('{"active":{"endOfTurn":"preparing"}}');
      s = step(s.snap, { type: 'user.speech.stopped', durationMs: 1200 });
      expect(respondInput(s)).toMatchObject({
        reason: 'user',
        userText: 'so the date is wrong',
        resumeTurn: null,
        prepared: true,
      });
    });

    it('keeps words queued before the cut for the turn after the resume', () => {
      let s = botSpeakingInterruptible();
      s = step(s.snap, { type: 'stt.transcript.final', text: 'okay', speechFinal: true }); // a backchannel, queued
      s = step(s.snap, { type: 'stt.transcript.partial', text: 'so' });
      s = step(s.snap, { type: 'stt.utterance.ended' });
      expect(respondInput(s)).toMatchObject({ reason: 'resume', userText: '' });
      s = completed(s);
      expect(respondInput(s)).toMatchObject({ reason: 'user', userText: 'okay' });
    });
  });

  describe('watchdogs', () => {
    const t = DEFAULT_CALL_TIMINGS;

    it('connecting: connectTimeout hangs up (no_start)', () => {
      const [snap, actions] = initialTransition(callMachine, input);
      const s0 = { snap, actions: actions as unknown as StepAction[] };
      expect(timers(s0)).toEqual([
        { event: 'xstate.after.connectTimeout.call.connecting', delay: t.connectTimeoutMs },
      ]);
      const s = fire(s0, 'connectTimeout');
      expect(value(s)).toBe('"ending"');
      expect(hangUpInput(s)).toEqual({ reason: 'no_start' });
    });

    it('responding.thinking: thinkingWatchdog forces a recovery turn, then gives up (stuck)', () => {
      let s = connected();
      expect(timers(s)).toContainEqual(expect.objectContaining({ delay: t.thinkingWatchdogMs }));
      s = fire(s, 'thinkingWatchdog');
      expect(respondInput(s)).toMatchObject({ reason: 'recover' });
      s = fire(fire(s, 'thinkingWatchdog'), 'thinkingWatchdog');
      expect(value(s)).toBe('"ending"');
      expect(s.snap.context.endReason).toBe('stuck');
    });

    it('responding.speaking: speakingWatchdog cuts playback that never ends and listens', () => {
      let s = step(connected().snap, { type: 'bot.speech.started', turn: 1 });
      expect(timers(s)).toEqual([expect.objectContaining({ delay: t.speakingWatchdogMs })]);
      s = fire(s, 'speakingWatchdog');
      expect(value(s)).toBe('{"active":"listening"}');
      expect(s.actions.map((a) => a.type)).toContain('interruptPlayback');
    });

    it('responding.speaking: speakingWatchdog on the last turn hangs up', () => {
      let s = step(connected().snap, { type: 'xstate.done.actor.claim', output: {} });
      s = step(s.snap, { type: 'bot.speech.started', turn: 1 });
      s = fire(s, 'speakingWatchdog');
      expect(value(s)).toBe('"ending"');
      expect(s.snap.context.endReason).toBe('completed');
    });

    it('listening: idleTimeout reprompts, then says goodbye (idle) and hangs up', () => {
      let s = completed(connected());
      expect(timers(s)).toEqual([expect.objectContaining({ delay: t.idleTimeoutMs })]);
      for (let i = 0; i < t.maxIdleReprompts; i++) {
        s = fire(s, 'idleTimeout');
        expect(respondInput(s)?.reason).toBe('reprompt');
        s = completed(s);
      }
      s = fire(s, 'idleTimeout');
      expect(respondInput(s)?.reason).toBe('goodbye');
      s = completed(s);
      expect(hangUpInput(s)).toEqual({ reason: 'idle' });
    });

    it('userSpeaking: userTurnWatchdog answers what was heard, or listens again', () => {
      let s = completed(connected());
      s = step(s.snap, { type: 'user.speech.started' });
      expect(timers(s)).toContainEqual(expect.objectContaining({ delay: t.userTurnWatchdogMs }));
      s = fire(s, 'userTurnWatchdog');
      expect(value(s)).toBe('{"active":"listening"}');
      s = step(s.snap, { type: 'stt.transcript.final', text: 'it was', speechFinal: false });
      s = fire(s, 'userTurnWatchdog');
      expect(respondInput(s)).toMatchObject({ reason: 'user', userText: 'it was' });
    });

    it('userSpeaking.awaitingTranscript: transcriptWait answers "unheard" for long speech, else listens', () => {
      let s = completed(connected());
      s = step(s.snap, { type: 'user.speech.started' });
      s = step(s.snap, { type: 'user.speech.stopped', durationMs: 100 });
      expect(timers(s)).toEqual([expect.objectContaining({ delay: t.transcriptWaitMs })]);
      s = fire(s, 'transcriptWait');
      expect(value(s)).toBe('{"active":"listening"}');
    });

    it('endOfTurn: endpointingPatience answers after the state’s patience', () => {
      let s = completed(connected());
      s = step(s.snap, {
        type: 'xstate.snapshot.claim',
        snapshot: claimSnapshot([{ type: 'claim.number.acknowledged' }]),
      });
      s = step(s.snap, { type: 'stt.transcript.final', text: 'March', speechFinal: true });
      expect(value(s)).toBe('{"active":{"endOfTurn":"preparing"}}');
      expect(timers(s)).toEqual([
        expect.objectContaining({ delay: s.snap.context.turnPolicy.endpointingPatienceMs }),
        // The cap on waiting for the VAD's silence once the patience is over.
        expect.objectContaining({
          delay: s.snap.context.turnPolicy.endpointingPatienceMs + DEFAULT_CALL_TIMINGS.patienceSilenceWaitMs,
        }),
      ]);
      s = fire(s, 'endpointingPatience');
      expect(respondInput(s)).toMatchObject({ reason: 'user', userText: 'March' });
    });

    /** The call after the claim number was acknowledged: the claim asks for the date. */
    const collectingDate = () =>
      step(completed(connected()).snap, {
        type: 'xstate.snapshot.claim',
        snapshot: claimSnapshot([{ type: 'claim.number.acknowledged' }]),
      });

    it('endOfTurn: a final that holds a complete date answers at once, without the patience', () => {
      const s = step(collectingDate().snap, {
        type: 'stt.transcript.final',
        text: 'it was on March 3rd',
        speechFinal: true,
      });
      expect(s.snap.context.turnPolicy.endpointingPatienceMs).toBeGreaterThan(0);
      // The turn is answered within the same macrostep: endOfTurn is left before any patience runs.
      expect(value(s)).toContain('responding');
      expect(respondInput(s)).toMatchObject({ reason: 'user', userText: 'it was on March 3rd' });
    });

    it('endOfTurn: an unfinished final ("it was on March") waits the state’s patience', () => {
      const s = step(collectingDate().snap, {
        type: 'stt.transcript.final',
        text: 'it was on March',
        speechFinal: true,
      });
      expect(value(s)).toBe('{"active":{"endOfTurn":"preparing"}}');
      expect(timers(s)).toEqual([
        expect.objectContaining({ delay: s.snap.context.turnPolicy.endpointingPatienceMs }),
        // The cap on waiting for the VAD's silence once the patience is over.
        expect.objectContaining({
          delay: s.snap.context.turnPolicy.endpointingPatienceMs + DEFAULT_CALL_TIMINGS.patienceSilenceWaitMs,
        }),
      ]);
    });

    it('endOfTurn: the caller finishing the answer during the patience ends the wait at once', () => {
      let s = step(collectingDate().snap, { type: 'stt.transcript.final', text: 'March', speechFinal: true });
      expect(value(s)).toBe('{"active":{"endOfTurn":"preparing"}}');
      s = step(s.snap, { type: 'stt.transcript.final', text: 'third', speechFinal: true });
      expect(respondInput(s)).toMatchObject({ reason: 'user', userText: 'March third' });
    });

    it('endOfTurn: a number cut mid-way ("twelve hundred and") waits at the amount question', () => {
      let s = step(collectingDate().snap, {
        type: 'xstate.snapshot.claim',
        snapshot: claimSnapshot([
          { type: 'claim.number.acknowledged' },
          { type: 'claim.date.provided', date: '2026-03-03' },
        ]),
      });
      expect(s.snap.context.turnPolicy.expects).toBe('amount');
      const cut = step(s.snap, {
        type: 'stt.transcript.final',
        text: 'twelve hundred and',
        speechFinal: true,
      });
      expect(value(cut)).toBe('{"active":{"endOfTurn":"preparing"}}');
      s = step(s.snap, { type: 'stt.transcript.final', text: 'twelve hundred fifty', speechFinal: true });
      expect(respondInput(s)).toMatchObject({ userText: 'twelve hundred fifty' });
    });

    it('ending: hangUpTimeout ends the call when the transport never confirms the hang-up', () => {
      const s = step(connected().snap, { type: 'call.hang_up', reason: 'server_shutdown' });
      expect(timers(s)).toEqual([expect.objectContaining({ delay: t.hangUpTimeoutMs })]);
      expect(value(fire(s, 'hangUpTimeout'))).toBe('"ended"');
    });

    /** Every state node, depth first. */
    const nodes = (n: AnyStateNode): AnyStateNode[] => [n, ...Object.values(n.states).flatMap(nodes)];

    it('gives every waiting state a watchdog (its own or an enclosing state’s below the root)', () => {
      const waiting = nodes(callMachine.root).filter(
        (n) => n.type === 'atomic' && n.always === undefined && n.parent !== undefined,
      );
      const unguarded = waiting
        .filter((n) => {
          for (let p: AnyStateNode | undefined = n; p && p !== callMachine.root; p = p.parent) {
            if (p.after.length > 0) return false;
          }
          return true;
        })
        .map((n) => n.id);
      expect(unguarded).toEqual([]);
    });

    it('gives every invoke an onError', () => {
      const missing = nodes(callMachine.root).flatMap((n) =>
        (Array.isArray(n.config.invoke) ? n.config.invoke : n.config.invoke ? [n.config.invoke] : [])
          .filter((i: { onError?: unknown }) => !i.onError)
          .map((i: { src: unknown }) => `${n.id}:${String(i.src)}`),
      );
      expect(missing).toEqual([]);
    });
  });

  it('emits transcripts for clients, whichever state takes them', () => {
    const s = completed(connected());
    const partial = step(s.snap, { type: 'stt.transcript.partial', text: 'mar' });
    expect(emitted(partial)).toEqual([{ type: 'transcript.partial', text: 'mar' }]);
    const thinking = connected();
    const final = step(thinking.snap, { type: 'stt.transcript.final', text: 'hello', speechFinal: true });
    expect(emitted(final)).toEqual([{ type: 'transcript.final', text: 'hello' }]);
  });
});
