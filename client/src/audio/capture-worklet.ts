/**
 * Microphone capture (AudioWorklet, audio thread): the context's rate (usually 48 kHz) → 8 kHz
 * (windowed-sinc low-pass + linear interpolation, history carried across blocks) → G.711 mu-law,
 * posted as 160-byte / 20 ms frames, continuously, silence included (the server runs its own VAD).
 * When the microphone delivers nothing yet, the frames are silence, so the stream never stalls.
 * Also posts the input level (RMS, 0..1) about every 100 ms for the microphone meter.
 */
import { createLinearResampler } from '../../../src/audio/resample';
import { MULAW_ENCODE } from '../../../src/audio/mulaw';
import { CAPTURE_PROCESSOR, worklet, type CaptureMessage } from './worklet-scope';

const FRAME_BYTES = 160;
const TARGET_HZ = 8000;

class CaptureProcessor extends worklet.AudioWorkletProcessor {
  private readonly resampler = createLinearResampler({ fromHz: worklet.sampleRate, toHz: TARGET_HZ });
  private frame = new Uint8Array(FRAME_BYTES);
  private filled = 0;
  private readonly silence = new Float32Array(128);
  private levelSum = 0;
  private levelCount = 0;
  private readonly levelEvery = Math.round(worklet.sampleRate / 10);

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    const block = input && input.length ? input : this.silence;
    for (let i = 0; i < block.length; i++) this.levelSum += block[i]! * block[i]!;
    this.levelCount += block.length;
    if (this.levelCount >= this.levelEvery) {
      const rms = Math.sqrt(this.levelSum / this.levelCount);
      this.levelSum = 0;
      this.levelCount = 0;
      this.post({ type: 'level', rms });
    }
    const out = this.resampler.push(block);
    for (let i = 0; i < out.length; i++) {
      let s = Math.round(out[i]! * 32768);
      if (s > 32767) s = 32767;
      else if (s < -32768) s = -32768;
      this.frame[this.filled++] = MULAW_ENCODE[s & 0xffff]!;
      if (this.filled === FRAME_BYTES) {
        const bytes = this.frame.buffer as ArrayBuffer;
        this.post({ type: 'frame', bytes }, [bytes]);
        this.frame = new Uint8Array(FRAME_BYTES);
        this.filled = 0;
      }
    }
    return true;
  }

  private post(m: CaptureMessage, transfer: Transferable[] = []): void {
    this.port.postMessage(m, transfer);
  }
}

worklet.registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
