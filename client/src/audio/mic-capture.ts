/**
 * The microphone as a stream of 20 ms mu-law frames (see capture-worklet.ts). Echo cancellation,
 * noise suppression and auto gain stay on: the bot's own voice from the speakers must not barge in.
 */
import captureWorkletUrl from './capture-worklet.ts?worker&url';
import { CAPTURE_PROCESSOR, type CaptureMessage } from './worklet-scope';

/** A running capture. */
export interface MicCapture {
  /** While muted, frames keep flowing but carry silence (the call stays alive). */
  setMuted(muted: boolean): void;
  readonly muted: boolean;
  /** Stops the microphone (the browser's recording indicator goes off). */
  stop(): void;
}

/** What the capture reports. */
export interface MicCaptureHandlers {
  /** One 160-byte mu-law frame (20 ms at 8 kHz). */
  onFrame(frame: Uint8Array): void;
  /** Input level, RMS 0..1, about every 100 ms (0 while muted). */
  onLevel?(rms: number): void;
}

const SILENCE_FRAME = new Uint8Array(160).fill(0xff);
const loaded = new WeakSet<AudioContext>();

/**
 * Asks for the microphone and starts capturing into `ctx`. Rejects with the browser's error
 * (`NotAllowedError` when the user refuses, `NotFoundError` without a microphone).
 */
export async function startMicCapture(ctx: AudioContext, handlers: MicCaptureHandlers): Promise<MicCapture> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  try {
    if (!loaded.has(ctx)) {
      await ctx.audioWorklet.addModule(captureWorkletUrl);
      loaded.add(ctx);
    }
  } catch (err) {
    for (const t of stream.getTracks()) t.stop();
    throw err;
  }
  const source = ctx.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(ctx, CAPTURE_PROCESSOR, {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
  });
  let muted = false;
  let stopped = false;
  node.port.onmessage = (e: MessageEvent<CaptureMessage>) => {
    if (stopped) return;
    const m = e.data;
    if (m.type === 'frame') handlers.onFrame(muted ? SILENCE_FRAME.slice() : new Uint8Array(m.bytes));
    else handlers.onLevel?.(muted ? 0 : m.rms);
  };
  source.connect(node);
  // The node outputs silence; connecting it keeps the graph pulling it on every browser.
  node.connect(ctx.destination);
  return {
    get muted() {
      return muted;
    },
    setMuted(m) {
      muted = m;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      node.port.onmessage = null;
      source.disconnect();
      node.disconnect();
      for (const t of stream.getTracks()) t.stop();
    },
  };
}
