/**
 * Bot audio playback (AudioWorklet, audio thread): mu-law 8 kHz → linear → the context's rate,
 * played from a queue in which server marks sit between the audio chunks they follow. A mark is
 * posted back when the output has rendered every sample queued before it, which is how the server
 * learns what the caller actually heard. `clear` drops the queue at once (barge-in); the main
 * thread echoes the marks that were still pending itself, without waiting for this thread.
 */
import { createLinearResampler } from '../../../src/audio/resample';
import { MULAW_DECODE } from '../../../src/audio/mulaw';
import { PLAYBACK_PROCESSOR, worklet, type PlaybackCommand, type PlaybackMessage } from './worklet-scope';

type Item = { audio: Float32Array; at: number } | { mark: string };

class PlaybackProcessor extends worklet.AudioWorkletProcessor {
  private readonly resampler = createLinearResampler({ fromHz: 8000, toHz: worklet.sampleRate });
  private queue: Item[] = [];
  private playing = false;

  constructor(options?: unknown) {
    super(options);
    this.port.onmessage = (e: MessageEvent<PlaybackCommand>) => this.command(e.data);
  }

  private command(c: PlaybackCommand): void {
    if (c.type === 'audio') {
      const bytes = new Uint8Array(c.bytes);
      const pcm = new Float32Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) pcm[i] = MULAW_DECODE[bytes[i]!]! / 32768;
      const audio = this.resampler.push(pcm);
      if (audio.length) this.queue.push({ audio, at: 0 });
    } else if (c.type === 'mark') {
      this.queue.push({ mark: c.name });
    } else {
      this.queue = [];
      this.resampler.reset();
    }
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0]?.[0];
    if (!out) return true;
    let written = 0;
    while (this.queue.length) {
      const head = this.queue[0]!;
      if ('mark' in head) {
        this.queue.shift();
        this.post({ type: 'mark', name: head.mark });
        continue;
      }
      if (written === out.length) break;
      const n = Math.min(out.length - written, head.audio.length - head.at);
      out.set(head.audio.subarray(head.at, head.at + n), written);
      written += n;
      head.at += n;
      if (head.at >= head.audio.length) this.queue.shift();
    }
    if (written < out.length) out.fill(0, written);
    for (let c = 1; c < (outputs[0]?.length ?? 0); c++) outputs[0]![c]!.set(out);
    const playing = written > 0;
    if (playing !== this.playing) {
      this.playing = playing;
      this.post({ type: 'playing', playing });
    }
    return true;
  }

  private post(m: PlaybackMessage): void {
    this.port.postMessage(m);
  }
}

worklet.registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);
