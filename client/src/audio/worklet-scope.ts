/**
 * The AudioWorkletGlobalScope, typed (TypeScript's DOM lib does not describe it). Imported by the
 * worklet modules only: on the main thread these names do not exist.
 */

/** The base class every processor extends. */
export interface WorkletProcessorBase {
  readonly port: MessagePort;
}

/** The globals a worklet module sees. */
export interface WorkletScope {
  /** The AudioContext's sample rate, Hz. */
  readonly sampleRate: number;
  readonly AudioWorkletProcessor: new (options?: unknown) => WorkletProcessorBase;
  registerProcessor(name: string, ctor: new (options?: unknown) => WorkletProcessorBase): void;
}

/** The worklet's global scope. */
export const worklet = globalThis as unknown as WorkletScope;

/** Processor names, shared by the worklets and the code that creates their nodes. */
export const CAPTURE_PROCESSOR = 'statecall-capture';
/** See {@link CAPTURE_PROCESSOR}. */
export const PLAYBACK_PROCESSOR = 'statecall-playback';

/** Messages the capture worklet posts. */
export type CaptureMessage = { type: 'frame'; bytes: ArrayBuffer } | { type: 'level'; rms: number };

/** Messages the playback worklet accepts. */
export type PlaybackCommand =
  { type: 'audio'; bytes: ArrayBuffer } | { type: 'mark'; name: string } | { type: 'clear' };

/** Messages the playback worklet posts. */
export type PlaybackMessage = { type: 'mark'; name: string } | { type: 'playing'; playing: boolean };
