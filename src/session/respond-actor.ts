/**
 * The call machine's `respond` actor: one bot turn per invocation. It runs the turn (dialogue,
 * tools, speech: respond-turn.ts), records it (conversation log, metrics) and reports back to the
 * machine what happened (`bot.speech.started`, `bot.turn.completed {outcome}`,
 * `caller.goodbye.said`, `caller.transfer.requested`, `provider.failed`, `bot.turn.failed`). Stopping the actor (barge-in,
 * hang-up) aborts the LLM request and cancels the speech. It decides nothing: the machine does.
 *
 * Preemptive generation: the `prepare` actor (invoked by the call machine while the endpointing
 * patience runs) starts the same turn held (held-turn.ts): the speech is synthesized but buffered,
 * claim events go to a copy of the claim, and the turn's effects (notices, transcript lines, tool
 * results, machine events, its place in the LLM history) are queued. When the machine commits the
 * turn (`RespondInput.prepared`, same input), `respond` takes the held turn over: the effects run,
 * the claim events are applied to the live claim, the buffered audio goes out. Otherwise the held
 * turn is discarded: its LLM request is aborted, its TTS context cancelled, nothing of it kept.
 */
import type { Logger } from 'pino';
import type { ActorRefFrom, CallbackLogicFunction } from 'xstate';
import type { CallEvent, RespondInput } from '../../machines/call/call.machine.js';
import { dtmfToClaimEvents } from '../../machines/claim/claim.keypad.js';
import type { claimMachine } from '../../machines/claim/claim.machine.js';
import type { ConversationMetrics } from '../metrics/conversation-metrics.js';
import {
  ProviderError,
  type DialogueCallInfo,
  type DialogueMessage,
  type DialogueProvider,
  type Speaker,
  type TurnSpeech,
} from '../providers/types.js';
import { keypadTurnText, unheardTurnText } from './caller-turn-text.js';
import { ClaimGateway } from './claim-gateway.js';
import { forkClaim, TurnEffects, type ClaimFork } from './held-turn.js';
import type { ConversationLog } from './conversation-log.js';
import { runRespondTurn, type RespondResult } from './respond-turn.js';
import { runResumeTurn, unheardRest } from './resume-turn.js';
import type { SessionNotice } from './session-types.js';
import type { TurnClock } from './turn-clock.js';

/** What the respond actor works with (one call's, built by the session). */
export interface RespondActorDeps {
  dialogue: DialogueProvider;
  fallbackDialogue: DialogueProvider;
  speaker: Speaker;
  callInfo: DialogueCallInfo;
  /** The conversation so far (LLM context; only heard text of interrupted turns). */
  history: DialogueMessage[];
  clock: TurnClock;
  log: ConversationLog;
  metrics: ConversationMetrics;
  notify(notice: SessionNotice): void;
  /** The caller's speech can be transcribed (false: voice without speech-to-text). Default true. */
  transcribes?: boolean;
  logger: Logger;
}

type ResumeDeps = Parameters<typeof runRespondTurn>[1];

/** The failure of a dialogue, as the call machine's `provider.failed` event. */
export function dialogueFailedEvent(err: unknown): CallEvent {
  return {
    type: 'provider.failed',
    provider: 'llm',
    retryable: err instanceof ProviderError ? err.retryable : true,
    ...(err instanceof ProviderError && err.status !== undefined ? { status: err.status } : {}),
    message: (err as Error).message,
  };
}

/** A discarded prepared turn, as sessions report it (notices, logs, metrics). */
export interface DiscardedTurn {
  turn: number;
  /** The caller's words the discarded reply answered. */
  userText: string;
  /** What the reply had written so far (never heard by the caller). */
  text: string;
  reason: string;
}

type ClaimRef = ActorRefFrom<typeof claimMachine>;

/** One run of a bot turn, live or held. */
interface TurnRun {
  readonly input: RespondInput;
  readonly result: Promise<RespondResult>;
  /** Where the run's machine events go (the owning `respond` actor's sendBack); null: nowhere. */
  send: ((e: CallEvent) => void) | null;
  /** STT timings of the caller turn, taken when the run goes live. */
  stt: { ttfbMs?: number; processingMs?: number };
  /** Goes live (see file header); false when the held turn went stale. */
  commit(): boolean;
  /** Aborts the run; a held run is dropped with every effect it queued. */
  abort(): void;
  readonly discarded: boolean;
  /** Text the run wrote so far (for a discard notice). */
  readonly written: string;
}

/** Two inputs describe the same turn (everything but the `prepared` flag). */
const sameTurn = (a: RespondInput, b: RespondInput) =>
  a.turn === b.turn &&
  a.reason === b.reason &&
  a.userText === b.userText &&
  a.dtmf === b.dtmf &&
  a.keypadOffer === b.keypadOffer &&
  a.dialogue === b.dialogue &&
  a.resumeTurn === b.resumeTurn;

/** The body of a call-machine callback actor (`respond`, `prepare`) for one call. */
export type TurnActorCallback = CallbackLogicFunction<CallEvent, CallEvent, RespondInput>;

/**
 * Creates the bodies of the `respond` and `prepare` actors of one call (see file header): plain
 * callbacks, so the call machine is provided once for every call and finds its call's bodies
 * through its actor system (call-session.ts).
 */
export function createTurnActors(deps: RespondActorDeps): {
  respond: TurnActorCallback;
  prepare: TurnActorCallback;
} {
  /** The last turn a barge-in cut: what a `resume` turn says again. */
  let cut: { turn: number; rest: string; complete: boolean } | null = null;
  /** The previous turn's bookkeeping (a resume waits for the cut turn to settle). */
  let previous: Promise<unknown> = Promise.resolve();
  /** The LLM context; a committed held turn hands over its own copy (see `commit`). */
  let history = deps.history;
  /** The held turn the `prepare` actor started, until taken over or discarded. */
  let prepared: TurnRun | null = null;
  /** The `prepare` actor that holds {@link prepared} (a later one for the same turn adopts it). */
  let preparedOwner: object | null = null;

  /** A resume turn: the cut turn's unheard rest, or the dialogue when that reply was not all written. */
  const resume = async (input: RespondInput, ctx: ResumeDeps, signal: AbortSignal) => {
    await previous;
    const from = cut !== null && cut.turn === input.resumeTurn ? cut : null;
    if (from && !from.complete) return runRespondTurn(input, ctx, signal);
    deps.logger.info({ turn: input.turn, resumes: input.resumeTurn }, 'false interruption: resuming');
    const r = await runResumeTurn(input, from?.rest ?? '', ctx, signal);
    return { ...r, outcome: 'none', acceptedEvents: 0, generationComplete: true } satisfies RespondResult;
  };

  /**
   * Starts a turn, live (its machine events go to `send`) or held (`send` null: set when a
   * `respond` actor takes it over). See file header.
   */
  const startRun = (input: RespondInput, claim: ClaimRef, send: TurnRun['send']): TurnRun => {
    const held = send === null;
    const turn = input.turn;
    const ac = new AbortController();
    const effects = new TurnEffects(held);
    const fork: ClaimFork | null = held ? forkClaim(claim) : null;
    const base = history;
    const baseLength = history.length;
    const turnHistory = held ? [...history] : history;
    let discarded = false;
    /** The turn's promise settled (see `abort`). */
    let settled = false;
    let speech: TurnSpeech | null = null;
    const written: string[] = [];
    const run: Omit<TurnRun, 'result'> = {
      input,
      send,
      stt: {},
      get discarded() {
        return discarded;
      },
      get written() {
        return written.join(' ');
      },
      commit() {
        if (!effects.held) return !ac.signal.aborted;
        // The live conversation or claim moved since the fork: the held reply answers a past.
        if (history !== base || base.length !== baseLength || !fork?.unchanged()) return false;
        history = turnHistory;
        effects.commit();
        speech?.release();
        return true;
      },
      abort() {
        if (effects.held) {
          discarded = true;
          effects.drop();
        }
        // A settled turn has nothing in flight (its speech ended with it): an abort would only
        // build an AbortError and wake the signal's listeners for nothing.
        if (!settled) ac.abort();
      },
    };
    const emit = (e: CallEvent) => effects.run(() => run.send?.(e));
    const gateway = fork
      ? new ClaimGateway(fork.ref, (e) => effects.run(() => claim.send(e)))
      : new ClaimGateway(claim);
    const speaker: Speaker = held
      ? {
          name: deps.speaker.name,
          close: () => {},
          startTurn: (t, hooks) => (speech = deps.speaker.startTurn(t, { ...hooks, held: true })),
        }
      : deps.speaker;
    effects.run(() => {
      run.stt = deps.clock.takeSttTiming();
      // Caller turns that are not words are still caller turns in the transcript.
      if (input.dtmf && !input.userText.trim()) deps.log.userSaid(turn, keypadTurnText(input.dtmf));
      else if (input.reason === 'unheard') deps.log.userSaid(turn, unheardTurnText(deps.transcribes ?? true));
      deps.notify({ type: 'bot.turn.started', turn });
    });
    const ctx = {
      gateway,
      history: turnHistory,
      dialogue: deps.dialogue,
      fallback: deps.fallbackDialogue,
      speaker,
      callInfo: deps.callInfo,
      userStoppedAt: (turnStartedAt: number) => deps.clock.userStoppedBefore(turnStartedAt),
      dtmfEvents: (entry: string) => dtmfToClaimEvents(gateway.view(), entry),
      onFirstAudio: () => emit({ type: 'bot.speech.started', turn }),
      onUserMessage: (text: string) => effects.run(() => deps.log.userSaid(turn, text)),
      onToolCall: (name: string, args: string, result: string) =>
        effects.run(() => deps.log.toolCalled(turn, name, args, result)),
      onDialogueFailure: (err: unknown, vendor: string) =>
        effects.run(() => {
          deps.logger.warn(
            { vendor, err: (err as Error).message },
            'dialogue failed; local dialogue answers this turn',
          );
          deps.metrics.setProvider('llm', deps.fallbackDialogue.name);
          emit(dialogueFailedEvent(err)); // the call machine decides what it means for the call
        }),
      // Every transport's observers see the bot's words as they are spoken (never audio).
      onBotText: (text: string) => {
        written.push(text);
        effects.run(() => deps.notify({ type: 'bot.text', turn, text }));
      },
    };
    const result = (
      input.reason === 'resume' ? resume(input, ctx, ac.signal) : runRespondTurn(input, ctx, ac.signal)
    ).then((r) => {
      settled = true;
      fork?.stop();
      // Recorded before anything awaits `previous`: a resume right after a cut finds it.
      if (!run.discarded)
        cut = r.speech.interrupted
          ? {
              turn,
              rest: unheardRest(r.speech.spokenText, r.speech.heardText),
              complete: r.generationComplete,
            }
          : null;
      return r;
    });
    result.catch(() => {
      settled = true;
      fork?.stop();
    });
    previous = result.catch(() => {});
    return Object.assign(run, { result });
  };

  /** Drops the prepared turn (if any) and says so. */
  const discardPrepared = (reason: string) => {
    const run = prepared;
    prepared = null;
    if (!run) return;
    run.abort();
    deps.metrics.notePreparedTurn('discarded');
    const discarded: DiscardedTurn = {
      turn: run.input.turn,
      userText: run.input.userText,
      text: run.written,
      reason,
    };
    // The log keeps no words (the observers' notice does, like every transcript notice).
    deps.logger.info(
      {
        turn: discarded.turn,
        reason,
        userChars: discarded.userText.length,
        writtenChars: discarded.text.length,
      },
      'prepared turn discarded',
    );
    deps.notify({ type: 'turn.prepared.discarded', ...discarded });
  };

  /** Takes over the prepared turn for `input`, or discards it; null: run a fresh turn. */
  const takePrepared = (input: RespondInput, send: (e: CallEvent) => void): TurnRun | null => {
    const run = prepared;
    if (!run) return null;
    if (!input.prepared || !sameTurn(run.input, input)) {
      discardPrepared(input.prepared ? 'the turn changed' : 'the caller went on');
      return null;
    }
    run.send = send;
    if (!run.commit()) {
      discardPrepared('the conversation moved on meanwhile');
      return null;
    }
    prepared = null;
    deps.metrics.notePreparedTurn('committed');
    deps.logger.debug({ turn: input.turn }, 'prepared turn committed');
    return run;
  };

  const respond: TurnActorCallback = ({ input, sendBack, system }) => {
    const claim = system.get('claim') as ClaimRef | undefined;
    let stopped = false;
    const send = (e: CallEvent) => {
      if (!stopped) sendBack(e);
    };
    const turn = input.turn;
    if (!claim) {
      discardPrepared('the claim is gone');
      send({ type: 'bot.turn.failed', turn, message: 'claim not started' });
      return () => {};
    }
    const run = takePrepared(input, send) ?? startRun(input, claim, send);
    run.result
      .then((r) => {
        deps.log.botSaid(turn, r.speech.spokenText, r.speech);
        if (input.reason === 'user')
          Object.assign(r.timing, { sttTtfbMs: run.stt.ttfbMs, sttProcessingMs: run.stt.processingMs });
        deps.metrics.addTurn(r.timing);
        deps.notify({ type: 'metrics.turn', timing: r.timing });
        deps.log.metrics(deps.metrics);
        send(
          r.outcome === 'goodbye'
            ? { type: 'caller.goodbye.said', turn }
            : r.outcome === 'transfer'
              ? { type: 'caller.transfer.requested', turn }
              : { type: 'bot.turn.completed', turn, outcome: r.outcome },
        );
      })
      .catch((err: unknown) => {
        deps.logger.error({ err: (err as Error).message }, 'bot turn failed');
        send({ type: 'bot.turn.failed', turn, message: (err as Error).message });
      });
    return () => {
      stopped = true;
      run.abort();
    };
  };

  /** Starts the held turn; stopped unclaimed (the caller went on), it is discarded. */
  const prepare: TurnActorCallback = ({ input, system }) => {
    const claim = system.get('claim') as ClaimRef | undefined;
    const owner = {};
    // The same turn prepared a moment ago (on VAD silence, before the STT ended the turn and the
    // patience began): that reply goes on, owned by this actor now.
    if (prepared && claim && sameTurn(prepared.input, input)) {
      preparedOwner = owner;
      deps.logger.debug({ turn: input.turn }, 'the prepared reply goes on through the patience');
    } else {
      discardPrepared('a newer preparation');
      if (!claim) return () => {};
      const run = startRun(input, claim, null);
      deps.logger.debug({ turn: input.turn }, 'preparing the reply before the turn is confirmed');
      run.result.catch(() => {}); // a held failure surfaces only if the turn is taken over
      prepared = run;
      preparedOwner = owner;
    }
    const run = prepared;
    // `respond` (or the next `prepare`, for the same turn) takes it over in the same macrostep
    // (the machine stops this actor first).
    return () =>
      queueMicrotask(() => {
        if (prepared === run && preparedOwner === owner) discardPrepared('the caller went on');
      });
  };

  return { respond, prepare };
}
