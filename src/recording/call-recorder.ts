/**
 * One call's stereo recording, aligned on the caller's clock: left = caller, right = bot, 8 kHz.
 *
 * The file's time axis is the caller's inbound media as it arrives (one sample per mu-law byte).
 * Bot audio is placed where the caller actually heard it, with the same queue model as the far
 * end's player: a chunk sent now starts at `max(now + playout delay, end of the audio queued
 * before it)`. Echoed marks correct the model: a mark echoes when its chunk finished playing, and
 * it arrives on the same socket as the caller audio recorded at that moment, so the caller position
 * at the echo is the true end of the chunk. A late echo moves the audio still queued (not yet
 * written) later, and teaches the playout delay (the network round trip); a `clear` (barge-in)
 * drops the bot audio scheduled after the cut, exactly what the caller never heard.
 *
 * Frames are written `lagMs` (default 200 ms) behind the caller's clock, so corrections within
 * that window are exact; a larger one leaves a short gap inside a chunk. Lost caller packets are
 * not filled (the caller's clock counts audio received).
 *
 * Lifecycle: one per call, fed synchronously by the audio call (never throws, never blocks: the
 * writer flushes in the background); `close()` writes what is left (the bot audio scheduled past
 * the caller's last frame was not heard and is dropped) and closes the file.
 */
import { decodeMulaw, SAMPLE_RATE_HZ } from '../audio/mulaw.js';

/** Where interleaved stereo frames go (a {@link WavWriter} in production, an array in tests). */
export interface StereoSink {
  write(interleaved: Int16Array): void;
  close(): Promise<void>;
}

/** The data-plane taps of a call (see file header). Synchronous; never throw. */
export interface CallRecorder {
  /** Caller audio, raw mu-law 8 kHz, in order: advances the clock. */
  callerAudio(mulaw: Uint8Array): void;
  /** Bot audio sent to the far end (mu-law 8 kHz). */
  botAudio(mulaw: Uint8Array): void;
  /** The mark sent right after the last bot chunk. */
  botMark(name: string): void;
  /** A mark echoed: its chunk has just finished playing. */
  markEchoed(name: string): void;
  /** Barge-in: the far end's queue was dropped now (Twilio `clear`). */
  cleared(): void;
  /** Writes the rest and closes the sink. Idempotent; never rejects. */
  close(): Promise<void>;
}

/** Tuning of {@link createCallRecorder}. */
export interface CallRecorderOptions {
  sink: StereoSink;
  /** How far behind the caller's clock frames are written (default 200 ms). */
  lagMs?: number;
  /** Largest playout delay learned from marks (default 1000 ms). */
  maxPlayoutDelayMs?: number;
}

/** Bot audio waiting for its place in the file. */
interface Scheduled {
  /** First sample's position on the caller's clock. */
  start: number;
  pcm: Int16Array;
}

/** Creates the recorder of one call (see file header). */
export function createCallRecorder(opts: CallRecorderOptions): CallRecorder {
  const perMs = SAMPLE_RATE_HZ / 1000;
  const lag = Math.max(0, Math.round((opts.lagMs ?? 200) * perMs));
  const maxDelay = Math.round((opts.maxPlayoutDelayMs ?? 1000) * perMs);
  /** Caller samples received (the clock). */
  let pos = 0;
  /** Frames written to the sink. */
  let written = 0;
  /** Caller samples received and not yet written, oldest first. */
  let caller: Int16Array[] = [];
  let bot: Scheduled[] = [];
  /** End of the bot audio queued at the far end, on the caller's clock. */
  let queueEnd = 0;
  /** Learned delay between sending a chunk and its playback start (samples). */
  let delay = 0;
  /** Pending marks: the scheduled end of their chunk. */
  const marks = new Map<string, number>();
  let lastChunkEnd = 0;
  let closed: Promise<void> | null = null;

  /** Takes `n` caller samples off the front. */
  const takeCaller = (n: number): Int16Array => {
    const out = new Int16Array(n);
    let filled = 0;
    while (filled < n && caller.length > 0) {
      const head = caller[0]!;
      const k = Math.min(head.length, n - filled);
      out.set(head.subarray(0, k), filled);
      filled += k;
      if (k === head.length) caller.shift();
      else caller[0] = head.subarray(k);
    }
    return out;
  };

  /** Writes frames [written, upTo). */
  const emit = (upTo: number) => {
    const n = upTo - written;
    if (n <= 0) return;
    const left = takeCaller(n);
    const frames = new Int16Array(n * 2);
    for (let i = 0; i < n; i++) frames[i * 2] = left[i]!;
    const keep: Scheduled[] = [];
    for (const s of bot) {
      const end = s.start + s.pcm.length;
      const from = Math.max(s.start, written);
      const to = Math.min(end, upTo);
      for (let p = from; p < to; p++) frames[(p - written) * 2 + 1] = s.pcm[p - s.start]!;
      if (end > upTo) keep.push(s.start >= upTo ? s : { start: upTo, pcm: s.pcm.subarray(upTo - s.start) });
    }
    bot = keep;
    written = upTo;
    opts.sink.write(frames);
  };

  const shiftQueued = (by: number) => {
    for (const s of bot) s.start += by;
    for (const [name, end] of marks) marks.set(name, end + by);
    queueEnd += by;
    lastChunkEnd += by;
  };

  return {
    callerAudio(mulaw) {
      if (closed || mulaw.length === 0) return;
      caller.push(decodeMulaw(mulaw));
      pos += mulaw.length;
      if (pos - lag > written) emit(pos - lag);
    },
    botAudio(mulaw) {
      if (closed || mulaw.length === 0) return;
      const start = Math.max(pos + delay, queueEnd, written);
      bot.push({ start, pcm: decodeMulaw(mulaw) });
      queueEnd = start + mulaw.length;
      lastChunkEnd = queueEnd;
    },
    botMark(name) {
      if (!closed) marks.set(name, lastChunkEnd);
    },
    markEchoed(name) {
      const end = marks.get(name);
      if (end === undefined) return; // not ours, or flushed by a clear
      marks.delete(name);
      const late = pos - end;
      if (late > 0) {
        // Played later than modelled: what is still queued plays later too.
        shiftQueued(late);
        delay = Math.min(maxDelay, delay + late);
      } else if (late < 0) delay = Math.max(0, delay + late);
    },
    cleared() {
      const cut = Math.max(written, pos + delay);
      const keep: Scheduled[] = [];
      for (const s of bot) {
        if (s.start >= cut) continue;
        const end = s.start + s.pcm.length;
        keep.push(end <= cut ? s : { start: s.start, pcm: s.pcm.subarray(0, cut - s.start) });
      }
      bot = keep;
      queueEnd = Math.min(queueEnd, cut);
      // Marks flushed by a clear say nothing about playback.
      marks.clear();
    },
    close() {
      closed ??= (async () => {
        emit(pos);
        bot = [];
        caller = [];
        await opts.sink.close();
      })().catch(() => {});
      return closed;
    },
  };
}
