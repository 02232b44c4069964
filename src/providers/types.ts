/**
 * Provider ports. The machines and the engine know only these shapes, never a vendor.
 * Each vendor folder (deepgram/, openai/, cartesia/, local/) implements one or more of them.
 */
import type { ClaimToolEvent } from '../../machines/claim/claim.events.js';
import type { CallToolEvent } from '../../machines/call/call.events.js';
import type { ClaimView } from '../../machines/claim/claim.view.js';
import type { TurnReason } from '../../machines/call/call.machine.js';
import type { KeypadOfferReason } from '../../machines/call/call.wording.js';

/** A tool call as the dialogue produced it (arguments are raw JSON text, untrusted). */
export interface DialogueToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One message of the dialogue history (OpenAI chat shape, vendor neutral). */
export type DialogueMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: DialogueToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** Facts about the caller the dialogue may use (e.g. in the greeting). Numbers are masked. */
export interface DialogueCallInfo {
  channel: 'phone' | 'browser' | 'terminal';
  fromMasked: string | null;
  companyName: string;
  /** The call is being recorded (RECORDING=on): the greeting must say so. */
  recorded?: boolean;
}

/** One request to the dialogue for a bot step. */
export interface DialogueRequest {
  claim: ClaimView;
  history: readonly DialogueMessage[];
  reason: TurnReason;
  callInfo: DialogueCallInfo;
  /** The call machine wants the keypad offered this turn, and why (null: no offer). */
  keypadOffer: KeypadOfferReason | null;
  signal: AbortSignal;
}

/** What a dialogue streams back. */
export type DialogueChunk =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; call: DialogueToolCall }
  /** A tool call started streaming (its arguments are not complete yet): marks the first token. */
  | { type: 'tool_call_started' }
  | { type: 'usage'; promptTokens: number; completionTokens: number };

/** Decides what the bot says and which claim events (tools) to fire. */
export interface DialogueProvider {
  /** Name stored in metrics (`openai`, `local`). */
  readonly name: string;
  /**
   * Streams text and tool calls for one step. Honors `signal` (abort on barge-in).
   * Throws `ProviderError` on failure (the engine then falls back to the local dialogue).
   */
  respond(request: DialogueRequest): AsyncIterable<DialogueChunk>;
  /**
   * The fast path, where a dialogue has one (the local one): the claim events a plain answer to the
   * state's question gives, read without a model, or null when the words need the full dialogue.
   * Synchronous and never throws.
   */
  readAnswer?(claim: ClaimView, text: string): (ClaimToolEvent | CallToolEvent)[] | null;
  /**
   * Where a dialogue can tell (the local one): the caller's words are a question or a stall the
   * dialogue answers ("what's my claim number?", "why?", "hang on", an unclear amount), not a
   * misunderstanding. Synchronous and never throws.
   */
  readAside?(claim: ClaimView, text: string): boolean;
}

/** A provider failure mapped into the engine's small vocabulary. */
export class ProviderError extends Error {
  constructor(
    readonly provider: 'stt' | 'llm' | 'tts',
    readonly vendor: string,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** How one bot turn's speech ended. */
export interface SpeechResult {
  /** Everything the bot meant to say this turn. */
  spokenText: string;
  /** What the caller actually heard (all of it unless interrupted). */
  heardText: string;
  interrupted: boolean;
}

/** Timing facts a speech turn reports for metrics (ms, `performance.now()` clock). */
export interface SpeechTimings {
  firstTextAt: number | null;
  firstAudioAt: number | null;
  doneAt: number | null;
  /** When the caller heard the first audio (echo of the first mark), if known. */
  firstHeardAt: number | null;
  /**
   * When the voice delivered its first audio. Equals `firstAudioAt` for a live turn; a held turn
   * receives audio before it sends any (TTS TTFB is measured from this one).
   */
  firstSynthesizedAt?: number | null;
}

/** One bot turn of speech: text goes in sentence by sentence; audio goes out to the caller. */
export interface TurnSpeech {
  /** Queue a sentence or clause for speaking. */
  push(text: string): void;
  /** No more text this turn. */
  end(): void;
  /**
   * Stop now (barge-in): drop queued text and audio. Idempotent. On a held turn that was never
   * released this discards it: nothing of it ever reached the caller.
   */
  cancel(): void;
  /**
   * A held turn goes live: the audio (and marks) it buffered go out in order, then the rest
   * streams as on a live turn; `onFirstAudio` fires now if audio was buffered. No-op otherwise.
   */
  release(): void;
  /** Resolves when all audio was played (or the turn was cancelled). Never rejects. */
  readonly done: Promise<SpeechResult>;
  readonly timings: SpeechTimings;
}

/** Options of {@link Speaker.startTurn}. */
export interface SpeechTurnHooks {
  /** The first audio of the turn was sent to the caller (for a held turn: at its release). */
  onFirstAudio: () => void;
  /** Buffer the turn's output until `release()` (see {@link Speaker.startTurn}). Default false. */
  held?: boolean;
}

/** Produces speech for bot turns on one call (TTS + playback, or plain text for text channels). */
export interface Speaker {
  /** Name stored in metrics (`cartesia`, `local`, `text`). */
  readonly name: string;
  /**
   * Starts a bot turn. `held`: synthesize as usual but buffer the output (nothing reaches the
   * caller, no mark is sent) until `release()`; `cancel()` before that discards it (preemptive
   * generation).
   */
  startTurn(turn: number, hooks: SpeechTurnHooks): TurnSpeech;
  close(): void;
}
