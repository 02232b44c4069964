/**
 * The call machine's `respond` actor: one bot turn per invocation. It runs the turn (dialogue,
 * tools, speech: respond-turn.ts), records it (conversation log, metrics) and reports back to the
 * machine what happened (`bot.speech.started`, `bot.turn.completed {outcome}`,
 * `caller.goodbye.said`, `caller.transfer.requested`, `provider.failed`, `bot.turn.failed`). Stopping the actor (barge-in,
 * hang-up) aborts the LLM request and cancels the speech. It decides nothing: the machine does.
 */
import type { Logger } from 'pino';
import { fromCallback, type ActorRefFrom } from 'xstate';
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
} from '../providers/types.js';
import { keypadTurnText, unheardTurnText } from './caller-turn-text.js';
import { ClaimGateway } from './claim-gateway.js';
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

/** Creates the `respond` actor logic for one call (see file header). */
export function createRespondActor(deps: RespondActorDeps) {
  /** The last turn a barge-in cut: what a `resume` turn says again. */
  let cut: { turn: number; rest: string; complete: boolean } | null = null;
  /** The previous turn's bookkeeping (a resume waits for the cut turn to settle). */
  let previous: Promise<unknown> = Promise.resolve();

  /** A resume turn: the cut turn's unheard rest, or the dialogue when that reply was not all written. */
  const resume = async (input: RespondInput, ctx: ResumeDeps, signal: AbortSignal) => {
    await previous;
    const from = cut !== null && cut.turn === input.resumeTurn ? cut : null;
    if (from && !from.complete) return runRespondTurn(input, ctx, signal);
    deps.logger.info({ turn: input.turn, resumes: input.resumeTurn }, 'false interruption: resuming');
    const r = await runResumeTurn(input, from?.rest ?? '', ctx, signal);
    return { ...r, outcome: 'none', acceptedEvents: 0, generationComplete: true } satisfies RespondResult;
  };

  return fromCallback<CallEvent, RespondInput>(({ input, sendBack, system }) => {
    const claim = system.get('claim') as ActorRefFrom<typeof claimMachine> | undefined;
    const ac = new AbortController();
    let stopped = false;
    const send = (e: CallEvent) => {
      if (!stopped) sendBack(e);
    };
    const turn = input.turn;
    if (!claim) {
      send({ type: 'bot.turn.failed', turn, message: 'claim not started' });
      return () => {};
    }
    const gateway = new ClaimGateway(claim);
    const turnStt = deps.clock.takeSttTiming();
    // Caller turns that are not words are still caller turns in the transcript.
    if (input.dtmf && !input.userText.trim()) deps.log.userSaid(turn, keypadTurnText(input.dtmf));
    else if (input.reason === 'unheard') deps.log.userSaid(turn, unheardTurnText(deps.transcribes ?? true));
    deps.notify({ type: 'bot.turn.started', turn });
    const ctx = {
      gateway,
      history: deps.history,
      dialogue: deps.dialogue,
      fallback: deps.fallbackDialogue,
      speaker: deps.speaker,
      callInfo: deps.callInfo,
      userStoppedAt: (turnStartedAt: number) => deps.clock.userStoppedBefore(turnStartedAt),
      dtmfEvents: (entry: string) => dtmfToClaimEvents(gateway.view(), entry),
      onFirstAudio: () => send({ type: 'bot.speech.started', turn }),
      onUserMessage: (text: string) => deps.log.userSaid(turn, text),
      onToolCall: (name: string, args: string, result: string) =>
        deps.log.toolCalled(turn, name, args, result),
      onDialogueFailure: (err: unknown, vendor: string) => {
        deps.logger.warn(
          { vendor, err: (err as Error).message },
          'dialogue failed; local dialogue answers this turn',
        );
        deps.metrics.setProvider('llm', deps.fallbackDialogue.name);
        send(dialogueFailedEvent(err)); // the call machine decides what it means for the call
      },
      // Every transport's observers see the bot's words as they are spoken (never audio).
      onBotText: (text: string) => deps.notify({ type: 'bot.text', turn, text }),
    };
    const running = (
      input.reason === 'resume' ? resume(input, ctx, ac.signal) : runRespondTurn(input, ctx, ac.signal)
    ).then((r) => {
      // Recorded before anything awaits `previous`: a resume right after a cut finds it.
      cut = r.speech.interrupted
        ? { turn, rest: unheardRest(r.speech.spokenText, r.speech.heardText), complete: r.generationComplete }
        : null;
      return r;
    });
    previous = running.catch(() => {});
    running
      .then((r) => {
        deps.log.botSaid(turn, r.speech.spokenText, r.speech);
        if (input.reason === 'user')
          Object.assign(r.timing, { sttTtfbMs: turnStt.ttfbMs, sttProcessingMs: turnStt.processingMs });
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
      ac.abort();
    };
  });
}
