/**
 * Shapes shared by the call session and the transports that carry a call (Twilio media stream,
 * browser WebSocket, terminal).
 */
import type { CallbackLogicFunction } from 'xstate';
import type { CallChannel, CallEvent, CallNotice, CallTimings } from '../../machines/call/call.machine.js';
import type { TransferCause, TransferClaimSummary } from '../../machines/call/transfer.js';
import type {
  ConversationPatch,
  MessageRow,
  MetricsRow,
  NewConversation,
  TransitionRow,
} from '../store/types.js';
import type { TurnTiming } from '../metrics/conversation-metrics.js';
import type { Speaker } from '../providers/types.js';

/**
 * Where a session's records go. Every method is synchronous and never throws: implementations
 * enqueue into the outbox, which writes in the background (never on the audio path).
 */
export interface ConversationWriter {
  createConversation(row: NewConversation): void;
  updateConversation(id: string, patch: ConversationPatch): void;
  appendTransitions(rows: TransitionRow[]): void;
  upsertMessages(rows: MessageRow[]): void;
  upsertMetrics(row: MetricsRow): void;
}

/** What a session tells its observers (browser UI, terminal chat, tests). Never audio. */
export type SessionNotice =
  | { type: 'session.started'; conversationId: string; claimId: string; channel: CallChannel }
  | { type: 'state.changed'; actor: 'call' | 'claim'; value: unknown; event: string }
  | {
      type: 'claim.updated';
      claim: {
        claimId: string;
        claimDate: string | null;
        claimAmount: number | null;
        claimStatus: string;
        state: string;
        path: string;
      };
    }
  /** Transcripts, keypad offers, provider fallbacks: what the call machine `emit()`s. */
  | CallNotice
  | { type: 'user.turn'; turn: number; text: string }
  | { type: 'bot.turn.started'; turn: number }
  | { type: 'bot.text'; turn: number; text: string }
  | { type: 'bot.turn.ended'; turn: number; text: string; heardText: string; interrupted: boolean }
  /**
   * Preemptive generation: the reply prepared for `userText` during the endpointing patience was
   * dropped unheard (`reason`: the caller went on...); `text` is what it had written so far.
   */
  | { type: 'turn.prepared.discarded'; turn: number; userText: string; text: string; reason: string }
  | { type: 'tool.called'; turn: number; name: string; arguments: string; result: string }
  | { type: 'metrics.turn'; timing: TurnTiming }
  | { type: 'session.ended'; reason: string };

/**
 * What the caller's side of a call reports to its session: VAD speech boundaries and STT timings
 * (performance.now() ms, for the turn metrics) and provider fallbacks. The session hands these to
 * {@link SessionTransport.openSpeech} at construction, so nothing the audio sees is lost to a
 * session that does not exist yet. Synchronous, never throw.
 */
export interface SpeechHooks {
  /** The caller started speaking (VAD). */
  userStarted(atMs: number): void;
  /** The caller stopped speaking (VAD: end of the last loud audio). */
  userStopped(atMs: number): void;
  /** STT timings of the caller turn in progress (see README, Metrics). */
  sttTiming(t: { ttfbMs?: number; processingMs?: number }): void;
  /** A provider role fell back to another provider (recorded with the metrics, e.g. `espeak-ng`). */
  providerChanged(role: 'stt' | 'llm' | 'tts', name: string): void;
}

/** A channel's speech side: how the bot speaks and interrupts itself, and how the caller is heard. */
export interface CallSpeech {
  /** Speaks bot turns (TTS + playback, or text). */
  readonly speaker: Speaker;
  /** Barge-in: drop queued bot audio at the far end (Twilio `clear`). Synchronous, never throws. */
  interrupt(): void;
  /**
   * The body of the call machine's `stt` actor for channels that carry audio (speech in,
   * transcript events out); text channels leave it out and get a no-op actor.
   */
  readonly stt?: SttActorCallback;
  /** True when this call's audio is being recorded (RECORDING=on): the greeting announces it. */
  readonly recording?: boolean;
}

/** The body of the call machine's `stt` callback actor (its events go back with `sendBack`). */
export type SttActorCallback = CallbackLogicFunction<CallEvent, CallEvent, { conversationId: string }>;

/** The channel-specific side of a call: its speech, how it hangs up, who observes it. */
export interface SessionTransport {
  readonly channel: CallChannel;
  /** The caller speaks (audio in) rather than types; stored as `conversations.voice`. Unknown when absent. */
  readonly carriesVoice?: boolean;
  /**
   * Builds the speech side around the session's hooks. Called once, while the session is
   * constructed and before its machine starts; must not throw.
   */
  openSpeech(hooks: SpeechHooks, call: { conversationId: string }): CallSpeech;
  /** Ends the call on the transport (REST hang-up, socket close). Must settle; errors are logged. */
  hangUp(reason: string): Promise<void>;
  /**
   * Redirects the live call to a person (Twilio: REST `<Dial>` to TRANSFER_NUMBER). Present only
   * where the carrier can do it; resolves once the carrier took the redirect, rejects when it
   * refused (the call then goes on with the bot). After it resolves the session ends as
   * `transferred` without hanging the caller up.
   */
  transfer?(request: TransferRequest): Promise<void>;
  /** Observers' feed. Synchronous, never throws. */
  notify(notice: SessionNotice): void;
}

/** What a transfer carries to the carrier: who, why, and the claim the agent is told about. */
export interface TransferRequest {
  conversationId: string;
  cause: TransferCause;
  /** The claim as it stands (null when the claim child is gone). */
  claim: TransferClaimSummary | null;
}

/** Per-session options. */
export interface SessionOptions {
  conversationId?: string;
  callSid?: string | null;
  streamSid?: string | null;
  from?: string | null;
  to?: string | null;
  customParameters?: Record<string, string>;
  timings?: Partial<CallTimings>;
  /**
   * The transport sends `call.started` itself (through `send`) once its carrier says the call
   * started; until then the call machine waits in `connecting` and its connect timeout hangs up.
   * Default false: the session sends it at once.
   */
  awaitCallStart?: boolean;
}

/** What an observer learns about a call when it starts (nothing personal: the caller is masked). */
export interface ObservedCall {
  conversationId: string;
  claimId: string;
  channel: CallChannel;
  /** The caller's number as `maskPhoneNumber` shows it (last 4 digits), or null. */
  callerMasked: string | null;
  /** The vendor serving each role at the start (null: the channel has no such role). */
  vendors: { stt: string | null; llm: string | null; tts: string | null };
}

/** One call as an observer (metrics, tracing) follows it. Synchronous; must never throw. */
export interface CallObservation {
  /** Every notice the session sends its transport, in order, ending with `session.ended`. */
  notice(notice: SessionNotice): void;
  /** A role switched vendor for the rest of the call (e.g. TTS to espeak-ng after a failure). */
  providerChanged(role: 'stt' | 'llm' | 'tts', name: string): void;
}

/**
 * Operations' view of the sessions (Prometheus metrics, OpenTelemetry traces): the session
 * reports each call here and never calls a metrics or tracing library itself.
 */
export interface SessionObserver {
  /** A call session started; what it returns receives the call's notices. */
  callStarted(call: ObservedCall): CallObservation;
}
