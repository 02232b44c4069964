/**
 * The call machine: the lifecycle of one call and its turn-taking loop.
 *
 *   connecting → active(responding{thinking,speaking} ⇄ listening ⇄ userSpeaking → endOfTurn) → ending → ended
 *
 * - The claim machine is invoked as a child (`claim`, systemId `claim`) for the whole active call.
 * - `stt` is a long-lived callback actor for the whole active call (speech in, transcripts out).
 * - `respond` (dialogue → sentences → speech → playback) is invoked while `responding`; leaving the
 *   state (barge-in, hang-up) stops it, and its cleanup aborts the LLM request and cancels TTS.
 * - Every waiting state has a watchdog (`after`) so no call can hang silent.
 *
 * Actors here are typed placeholders; `src/engine` binds the real ones with `machine.provide(...)`.
 * Events never carry audio: audio is the data plane and never enters a machine.
 */
import { and, assign, fromCallback, fromPromise, setup } from 'xstate';
import { claimMachine, type ClaimInput, type TurnPolicy } from './claim.machine.js';
import { isBargeInUtterance } from './barge-in.js';

/** How the call reached us. */
export type CallChannel = 'phone' | 'browser' | 'terminal';

/** Why a bot turn is being produced. */
export type TurnReason = 'greeting' | 'user' | 'dtmf' | 'unheard' | 'reprompt' | 'goodbye' | 'recover';

/** Timers of the turn loop, ms. */
export interface CallTimings {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxIdleReprompts: number;
  /** After the VAD says the caller stopped, how long to wait for a transcript. */
  transcriptWaitMs: number;
  /** Speech at least this long that produced no transcript gets a "sorry, I didn't catch that". */
  unheardMinSpeechMs: number;
  /** Longest a caller turn may last before we answer anyway. */
  userTurnWatchdogMs: number;
  /** Longest the bot may think before a recovery turn is forced. */
  thinkingWatchdogMs: number;
  hangUpTimeoutMs: number;
}

/** Defaults suited to a phone line. */
export const DEFAULT_CALL_TIMINGS: CallTimings = {
  connectTimeoutMs: 15_000,
  idleTimeoutMs: 8_000,
  maxIdleReprompts: 2,
  transcriptWaitMs: 2_500,
  unheardMinSpeechMs: 600,
  userTurnWatchdogMs: 30_000,
  thinkingWatchdogMs: 12_000,
  hangUpTimeoutMs: 5_000,
};

/** Facts about the call given by the transport at start. Phone numbers are kept for the dialogue only. */
export interface CallInfo {
  callSid: string | null;
  streamSid: string | null;
  from: string | null;
  to: string | null;
  customParameters: Record<string, string>;
}

/** Input of the call machine. */
export interface CallInput {
  conversationId: string;
  channel: CallChannel;
  claim: ClaimInput;
  timings?: Partial<CallTimings>;
}

/** What the `respond` actor is asked to do for one bot turn. */
export interface RespondInput {
  turn: number;
  reason: TurnReason;
  /** The caller's words that this turn answers ('' for greeting/reprompt). */
  userText: string;
  /** A completed keypad entry (`1`, `2`, `03032026`, `1250*50`) or null. */
  dtmf: string | null;
}

/** Events of the call machine (all serializable, none carries audio). */
export type CallEvent =
  | {
      type: 'call.started';
      callSid?: string | null;
      streamSid?: string | null;
      from?: string | null;
      to?: string | null;
      customParameters?: Record<string, string>;
    }
  | { type: 'call.stopped'; reason: string }
  | { type: 'call.hang_up'; reason: string }
  | { type: 'user.speech.started' }
  | { type: 'user.speech.stopped'; durationMs: number }
  | { type: 'stt.transcript.partial'; text: string }
  | { type: 'stt.transcript.final'; text: string; speechFinal: boolean }
  | { type: 'stt.utterance.ended' }
  | { type: 'user.text.received'; text: string }
  | { type: 'dtmf.received'; digit: string }
  | { type: 'bot.turn.policy'; turn: number; policy: TurnPolicy }
  | { type: 'bot.speech.started'; turn: number }
  | { type: 'bot.turn.completed'; turn: number; hangUp: boolean }
  | { type: 'bot.turn.failed'; turn: number; message: string }
  | {
      type: 'provider.failed';
      provider: 'stt' | 'llm' | 'tts';
      retryable: boolean;
      status?: number;
      message?: string;
    };

/** The call machine's context. Serializable data only. */
export interface CallContext {
  conversationId: string;
  channel: CallChannel;
  claimInput: ClaimInput;
  callInfo: CallInfo;
  timings: CallTimings;
  turn: number;
  reason: TurnReason;
  /** Final transcript collected for the caller's current (not yet answered) turn. */
  userText: string;
  /** The caller text the current bot turn answers. */
  turnUserText: string;
  dtmfBuffer: string;
  /** A completed keypad entry waiting to be answered. */
  dtmfEntry: string | null;
  turnDtmf: string | null;
  idleReprompts: number;
  recoveries: number;
  interruptions: number;
  turnPolicy: TurnPolicy;
  /** Duration of the caller's last stretch of speech (VAD), ms. */
  lastSpeechMs: number;
  endReason: string | null;
}

const appendText = (a: string, b: string) => (a && b ? `${a} ${b}` : a || b).trim();

/**
 * Applies one keypad digit to the buffer: `#` completes an entry; in `answer` mode a lone 1/2 is
 * an answer at once, in `entry` mode (collecting a date or an amount) it starts the value.
 */
export function applyDtmfDigit(
  buffer: string,
  digit: string,
  mode: 'answer' | 'entry' = 'answer',
): { buffer: string; complete: string | null } {
  if (digit === '#') return buffer ? { buffer: '', complete: buffer } : { buffer: '', complete: null };
  if (mode === 'answer' && buffer === '' && (digit === '1' || digit === '2'))
    return { buffer: '', complete: digit };
  if (!/^[0-9*]$/.test(digit) || buffer.length >= 16) return { buffer, complete: null };
  return { buffer: buffer + digit, complete: null };
}

/** The call machine definition (see file header). */
export const callMachine = setup({
  types: {
    context: {} as CallContext,
    events: {} as CallEvent,
    input: {} as CallInput,
  },
  actors: {
    claim: claimMachine,
    /** Speech-to-text for the whole call; sends user.speech.* and stt.* events back. */
    stt: fromCallback<CallEvent, { conversationId: string }>(() => () => {}),
    /** One bot turn: dialogue, tools, speech, playback. Sends bot.* events back; cleanup = cancel. */
    respond: fromCallback<CallEvent, RespondInput>(({ sendBack, input }) => {
      sendBack({ type: 'bot.turn.completed', turn: input.turn, hangUp: false });
    }),
    /** Ends the call on the transport (Twilio REST hang-up, socket close). */
    hangUp: fromPromise<void, { reason: string }>(async () => {}),
  },
  actions: {
    /** Barge-in side effects (transport `clear`, playback tracker) — bound by the engine. */
    interruptPlayback: () => {},
    recordStart: assign(({ event }) => {
      if (event.type !== 'call.started') return {};
      return {
        callInfo: {
          callSid: event.callSid ?? null,
          streamSid: event.streamSid ?? null,
          from: event.from ?? null,
          to: event.to ?? null,
          customParameters: event.customParameters ?? {},
        },
      };
    }),
    appendFinal: assign({
      userText: ({ context, event }) =>
        event.type === 'stt.transcript.final' ? appendText(context.userText, event.text) : context.userText,
    }),
    setTypedTurn: assign({
      userText: ({ context, event }) =>
        event.type === 'user.text.received' ? appendText(context.userText, event.text) : context.userText,
    }),
    bufferDtmf: assign(({ context, event }) => {
      if (event.type !== 'dtmf.received') return {};
      const r = applyDtmfDigit(context.dtmfBuffer, event.digit, context.turnPolicy.keypad ?? 'answer');
      return { dtmfBuffer: r.buffer, dtmfEntry: r.complete ?? context.dtmfEntry };
    }),
    beginTurn: assign(({ context }) => ({
      turn: context.turn + 1,
      turnUserText: context.userText,
      userText: '',
      turnDtmf: context.dtmfEntry,
      dtmfEntry: null,
      reason:
        context.reason === 'user' && context.userText.trim() === '' && context.dtmfEntry !== null
          ? ('dtmf' as const)
          : context.reason,
    })),
    markUserTurn: assign({ reason: 'user' as const, idleReprompts: 0, recoveries: 0 }),
    markUnheard: assign({ reason: 'unheard' as const }),
    recordSpeechLength: assign({
      lastSpeechMs: ({ context, event }) =>
        event.type === 'user.speech.stopped' ? event.durationMs : context.lastSpeechMs,
    }),
    markReprompt: assign({
      reason: 'reprompt' as const,
      idleReprompts: ({ context }) => context.idleReprompts + 1,
    }),
    markGoodbye: assign({ reason: 'goodbye' as const, endReason: 'idle' }),
    markRecover: assign({ reason: 'recover' as const, recoveries: ({ context }) => context.recoveries + 1 }),
    countInterruption: assign({ interruptions: ({ context }) => context.interruptions + 1 }),
    setPolicy: assign({
      turnPolicy: ({ context, event }) =>
        event.type === 'bot.turn.policy' ? event.policy : context.turnPolicy,
    }),
    setEndReason: assign({
      endReason: ({ context, event }) =>
        context.endReason ??
        (event.type === 'call.stopped' || event.type === 'call.hang_up'
          ? event.reason
          : event.type === 'bot.turn.completed'
            ? 'completed'
            : 'ended'),
    }),
  },
  guards: {
    hasUserText: ({ context }) => context.userText.trim() !== '',
    hasQueuedInput: ({ context }) => context.userText.trim() !== '' || context.dtmfEntry !== null,
    hasDtmfEntry: ({ context }) => context.dtmfEntry !== null,
    finalEndsTurn: ({ event }) => event.type === 'stt.transcript.final' && event.speechFinal,
    eventHasText: ({ event }) =>
      (event.type === 'stt.transcript.partial' || event.type === 'stt.transcript.final') &&
      event.text.trim() !== '',
    canReprompt: ({ context }) => context.idleReprompts < context.timings.maxIdleReprompts,
    canRecover: ({ context }) => context.recoveries < 2,
    interruptible: ({ context }) => context.turnPolicy.interruptible,
    substantialSpeech: ({ context }) => context.lastSpeechMs >= context.timings.unheardMinSpeechMs,
    noPatience: ({ context }) => context.turnPolicy.endpointingPatienceMs <= 0,
    isBargeIn: ({ context, event }) =>
      context.turnPolicy.interruptible &&
      (event.type === 'stt.transcript.partial' || event.type === 'stt.transcript.final') &&
      isBargeInUtterance(event.text),
    hangUpRequested: ({ event }) => event.type === 'bot.turn.completed' && event.hangUp,
    currentTurn: ({ context, event }) =>
      (event.type === 'bot.turn.completed' ||
        event.type === 'bot.turn.failed' ||
        event.type === 'bot.speech.started' ||
        event.type === 'bot.turn.policy') &&
      event.turn === context.turn,
  },
  delays: {
    connectTimeout: ({ context }) => context.timings.connectTimeoutMs,
    idleTimeout: ({ context }) => context.timings.idleTimeoutMs,
    transcriptWait: ({ context }) => context.timings.transcriptWaitMs,
    userTurnWatchdog: ({ context }) => context.timings.userTurnWatchdogMs,
    thinkingWatchdog: ({ context }) => context.timings.thinkingWatchdogMs,
    hangUpTimeout: ({ context }) => context.timings.hangUpTimeoutMs,
    endpointingPatience: ({ context }) => context.turnPolicy.endpointingPatienceMs,
  },
}).createMachine({
  id: 'call',
  initial: 'connecting',
  context: ({ input }) => ({
    conversationId: input.conversationId,
    channel: input.channel,
    claimInput: input.claim,
    callInfo: { callSid: null, streamSid: null, from: null, to: null, customParameters: {} },
    timings: { ...DEFAULT_CALL_TIMINGS, ...input.timings },
    turn: 0,
    reason: 'greeting',
    userText: '',
    turnUserText: '',
    dtmfBuffer: '',
    dtmfEntry: null,
    turnDtmf: null,
    idleReprompts: 0,
    recoveries: 0,
    interruptions: 0,
    turnPolicy: { interruptible: false, endpointingPatienceMs: 0 },
    lastSpeechMs: 0,
    endReason: null,
  }),
  states: {
    connecting: {
      on: {
        'call.started': { target: 'active', actions: 'recordStart' },
        'call.stopped': { target: 'ended', actions: 'setEndReason' },
      },
      after: { connectTimeout: { target: 'ended', actions: assign({ endReason: 'no_start' }) } },
    },
    active: {
      invoke: [
        { id: 'stt', src: 'stt', input: ({ context }) => ({ conversationId: context.conversationId }) },
        { id: 'claim', systemId: 'claim', src: 'claim', input: ({ context }) => context.claimInput },
      ],
      on: {
        'call.stopped': { target: 'ended', actions: 'setEndReason' },
        'call.hang_up': { target: 'ending', actions: 'setEndReason' },
        'dtmf.received': { actions: 'bufferDtmf' },
      },
      initial: 'responding',
      states: {
        listening: {
          on: {
            'user.speech.started': 'userSpeaking',
            'stt.transcript.partial': { guard: 'eventHasText', target: 'userSpeaking' },
            'stt.transcript.final': [
              { guard: and(['eventHasText', 'finalEndsTurn']), target: 'endOfTurn', actions: 'appendFinal' },
              { guard: 'eventHasText', target: 'userSpeaking', actions: 'appendFinal' },
            ],
            'stt.utterance.ended': { guard: 'hasUserText', target: 'endOfTurn' },
            'user.text.received': { target: 'responding', actions: ['setTypedTurn', 'markUserTurn'] },
            'dtmf.received': { actions: 'bufferDtmf', target: 'checkingDtmf' },
          },
          after: {
            idleTimeout: [
              { guard: 'canReprompt', target: 'responding', actions: 'markReprompt' },
              { target: 'responding', actions: 'markGoodbye' },
            ],
          },
        },
        checkingDtmf: {
          always: [
            { guard: 'hasDtmfEntry', target: 'responding', actions: 'markUserTurn' },
            { target: 'listening' },
          ],
        },
        userSpeaking: {
          initial: 'talking',
          on: {
            'stt.transcript.final': [
              { guard: and(['eventHasText', 'finalEndsTurn']), target: 'endOfTurn', actions: 'appendFinal' },
              { actions: 'appendFinal' },
            ],
            'stt.utterance.ended': [{ guard: 'hasUserText', target: 'endOfTurn' }, { target: 'listening' }],
            'user.text.received': { target: 'responding', actions: ['setTypedTurn', 'markUserTurn'] },
          },
          after: {
            userTurnWatchdog: [
              { guard: 'hasUserText', target: 'responding', actions: 'markUserTurn' },
              { target: 'listening' },
            ],
          },
          states: {
            talking: {
              on: { 'user.speech.stopped': { target: 'awaitingTranscript', actions: 'recordSpeechLength' } },
            },
            awaitingTranscript: {
              on: { 'user.speech.started': 'talking' },
              after: {
                transcriptWait: [
                  { guard: 'hasUserText', target: '#call.active.responding', actions: 'markUserTurn' },
                  { guard: 'substantialSpeech', target: '#call.active.responding', actions: 'markUnheard' },
                  { target: '#call.active.listening' },
                ],
              },
            },
          },
        },
        endOfTurn: {
          always: { guard: 'noPatience', target: 'responding', actions: 'markUserTurn' },
          on: {
            'user.speech.started': 'userSpeaking',
            'stt.transcript.partial': { guard: 'eventHasText', target: 'userSpeaking' },
            'stt.transcript.final': { actions: 'appendFinal' },
            'user.text.received': { target: 'responding', actions: ['setTypedTurn', 'markUserTurn'] },
          },
          after: { endpointingPatience: { target: 'responding', actions: 'markUserTurn' } },
        },
        responding: {
          entry: 'beginTurn',
          invoke: {
            id: 'respond',
            src: 'respond',
            input: ({ context }) => ({
              turn: context.turn,
              reason: context.reason,
              userText: context.turnUserText,
              dtmf: context.turnDtmf,
            }),
          },
          on: {
            'bot.turn.policy': { guard: 'currentTurn', actions: 'setPolicy' },
            'bot.speech.started': { guard: 'currentTurn', target: '.speaking' },
            'bot.turn.completed': [
              {
                guard: and(['currentTurn', 'hangUpRequested']),
                target: '#call.ending',
                actions: 'setEndReason',
              },
              {
                guard: and(['currentTurn', 'hasQueuedInput']),
                target: 'responding',
                reenter: true,
                actions: 'markUserTurn',
              },
              { guard: 'currentTurn', target: 'listening' },
            ],
            'bot.turn.failed': [
              {
                guard: and(['currentTurn', 'canRecover']),
                target: 'responding',
                reenter: true,
                actions: 'markRecover',
              },
              { guard: 'currentTurn', target: '#call.ending', actions: assign({ endReason: 'error' }) },
            ],
            'stt.transcript.final': [
              {
                guard: 'isBargeIn',
                target: 'userSpeaking',
                actions: ['interruptPlayback', 'countInterruption', 'appendFinal'],
              },
              { guard: 'eventHasText', actions: 'appendFinal' },
            ],
            'stt.transcript.partial': {
              guard: 'isBargeIn',
              target: 'userSpeaking',
              actions: ['interruptPlayback', 'countInterruption'],
            },
            'user.text.received': [
              {
                guard: 'interruptible',
                target: 'responding',
                reenter: true,
                actions: ['interruptPlayback', 'countInterruption', 'setTypedTurn', 'markUserTurn'],
              },
              { actions: 'setTypedTurn' },
            ],
          },
          initial: 'thinking',
          states: {
            thinking: {
              after: {
                thinkingWatchdog: [
                  {
                    guard: 'canRecover',
                    target: '#call.active.responding',
                    reenter: true,
                    actions: 'markRecover',
                  },
                  { target: '#call.ending', actions: assign({ endReason: 'stuck' }) },
                ],
              },
            },
            speaking: {},
          },
        },
      },
    },
    ending: {
      invoke: {
        src: 'hangUp',
        input: ({ context }) => ({ reason: context.endReason ?? 'ended' }),
        onDone: 'ended',
        onError: 'ended',
      },
      after: { hangUpTimeout: 'ended' },
    },
    ended: { type: 'final' },
  },
});
