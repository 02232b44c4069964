/**
 * The text-to-speech port. Text goes in sentence by sentence; mu-law 8 kHz audio comes out, ready
 * to be sent to Twilio as is (no transcoding on the phone path).
 */
import type { ProviderError } from './types.js';

/** Callbacks of one synthesis turn. Called from socket handlers; must not throw. */
export interface TtsTurnHandlers {
  onAudio(mulaw: Uint8Array): void;
  /** Word timings (seconds since the turn's first audio), when the vendor sends them. */
  onWordTimestamps?(words: string[], startS: number[], endS: number[]): void;
  /** All audio of the turn was delivered. Not called after `cancel()`. */
  onDone(): void;
  onError(err: ProviderError): void;
}

/** One bot turn of synthesis (a Cartesia context). */
export interface TtsTurn {
  push(text: string): void;
  /** No more text: the turn finishes when its audio is out. */
  end(): void;
  /** Barge-in: stop generating; late audio of this turn is dropped. Idempotent. */
  cancel(): void;
}

/** One call's synthesis connection (a Cartesia socket). */
export interface TtsConnection {
  startTurn(turnId: string, handlers: TtsTurnHandlers): TtsTurn;
  close(): void;
}

/** Opens synthesis connections. */
export interface TtsProvider {
  /** Name stored in metrics (`cartesia`, `espeak-ng`, `silence`). */
  readonly name: string;
  /**
   * True when the caller hears something: a real voice. False for a stand-in that only keeps the
   * timing (the local voice without espeak-ng sends silence). A call whose only voice left is
   * inaudible is ended gracefully rather than left mute.
   */
  readonly audible: boolean;
  connect(): TtsConnection;
}
