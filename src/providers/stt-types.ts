/**
 * The speech-to-text port. Audio goes in on the data plane (raw mu-law 8 kHz, exactly as Twilio
 * sends it); only transcript events come out, and they become call-machine events.
 */
import type { ProviderError } from './types.js';

/** Transcript events an STT stream reports. Times are `performance.now()` ms. */
export type SttEvent =
  | { type: 'partial'; text: string; at: number }
  | { type: 'final'; text: string; speechFinal: boolean; at: number }
  | { type: 'utterance_end'; at: number };

/** Callbacks of one STT stream. Called synchronously from socket handlers; must not throw. */
export interface SttListener {
  onTranscript(e: SttEvent): void;
  /** A failure the stream could not recover from (after its own reconnects). */
  onError(err: ProviderError): void;
  /** Reconnects, for logs and tests. */
  onReconnect?(attempt: number): void;
}

/** One call's live transcription. */
export interface SttStream {
  /** Forwards caller audio (mu-law 8 kHz). Buffered while (re)connecting; never throws. */
  sendAudio(mulaw: Uint8Array): void;
  /** The local VAD says the caller stopped: flush pending words now (Deepgram `Finalize`). */
  finalize(): void;
  /** Flushes and closes. Idempotent. */
  close(): Promise<void>;
}

/** Opens STT streams. */
export interface SttProvider {
  /** Name stored in metrics (`deepgram`, `none`). */
  readonly name: string;
  open(listener: SttListener): SttStream;
}
