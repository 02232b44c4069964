/**
 * The call machine: the lifecycle of one call and its turn-taking loop.
 *
 *   connecting → active(responding{thinking,speaking} ⇄ listening ⇄ userSpeaking → endOfTurn) → ending → ended
 *                                    ↘ interrupted (a partial cut the bot off) → userSpeaking | resume
 *
 * - `endOfTurn` waits the claim state's endpointing patience when the answer looks unfinished; its
 *   `preparing` state invokes `prepare` (preemptive generation: the reply to the words so far,
 *   held). The patience ending takes it over (`RespondInput.prepared`); any other way out
 *   (the caller goes on) stops `prepare`, which discards it. A patience that ends while the VAD
 *   still hears the caller (the STT ended a segment inside a pause shorter than the VAD's
 *   hangover) waits for the VAD's silence, at most `patienceSilenceWaitMs`: the caller may have
 *   gone on, and the STT shows their next words only later.
 * - Preemptive generation starts earlier when the STT is slower than the VAD (no `speech_final`
 *   yet: a noisy line, or a long endpointing): `userSpeaking.awaitingTranscript.preparingOnSilence`
 *   prepares the reply to the finals in hand plus the stable interim as soon as the VAD hears
 *   silence. The turn that follows takes it over when its words are the same (`preparedText`);
 *   new words or new speech stop it. The patience's own `prepare`, asked for the same turn, lets it
 *   go on.
 * - The claim machine is invoked as a child (`claim`, systemId `claim`) for the whole active call.
 * - `stt` is a long-lived callback actor for the whole active call (speech in, transcripts out).
 * - `respond` (dialogue → sentences → speech → playback) is invoked while `responding`; leaving the
 *   state (barge-in, hang-up) stops it, and its cleanup aborts the LLM request and cancels TTS.
 * - The claim's turn policy (interruptible, endpointing patience, keypad mode) is synced from the
 *   claim child's snapshots (`onSnapshot`), and the call hangs up after the turn in which the claim
 *   reached done (`onDone`).
 * - The machine decides the call: it counts misunderstood turns and offers the keypad, routes
 *   `provider.failed` (STT lost: offer the keypad; LLM / TTS lost: the fallback, with a notice), and
 *   says goodbye when the caller leaves (`caller.goodbye.said`) or stays silent.
 * - Every waiting state has a watchdog (`after`) so no call can hang silent; every invoke has `onError`.
 * - Notices for clients (transcripts, keypad offers, fallbacks) are `emit()`ted (`CallNotice`).
 *
 * Actors here are typed placeholders; `src/session` binds the real ones with `machine.provide(...)`.
 * Events never carry audio: audio is the data plane and never enters a machine.
 */
import {
  and,
  assign,
  emit,
  enqueueActions,
  fromCallback,
  fromPromise,
  not,
  or,
  setup,
  stateIn,
  type StateValue,
} from 'xstate';
import { claimMachine, type ClaimInput, type TurnPolicy } from '../claim/claim.machine.js';
import { claimTurnPolicyOf, finalClaimTurnPolicy, initialClaimTurnPolicy } from '../claim/claim.view.js';
import { answerCompleteness } from '../claim/answer-completeness.js';
import { isBargeInUtterance } from './barge-in.js';
import {
  DEFAULT_TRANSFER_AFTER_MISUNDERSTANDINGS,
  keypadAsksForPerson,
  type TransferCause,
} from './transfer.js';

/** How the call reached us. */
export type CallChannel = 'phone' | 'browser' | 'terminal';

/** Why the keypad is offered: the caller was not understood twice, or speech-to-text is lost. */
export type KeypadOfferReason = 'misunderstood' | 'sttLost';

/** Why a bot turn is being produced. */
export type TurnReason =
  | 'greeting'
  | 'user'
  | 'dtmf'
  | 'unheard'
  | 'reprompt'
  /** The caller stayed silent: the bot says goodbye and hangs up. */
  | 'goodbye'
  /** The caller said goodbye: the bot says goodbye and hangs up without filing. */
  | 'callerGoodbye'
  | 'recover'
  /** A false interruption (noise, a backchannel): the bot says again what the caller did not hear. */
  | 'resume'
  /** The caller is being connected to a person: the bot says so, then the call is redirected. */
  | 'transfer'
  /** The caller asked for a person on a line without transfers: the bot says so and goes on. */
  | 'transferUnavailable'
  /** The redirect to a person failed: the bot apologises and goes on. */
  | 'transferFailed';

/** What the claim made of a finished bot turn: took a value, refused one, or got nothing. */
/**
 * What the claim made of a caller turn. `answered`: nothing to take, but the caller asked or
 * stalled and got an answer ("why do you need that?", "hang on"): not a misunderstanding.
 */
export type TurnOutcome = 'accepted' | 'rejected' | 'answered' | 'none';

/** A provider role that can fail. */
export type ProviderRole = 'stt' | 'llm' | 'tts';

/** Misunderstood caller turns in a row after which the bot offers the keypad. */
export const KEYPAD_OFFER_AFTER = 2;

/** Recovery turns in a row (after a failed or stuck turn) before the call is ended. */
export const MAX_RECOVERIES = 2;

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
  /** Longest one bot turn may keep speaking (playback that never completes) before it is cut. */
  speakingWatchdogMs: number;
  /**
   * After a partial transcript cut the bot off, how long the caller has to say real words (a final
   * with a non-backchannel word) before the interruption is taken as false and the bot resumes.
   * The window waits for the caller's sound to stop (VAD) first.
   */
  falseInterruptionMs: number;
  /**
   * When the endpointing patience ends while the VAD still hears the caller (the STT ended a
   * segment during a pause shorter than the VAD's hangover; the caller may have gone on), how much
   * longer the turn waits for the VAD to hear silence before it is answered anyway.
   */
  patienceSilenceWaitMs: number;
  hangUpTimeoutMs: number;
  /** Longest the carrier may take to redirect the call to a person before the transfer counts as failed. */
  transferTimeoutMs: number;
  /**
   * Multiplies the claim state's endpointing patience (its value stays in the claim meta). 1 on a
   * phone line; tests on a loaded machine stretch it so wall-clock stalls cannot outlast it.
   */
  endpointingPatienceScale: number;
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
  speakingWatchdogMs: 60_000,
  falseInterruptionMs: 1_000,
  patienceSilenceWaitMs: 800,
  hangUpTimeoutMs: 5_000,
  transferTimeoutMs: 10_000,
  endpointingPatienceScale: 1,
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
  /**
   * Whether the caller's speech can be transcribed (default true). False for a voice call with no
   * speech-to-text: the reply to the first unheard utterance already offers the keypad.
   */
  transcribes?: boolean;
  /** Transfer to a person (default: not available). */
  transfer?: Partial<TransferPolicy>;
  /**
   * Preemptive generation: while the endpointing patience runs, prepare the reply to the words so
   * far (held, unheard) and commit it if the caller says nothing more. Default true.
   */
  preemptive?: boolean;
}

/** Whether this call can be transferred to a person, and when the machine does it by itself. */
export interface TransferPolicy {
  /** The carrier can redirect the call (a phone call with TRANSFER_NUMBER set). */
  available: boolean;
  /** Misunderstood turns in a row after which the call is transferred; 0: never by itself. */
  afterMisunderstandings: number;
}

/** What the `transfer` actor is asked to do: redirect the live call to a person. */
export interface TransferInput {
  cause: TransferCause;
}

/** What the `respond` actor is asked to do for one bot turn. */
export interface RespondInput {
  turn: number;
  reason: TurnReason;
  /** The caller's words that this turn answers ('' for greeting/reprompt). */
  userText: string;
  /** A completed keypad entry (`1`, `2`, `03032026`, `1250*50`) or null. */
  dtmf: string | null;
  /** The machine wants the keypad offered this turn, and why; null: no offer. */
  keypadOffer: KeypadOfferReason | null;
  /** Which dialogue answers: the fallback once the LLM is lost for the call. */
  dialogue: 'primary' | 'fallback';
  /** Reason `resume`: the cut turn whose unheard rest is spoken again; else null. */
  resumeTurn: number | null;
  /**
   * The machine takes over the reply the `prepare` actor prepared for this very input during the
   * endpointing patience (the caller said nothing more). False or absent: a fresh turn.
   */
  prepared?: boolean;
}

/** What the call machine tells clients (browser UI, terminal, tests), through `emit()`. */
export type CallNotice =
  | { type: 'transcript.partial'; text: string }
  | { type: 'transcript.final'; text: string }
  | { type: 'keypad.offered'; turn: number; reason: KeypadOfferReason }
  /** The caller asked for a person (or was not understood too often); `available`: a transfer follows. */
  | { type: 'transfer.requested'; turn: number; cause: TransferCause; available: boolean }
  | {
      type: 'provider.fallback';
      provider: ProviderRole;
      /** `call`: for the rest of the call; `turn`: this turn only (a retryable LLM failure). */
      scope: 'call' | 'turn';
      message: string;
    };

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
  | { type: 'bot.speech.started'; turn: number }
  | { type: 'bot.turn.completed'; turn: number; outcome: TurnOutcome }
  | { type: 'bot.turn.failed'; turn: number; message: string }
  /** The dialogue heard the caller leave (local: "goodbye"; LLM: the `caller_goodbye_said` tool). */
  | { type: 'caller.goodbye.said'; turn: number }
  /** The dialogue heard the caller ask for a person (local: "an agent, please"; LLM: `caller_transfer_requested`). */
  | { type: 'caller.transfer.requested'; turn: number }
  | {
      type: 'provider.failed';
      provider: ProviderRole;
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
  /** The claim state's turn policy, synced from the claim child's snapshots. */
  turnPolicy: TurnPolicy;
  /** Caller turns in a row that the claim took nothing from (an unheard turn counts too). */
  misunderstandings: number;
  /** The keypad offer of the current turn (see `RespondInput`). */
  keypadOffer: KeypadOfferReason | null;
  /** Speech recognition is gone for the call: every prompt offers the keypad. */
  sttLost: boolean;
  /** The caller's speech can be transcribed (see `CallInput.transcribes`). */
  transcribes: boolean;
  /** The LLM is gone for the call: the fallback dialogue answers every turn. */
  llmLost: boolean;
  /** The voice fell back to the fallback TTS. */
  ttsLost: boolean;
  /** The claim child reached its final state: the call ends after the current bot turn. */
  claimDone: boolean;
  /** Duration of the caller's last stretch of speech (VAD), ms. */
  lastSpeechMs: number;
  /** The VAD hears the caller now (tracked while the bot speaks and after an interruption). */
  callerTalking: boolean;
  /** The bot turn the last provisional barge-in cut (what a `resume` turn continues). */
  resumeTurn: number | null;
  /** Transfer to a person: available on this call? after how many misunderstood turns? */
  transfer: TransferPolicy;
  /** Why the call is being transferred (set when it enters `transferring`). */
  transferCause: TransferCause | null;
  /** Preemptive generation is on for the call (see `CallInput.preemptive`). */
  preemptive: boolean;
  /**
   * The latest interim transcript of the caller's current segment (no final covers it yet); the
   * words a reply prepared on VAD silence starts from, with `userText`.
   */
  pendingPartial: string;
  /** The caller text the reply being prepared answers (null: none since the last bot turn). */
  preparedText: string | null;
  /** The endpointing patience ran out while the VAD still heard the caller: silence decides. */
  patienceOver: boolean;
  /** The patience ended with the prepared reply still current: the next turn takes it over. */
  takePrepared: boolean;
  /** The current bot turn took over the prepared reply. */
  turnPrepared: boolean;
  endReason: string | null;
}

const appendText = (a: string, b: string) => (a && b ? `${a} ${b}` : a || b).trim();

/** What entering `responding` makes of the context: the next bot turn's number, input and flags. */
function nextTurnOf(context: CallContext) {
  return {
    turn: context.turn + 1,
    keypadOffer: context.sttLost
      ? ('sttLost' as const)
      : context.misunderstandings >= KEYPAD_OFFER_AFTER ||
          (context.reason === 'unheard' && !context.transcribes)
        ? ('misunderstood' as const)
        : null,
    // A resume turn answers nobody: words queued meanwhile wait for the turn after it.
    turnUserText: context.reason === 'resume' ? '' : context.userText,
    userText: context.reason === 'resume' ? context.userText : '',
    turnDtmf: context.dtmfEntry,
    dtmfEntry: null,
    reason:
      context.reason === 'user' && context.userText.trim() === '' && context.dtmfEntry !== null
        ? ('dtmf' as const)
        : context.reason,
    turnPrepared: context.takePrepared,
    takePrepared: false,
    pendingPartial: '',
    preparedText: null,
  };
}

/** The `respond` actor's input for the current turn. */
function respondInputOf(context: CallContext): RespondInput {
  return {
    turn: context.turn,
    reason: context.reason,
    userText: context.turnUserText,
    dtmf: context.turnDtmf,
    keypadOffer: context.keypadOffer,
    dialogue: context.llmLost ? 'fallback' : 'primary',
    resumeTurn: context.reason === 'resume' ? context.resumeTurn : null,
    prepared: context.turnPrepared,
  };
}

/**
 * The input the caller's turn will get if the patience ends now (what `prepare` prepares): the
 * same computation as entering `responding` after `markUserTurn`, so a committed turn matches it.
 */
export function preparedInputOf(context: CallContext): RespondInput {
  return preparedInputFor(context, context.userText);
}

/** What `prepare` prepares on VAD silence: the turn as if the finals so far and the interim were all. */
export function silencePreparedInputOf(context: CallContext): RespondInput {
  return preparedInputFor(context, appendText(context.userText, context.pendingPartial));
}

/**
 * The input the caller's turn gets if its words turn out to be `userText` (the finals so far plus
 * the stable interim, for a reply prepared on VAD silence).
 */
function preparedInputFor(context: CallContext, userText: string): RespondInput {
  const user = { ...context, userText, reason: 'user' as const, takePrepared: false };
  return { ...respondInputOf({ ...user, ...nextTurnOf(user) }), prepared: false };
}

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

/** Why a person is asked for: what the event says, else the cause already known, else misunderstandings. */
function transferCauseOf(event: CallEvent, known: TransferCause | null): TransferCause {
  if (event.type === 'caller.transfer.requested') return 'caller';
  if (event.type === 'dtmf.received') return 'keypad';
  return known ?? 'misunderstood';
}

/** The call machine definition (see file header). */
export const callMachine = setup({
  types: {
    context: {} as CallContext,
    events: {} as CallEvent,
    input: {} as CallInput,
    emitted: {} as CallNotice,
  },
  actors: {
    claim: claimMachine,
    /** Speech-to-text for the whole call; sends user.speech.* and stt.* events back. */
    stt: fromCallback<CallEvent, { conversationId: string }>(() => () => {}),
    /** One bot turn: dialogue, tools, speech, playback. Sends bot.* events back; cleanup = cancel. */
    respond: fromCallback<CallEvent, RespondInput>(({ sendBack, input }) => {
      sendBack({ type: 'bot.turn.completed', turn: input.turn, outcome: 'none' });
    }),
    /** Redirects the live call to a person (Twilio REST `<Dial>`); rejects when it cannot. */
    transfer: fromPromise<void, TransferInput>(async () => {}),
    /**
     * Preemptive generation: prepares the reply to the caller's words so far while the endpointing
     * patience runs, held (nothing reaches the caller, the conversation or the claim). `respond`
     * takes it over when the turn is confirmed unchanged; stopping it unclaimed discards it
     * (LLM request aborted, TTS cancelled). Sends nothing back.
     */
    prepare: fromCallback<CallEvent, RespondInput>(() => () => {}),
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
      // A final covers the segment its interims showed.
      pendingPartial: '',
    }),
    /** An interim transcript of the current segment: the words a reply prepared on silence uses. */
    notePartial: assign({
      pendingPartial: ({ context, event }) =>
        event.type === 'stt.transcript.partial' ? event.text.trim() : context.pendingPartial,
    }),
    /** A reply is being prepared for the caller's words as they stand (finals + stable interim). */
    notePreparedText: assign({
      preparedText: ({ context }) => appendText(context.userText, context.pendingPartial),
    }),
    /** The turn about to begin takes over the reply prepared on silence when its words are the same. */
    takePreparedIfCurrent: assign({
      takePrepared: ({ context }) =>
        context.takePrepared || (context.preparedText !== null && context.preparedText === context.userText),
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
    beginTurn: assign(({ context }) => nextTurnOf(context)),
    /** The patience ended while the prepared reply was current: the turn about to begin takes it. */
    takePrepared: assign({ takePrepared: true }),
    /** The patience is over: the turn takes the reply `endOfTurn` holds, if it holds one. */
    takePreparedIfHeld: enqueueActions(({ enqueue, check }) => {
      // (`stateIn` is typed for transitions; `check` evaluates it the same way.)
      if (check(stateIn('#call.active.endOfTurn.preparing') as never)) enqueue.assign({ takePrepared: true });
    }),
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
    markCallerGoodbye: assign({ reason: 'callerGoodbye' as const, endReason: 'caller_left' }),
    /** Counts a finished caller turn the claim took nothing from; an accepted answer resets it. */
    countOutcome: assign({
      misunderstandings: ({ context, event }) => {
        if (event.type !== 'bot.turn.completed') return context.misunderstandings;
        if (context.reason === 'unheard') return context.misunderstandings + 1;
        if (context.reason !== 'user' && context.reason !== 'dtmf') return context.misunderstandings;
        if (event.outcome === 'accepted') return 0;
        const understood = event.outcome === 'rejected' || event.outcome === 'answered';
        return understood ? context.misunderstandings : context.misunderstandings + 1;
      },
    }),
    /** Tells clients the keypad is offered this turn (after `beginTurn` decided it). */
    emitKeypadOffer: enqueueActions(({ context, enqueue }) => {
      if (context.keypadOffer !== null)
        enqueue.emit({ type: 'keypad.offered', turn: context.turn, reason: context.keypadOffer });
    }),
    emitPartial: emit(({ event }) => ({
      type: 'transcript.partial' as const,
      text: event.type === 'stt.transcript.partial' ? event.text : '',
    })),
    emitFinal: emit(({ event }) => ({
      type: 'transcript.final' as const,
      text: event.type === 'stt.transcript.final' ? event.text : '',
    })),
    syncClaimPolicy: assign({
      turnPolicy: ({ context, event }) => {
        const snapshot = (event as { snapshot?: { value?: StateValue } }).snapshot;
        return snapshot?.value !== undefined ? claimTurnPolicyOf(snapshot.value) : context.turnPolicy;
      },
    }),
    markClaimDone: assign({ claimDone: true, turnPolicy: finalClaimTurnPolicy }),
    /** STT lost: offer the keypad; LLM lost for good: the fallback dialogue; TTS: the fallback voice. */
    markProviderLost: assign(({ context, event }) => {
      if (event.type !== 'provider.failed') return { sttLost: true };
      if (event.provider === 'stt') return { sttLost: true };
      if (event.provider === 'tts') return { ttsLost: true };
      return { llmLost: context.llmLost || !event.retryable };
    }),
    emitProviderFallback: emit(({ event }) => {
      if (event.type !== 'provider.failed') {
        return {
          type: 'provider.fallback' as const,
          provider: 'stt' as const,
          scope: 'call' as const,
          message: 'speech recognition stopped',
        };
      }
      return {
        type: 'provider.fallback' as const,
        provider: event.provider,
        scope: event.provider === 'llm' && event.retryable ? ('turn' as const) : ('call' as const),
        message: (event.message ?? '').slice(0, 200),
      };
    }),
    markRecover: assign({ reason: 'recover' as const, recoveries: ({ context }) => context.recoveries + 1 }),
    countInterruption: assign({ interruptions: ({ context }) => context.interruptions + 1 }),
    markCallerTalking: assign({ callerTalking: true }),
    markCallerSilent: assign({ callerTalking: false }),
    /** A partial cut the bot off: remember the turn, in case the interruption proves false. */
    rememberCutTurn: assign({ resumeTurn: ({ context }) => context.turn }),
    markResume: assign({ reason: 'resume' as const }),
    /** The call goes to a person; the cause comes from what asked for it. */
    markTransfer: assign(({ event }) => ({
      reason: 'transfer' as const,
      transferCause: transferCauseOf(event, null),
      misunderstandings: 0,
      dtmfBuffer: '',
    })),
    markTransferUnavailable: assign({ reason: 'transferUnavailable' as const, dtmfBuffer: '' }),
    /** The redirect failed: not retried on this call (a later request hears "not available"). */
    markTransferFailed: assign(({ context }) => ({
      reason: 'transferFailed' as const,
      endReason: null,
      transferCause: null,
      transfer: { ...context.transfer, available: false },
    })),
    /** Tells clients a person was asked for, and whether a transfer follows. */
    emitTransferRequested: emit(({ context, event }) => ({
      type: 'transfer.requested' as const,
      turn: context.turn,
      cause: transferCauseOf(event, context.transferCause),
      available: context.transfer.available,
    })),
    setEndReason: assign({
      endReason: ({ context, event }) =>
        context.endReason ??
        (event.type === 'call.stopped' || event.type === 'call.hang_up'
          ? event.reason
          : context.claimDone
            ? 'completed'
            : 'ended'),
    }),
  },
  guards: {
    hasUserText: ({ context }) => context.userText.trim() !== '',
    /** A transfer can start now: the carrier can redirect and the call is not already over. */
    canTransfer: ({ context }) =>
      context.transfer.available &&
      !(context.claimDone || context.reason === 'goodbye' || context.reason === 'callerGoodbye'),
    /** This keypad digit asks for a person (see `keypadAsksForPerson`). */
    keypadAsksForPerson: ({ context, event }) =>
      event.type === 'dtmf.received' &&
      keypadAsksForPerson(context.dtmfBuffer, event.digit, context.turnPolicy.keypad ?? 'answer'),
    /** The caller was misunderstood too many turns in a row for this call's transfer policy. */
    misunderstoodTooOften: ({ context }) =>
      context.transfer.afterMisunderstandings > 0 &&
      context.misunderstandings >= context.transfer.afterMisunderstandings,
    hasQueuedInput: ({ context }) => context.userText.trim() !== '' || context.dtmfEntry !== null,
    hasDtmfEntry: ({ context }) => context.dtmfEntry !== null,
    finalEndsTurn: ({ event }) => event.type === 'stt.transcript.final' && event.speechFinal,
    eventHasText: ({ event }) =>
      (event.type === 'stt.transcript.partial' || event.type === 'stt.transcript.final') &&
      event.text.trim() !== '',
    canReprompt: ({ context }) => context.idleReprompts < context.timings.maxIdleReprompts,
    canRecover: ({ context }) => context.recoveries < MAX_RECOVERIES,
    /** After this turn the call is over: the claim is done, or the bot is saying goodbye. */
    callOver: ({ context }) =>
      context.claimDone || context.reason === 'goodbye' || context.reason === 'callerGoodbye',
    /** The bot is saying goodbye (a failed goodbye turn ends the call instead of recovering). */
    leaving: ({ context }) => context.reason === 'goodbye' || context.reason === 'callerGoodbye',
    interruptible: ({ context }) => context.turnPolicy.interruptible,
    substantialSpeech: ({ context }) => context.lastSpeechMs >= context.timings.unheardMinSpeechMs,
    noPatience: ({ context }) => context.turnPolicy.endpointingPatienceMs <= 0,
    preemptive: ({ context }) => context.preemptive,
    /** The caller's words so far (finals, or the latest interim) are something to prepare a reply for. */
    hasWordsSoFar: ({ context }) => appendText(context.userText, context.pendingPartial) !== '',
    /** A final transcript with a real word (not only backchannels or fillers). */
    finalHasWords: ({ event }) => event.type === 'stt.transcript.final' && isBargeInUtterance(event.text),
    callerTalking: ({ context }) => context.callerTalking,
    patienceOver: ({ context }) => context.patienceOver,
    /** Semantic endpointing: the caller's words already hold a whole answer to the state's question. */
    answerComplete: ({ context }) =>
      answerCompleteness(context.userText, context.turnPolicy.expects) === 'complete',
    /** This final completes the answer (the caller went on during the patience and finished it). */
    finalCompletesAnswer: ({ context, event }) =>
      event.type === 'stt.transcript.final' &&
      event.text.trim() !== '' &&
      answerCompleteness(appendText(context.userText, event.text), context.turnPolicy.expects) === 'complete',
    isBargeIn: ({ context, event }) =>
      context.turnPolicy.interruptible &&
      (event.type === 'stt.transcript.partial' || event.type === 'stt.transcript.final') &&
      isBargeInUtterance(event.text),
    currentTurn: ({ context, event }) =>
      (event.type === 'bot.turn.completed' ||
        event.type === 'bot.turn.failed' ||
        event.type === 'bot.speech.started' ||
        event.type === 'caller.goodbye.said' ||
        event.type === 'caller.transfer.requested') &&
      event.turn === context.turn,
  },
  delays: {
    connectTimeout: ({ context }) => context.timings.connectTimeoutMs,
    idleTimeout: ({ context }) => context.timings.idleTimeoutMs,
    transcriptWait: ({ context }) => context.timings.transcriptWaitMs,
    userTurnWatchdog: ({ context }) => context.timings.userTurnWatchdogMs,
    thinkingWatchdog: ({ context }) => context.timings.thinkingWatchdogMs,
    speakingWatchdog: ({ context }) => context.timings.speakingWatchdogMs,
    falseInterruption: ({ context }) => context.timings.falseInterruptionMs,
    hangUpTimeout: ({ context }) => context.timings.hangUpTimeoutMs,
    transferTimeout: ({ context }) => context.timings.transferTimeoutMs,
    endpointingPatience: ({ context }) =>
      context.turnPolicy.endpointingPatienceMs * context.timings.endpointingPatienceScale,
    /** The patience, then at most `patienceSilenceWaitMs` for the VAD to hear silence. */
    patienceSilenceCap: ({ context }) =>
      context.turnPolicy.endpointingPatienceMs * context.timings.endpointingPatienceScale +
      context.timings.patienceSilenceWaitMs,
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
    turnPolicy: initialClaimTurnPolicy,
    misunderstandings: 0,
    keypadOffer: null,
    sttLost: false,
    transcribes: input.transcribes ?? true,
    llmLost: false,
    ttsLost: false,
    claimDone: false,
    lastSpeechMs: 0,
    callerTalking: false,
    resumeTurn: null,
    transfer: {
      available: input.transfer?.available ?? false,
      afterMisunderstandings:
        input.transfer?.afterMisunderstandings ?? DEFAULT_TRANSFER_AFTER_MISUNDERSTANDINGS,
    },
    transferCause: null,
    preemptive: input.preemptive ?? true,
    pendingPartial: '',
    preparedText: null,
    patienceOver: false,
    takePrepared: false,
    turnPrepared: false,
    endReason: null,
  }),
  states: {
    connecting: {
      on: {
        'call.started': { target: 'active', actions: 'recordStart' },
        'call.stopped': { target: 'ended', actions: 'setEndReason' },
      },
      // The transport never said the call started: hang up (closes its socket), do not just stop.
      after: { connectTimeout: { target: 'ending', actions: assign({ endReason: 'no_start' }) } },
    },
    active: {
      invoke: [
        {
          id: 'stt',
          src: 'stt',
          input: ({ context }) => ({ conversationId: context.conversationId }),
          onError: { actions: ['markProviderLost', 'emitProviderFallback'] },
        },
        {
          id: 'claim',
          systemId: 'claim',
          src: 'claim',
          input: ({ context }) => context.claimInput,
          onSnapshot: { actions: 'syncClaimPolicy' },
          onDone: { actions: 'markClaimDone' },
          onError: { target: '#call.ending', actions: assign({ endReason: 'error' }) },
        },
      ],
      on: {
        'call.stopped': { target: 'ended', actions: 'setEndReason' },
        'call.hang_up': { target: 'ending', actions: 'setEndReason' },
        'dtmf.received': [
          {
            // The bot may be speaking: what is still queued at the caller is dropped first.
            guard: and(['keypadAsksForPerson', 'canTransfer']),
            target: '.transferring',
            actions: ['interruptPlayback', 'markTransfer'],
          },
          {
            guard: 'keypadAsksForPerson',
            target: '.responding',
            actions: ['markTransferUnavailable', 'emitTransferRequested'],
          },
          { actions: 'bufferDtmf' },
        ],
        'caller.transfer.requested': [
          { guard: and(['currentTurn', 'canTransfer']), target: '.transferring', actions: 'markTransfer' },
          {
            guard: 'currentTurn',
            target: '.responding',
            actions: ['markTransferUnavailable', 'emitTransferRequested'],
          },
        ],
        'caller.goodbye.said': {
          guard: not('callOver'),
          target: '.responding',
          actions: 'markCallerGoodbye',
        },
        'provider.failed': { actions: ['markProviderLost', 'emitProviderFallback'] },
        // Transcripts that no state below takes still reach clients.
        'stt.transcript.partial': { actions: 'emitPartial' },
        'stt.transcript.final': { actions: 'emitFinal' },
      },
      initial: 'responding',
      states: {
        listening: {
          // Misunderstood too often on a line that can transfer: a person takes over.
          always: {
            guard: and(['misunderstoodTooOften', 'canTransfer']),
            target: 'transferring',
            actions: 'markTransfer',
          },
          on: {
            'user.speech.started': 'userSpeaking',
            'stt.transcript.partial': {
              guard: 'eventHasText',
              target: 'userSpeaking',
              actions: 'emitPartial',
            },
            'stt.transcript.final': [
              {
                guard: and(['eventHasText', 'finalEndsTurn']),
                target: 'endOfTurn',
                actions: ['appendFinal', 'emitFinal'],
              },
              { guard: 'eventHasText', target: 'userSpeaking', actions: ['appendFinal', 'emitFinal'] },
            ],
            'stt.utterance.ended': { guard: 'hasUserText', target: 'endOfTurn' },
            'user.text.received': { target: 'responding', actions: ['setTypedTurn', 'markUserTurn'] },
            // The key for a person is taken by `active` (as in every state).
            'dtmf.received': {
              guard: not('keypadAsksForPerson'),
              actions: 'bufferDtmf',
              target: 'checkingDtmf',
            },
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
            'stt.transcript.partial': { guard: 'eventHasText', actions: ['notePartial', 'emitPartial'] },
            'stt.transcript.final': [
              {
                guard: and(['eventHasText', 'finalEndsTurn']),
                target: 'endOfTurn',
                actions: ['appendFinal', 'emitFinal'],
              },
              { actions: ['appendFinal', 'emitFinal'] },
            ],
            'stt.utterance.ended': [{ guard: 'hasUserText', target: 'endOfTurn' }, { target: 'listening' }],
            'user.text.received': { target: 'responding', actions: ['setTypedTurn', 'markUserTurn'] },
          },
          after: {
            userTurnWatchdog: [
              {
                guard: 'hasUserText',
                target: 'responding',
                actions: ['markUserTurn', 'takePreparedIfCurrent'],
              },
              { target: 'listening' },
            ],
          },
          states: {
            talking: {
              entry: 'markCallerTalking',
              on: { 'user.speech.stopped': { target: 'awaitingTranscript', actions: 'recordSpeechLength' } },
            },
            /**
             * The VAD says the caller stopped; the STT has not ended the turn yet (no speech_final:
             * a noisy line, or endpointing longer than the VAD's hangover). With words in hand (the
             * finals so far, or a stable interim: unchanged through the VAD's hangover), the reply to
             * them is prepared, held, right away (preemptive generation): the turn that follows
             * takes it over when its words are the same, and new words discard it.
             */
            awaitingTranscript: {
              entry: 'markCallerSilent',
              on: {
                'user.speech.started': 'talking',
                'stt.transcript.final': [
                  {
                    guard: and(['eventHasText', 'finalEndsTurn']),
                    target: '#call.active.endOfTurn',
                    actions: ['appendFinal', 'emitFinal'],
                  },
                  // The words in hand changed (a flushed segment): prepare for them (the same
                  // words as prepared: the held reply goes on).
                  { guard: 'eventHasText', target: '.checking', actions: ['appendFinal', 'emitFinal'] },
                  { actions: 'emitFinal' },
                ],
              },
              after: {
                transcriptWait: [
                  {
                    guard: 'hasUserText',
                    target: '#call.active.responding',
                    actions: ['markUserTurn', 'takePreparedIfCurrent'],
                  },
                  { guard: 'substantialSpeech', target: '#call.active.responding', actions: 'markUnheard' },
                  { target: '#call.active.listening' },
                ],
              },
              initial: 'checking',
              states: {
                checking: {
                  always: [
                    { guard: and(['preemptive', 'hasWordsSoFar']), target: 'preparingOnSilence' },
                    { target: 'waiting' },
                  ],
                },
                preparingOnSilence: {
                  entry: 'notePreparedText',
                  on: {
                    // More words while the caller is silent to the VAD: what was prepared is stale.
                    'stt.transcript.partial': {
                      guard: 'eventHasText',
                      target: 'waiting',
                      actions: ['notePartial', 'emitPartial'],
                    },
                  },
                  invoke: {
                    id: 'prepare',
                    src: 'prepare',
                    input: ({ context }) => silencePreparedInputOf(context),
                    onError: { target: 'waiting' },
                  },
                },
                waiting: {},
              },
            },
          },
        },
        endOfTurn: {
          entry: assign({ patienceOver: false }),
          always: {
            guard: or(['noPatience', 'answerComplete']),
            target: 'responding',
            actions: ['markUserTurn', 'takePreparedIfCurrent'],
          },
          on: {
            'user.speech.started': 'userSpeaking',
            // The caller fell silent to the VAD: after the patience, that confirms the turn.
            'user.speech.stopped': [
              {
                guard: 'patienceOver',
                target: 'responding',
                actions: ['markCallerSilent', 'recordSpeechLength', 'markUserTurn', 'takePreparedIfHeld'],
              },
              { actions: ['markCallerSilent', 'recordSpeechLength'] },
            ],
            'stt.transcript.partial': {
              guard: 'eventHasText',
              target: 'userSpeaking',
              actions: 'emitPartial',
            },
            'stt.transcript.final': [
              {
                guard: 'finalCompletesAnswer',
                target: 'responding',
                actions: ['appendFinal', 'emitFinal', 'markUserTurn', 'takePreparedIfCurrent'],
              },
              // More words, still unfinished: prepare again for the longer text (patience goes on).
              { guard: 'eventHasText', target: '.preparing', actions: ['appendFinal', 'emitFinal'] },
              { actions: 'emitFinal' },
            ],
            'user.text.received': { target: 'responding', actions: ['setTypedTurn', 'markUserTurn'] },
          },
          after: {
            endpointingPatience: [
              // The VAD still hears the caller (the STT ended a segment inside a short pause, and
              // the caller may have gone on): the VAD's silence confirms the turn, not the clock.
              { guard: 'callerTalking', actions: assign({ patienceOver: true }) },
              // The turn is confirmed: the reply held during the patience (if any) goes out.
              { target: 'responding', actions: ['markUserTurn', 'takePreparedIfHeld'] },
            ],
            // The VAD never fell silent (steady noise): answer anyway.
            patienceSilenceCap: { target: 'responding', actions: ['markUserTurn', 'takePreparedIfHeld'] },
          },
          initial: 'preparing',
          states: {
            /**
             * Preemptive generation: the reply to the words so far is prepared, held, while the
             * patience runs. Leaving `endOfTurn` any other way than by the patience ending (the caller
             * goes on, a final completes the answer) discards it.
             */
            preparing: {
              always: { guard: not('preemptive'), target: 'unprepared' },
              invoke: {
                id: 'prepare',
                src: 'prepare',
                input: ({ context }) => preparedInputOf(context),
                onError: { target: 'unprepared' },
              },
            },
            /** Waiting out the patience with nothing prepared (switched off, or the preparation failed). */
            unprepared: {},
          },
        },
        /**
         * A partial transcript cut the bot off. The interruption stands once a final brings a real
         * word; noise or a backchannel (no such final while the caller makes sound and within
         * `falseInterruptionMs` after it stops, or the STT ends the utterance) is a false
         * interruption: the bot resumes what the caller did not hear of the cut turn.
         */
        interrupted: {
          on: {
            'stt.transcript.final': [
              {
                guard: and(['finalHasWords', 'finalEndsTurn']),
                target: 'endOfTurn',
                actions: ['appendFinal', 'emitFinal'],
              },
              { guard: 'finalHasWords', target: 'userSpeaking', actions: ['appendFinal', 'emitFinal'] },
              // A backchannel or noise: shown to clients, not the caller's turn.
              { actions: 'emitFinal' },
            ],
            'stt.utterance.ended': { target: 'responding', actions: 'markResume' },
            'user.text.received': { target: 'responding', actions: ['setTypedTurn', 'markUserTurn'] },
          },
          after: { userTurnWatchdog: { target: 'responding', actions: 'markResume' } },
          initial: 'window',
          states: {
            window: {
              on: {
                'user.speech.started': { actions: 'markCallerTalking' },
                'user.speech.stopped': { actions: ['markCallerSilent', 'recordSpeechLength'] },
              },
              after: {
                falseInterruption: [
                  { guard: 'callerTalking', target: 'lingering' },
                  { target: '#call.active.responding', actions: 'markResume' },
                ],
              },
            },
            // The caller still makes sound: wait for it to stop, then give the STT the window again.
            lingering: {
              on: {
                'user.speech.stopped': {
                  target: 'window',
                  actions: ['markCallerSilent', 'recordSpeechLength'],
                },
              },
            },
          },
        },
        responding: {
          entry: ['beginTurn', 'emitKeypadOffer'],
          invoke: {
            id: 'respond',
            src: 'respond',
            input: ({ context }) => respondInputOf(context),
            onError: [
              { guard: 'leaving', target: '#call.ending' },
              { guard: 'canRecover', target: 'responding', reenter: true, actions: 'markRecover' },
              { target: '#call.ending', actions: assign({ endReason: 'error' }) },
            ],
          },
          on: {
            'bot.speech.started': { guard: 'currentTurn', target: '.speaking' },
            'bot.turn.completed': [
              { guard: and(['currentTurn', 'callOver']), target: '#call.ending', actions: 'setEndReason' },
              {
                guard: and(['currentTurn', 'hasQueuedInput']),
                target: 'responding',
                reenter: true,
                actions: ['countOutcome', 'markUserTurn'],
              },
              { guard: 'currentTurn', target: 'listening', actions: 'countOutcome' },
            ],
            'bot.turn.failed': [
              { guard: and(['currentTurn', 'leaving']), target: '#call.ending' },
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
                actions: ['interruptPlayback', 'countInterruption', 'appendFinal', 'emitFinal'],
              },
              { guard: 'eventHasText', actions: ['appendFinal', 'emitFinal'] },
            ],
            // A partial is provisional: the bot stops at once, and resumes if no real words follow.
            'stt.transcript.partial': {
              guard: 'isBargeIn',
              target: 'interrupted',
              actions: ['interruptPlayback', 'countInterruption', 'rememberCutTurn', 'emitPartial'],
            },
            'user.speech.started': { actions: 'markCallerTalking' },
            'user.speech.stopped': { actions: ['markCallerSilent', 'recordSpeechLength'] },
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
                  { guard: 'leaving', target: '#call.ending' },
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
            speaking: {
              // Playback that never completes (lost marks, a stalled voice): the turn is taken as
              // finished, so the call goes on (or ends, if it was the last turn).
              after: {
                speakingWatchdog: [
                  {
                    guard: 'callOver',
                    target: '#call.ending',
                    actions: ['interruptPlayback', 'setEndReason'],
                  },
                  { target: '#call.active.listening', actions: 'interruptPlayback' },
                ],
              },
            },
          },
        },
        /**
         * The call goes to a person: the bot says so (not interruptible: the caller asked for this),
         * then, once that sentence has played, the carrier redirects the live call (Twilio REST
         * `<Dial>`). Done: the call is `transferred` and leaves us (no hang-up of the caller). A
         * failed or stuck redirect: the bot apologises and the claim goes on here.
         */
        transferring: {
          entry: ['beginTurn', 'emitTransferRequested'],
          // Keys and words are the agent's business now; transcripts still reach clients (above).
          on: { 'dtmf.received': { actions: [] }, 'user.text.received': { actions: [] } },
          initial: 'announcing',
          states: {
            announcing: {
              invoke: {
                id: 'respond',
                src: 'respond',
                input: ({ context }) => ({
                  turn: context.turn,
                  reason: 'transfer' as const,
                  userText: context.turnUserText,
                  dtmf: null,
                  keypadOffer: null,
                  dialogue: 'fallback' as const,
                  resumeTurn: null,
                }),
                onError: { target: 'redirecting' },
              },
              on: {
                'bot.turn.completed': { guard: 'currentTurn', target: 'redirecting' },
                // Not heard in full is better than not transferred at all.
                'bot.turn.failed': { guard: 'currentTurn', target: 'redirecting' },
              },
              after: { thinkingWatchdog: { target: 'redirecting', actions: 'interruptPlayback' } },
            },
            redirecting: {
              // Set first: the carrier may stop the stream before the redirect's answer arrives.
              entry: assign({ endReason: 'transferred' }),
              invoke: {
                id: 'transfer',
                src: 'transfer',
                input: ({ context }) => ({ cause: context.transferCause ?? 'caller' }),
                onDone: { target: '#call.ending' },
                onError: { target: '#call.active.responding', actions: 'markTransferFailed' },
              },
              after: {
                transferTimeout: { target: '#call.active.responding', actions: 'markTransferFailed' },
              },
            },
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
