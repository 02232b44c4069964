/**
 * Bot audio playback with the mark bookkeeping of Twilio Media Streams:
 * - `enqueue(bytes)`: mu-law 8 kHz audio from the server, played in order;
 * - `mark(name)`: the server's mark after some audio; `onMarkPlayed(name)` fires once every byte
 *   enqueued before it has been played (the client then echoes it to the server);
 * - `clear()`: barge-in: playback stops at once, queued audio is dropped, and every pending mark
 *   is returned so the caller can echo them immediately (that is how the server learns where the
 *   bot was cut off). A mark is reported exactly once, by `onMarkPlayed` or by `clear()`.
 */
import playbackWorkletUrl from './playback-worklet.ts?worker&url';
import { PLAYBACK_PROCESSOR, type PlaybackCommand, type PlaybackMessage } from './worklet-scope';

/** A playback queue on an AudioContext. */
export interface Player {
  enqueue(mulaw: Uint8Array): void;
  mark(name: string): void;
  /** Stops now; returns the marks still pending, in order. */
  clear(): string[];
  /** Is audio coming out right now? */
  readonly playing: boolean;
  /** Marks enqueued but not yet played. */
  readonly pendingMarks: number;
  close(): void;
}

/** What the player reports. */
export interface PlayerHandlers {
  onMarkPlayed(name: string): void;
  onPlayingChange?(playing: boolean): void;
}

const loaded = new WeakSet<AudioContext>();

/** Creates a player on `ctx` (loads the worklet once per context). */
export async function createPlayer(ctx: AudioContext, handlers: PlayerHandlers): Promise<Player> {
  if (!loaded.has(ctx)) {
    await ctx.audioWorklet.addModule(playbackWorkletUrl);
    loaded.add(ctx);
  }
  const node = new AudioWorkletNode(ctx, PLAYBACK_PROCESSOR, {
    numberOfInputs: 0,
    numberOfOutputs: 1,
    outputChannelCount: [1],
  });
  node.connect(ctx.destination);
  const pending: string[] = [];
  let playing = false;
  let closed = false;
  const send = (c: PlaybackCommand, transfer: Transferable[] = []) => node.port.postMessage(c, transfer);

  node.port.onmessage = (e: MessageEvent<PlaybackMessage>) => {
    if (closed) return;
    const m = e.data;
    if (m.type === 'mark') {
      const i = pending.indexOf(m.name);
      if (i === -1) return; // already echoed by clear()
      pending.splice(i, 1);
      handlers.onMarkPlayed(m.name);
    } else if (m.playing !== playing) {
      playing = m.playing;
      handlers.onPlayingChange?.(playing);
    }
  };

  return {
    enqueue(mulaw) {
      if (closed || mulaw.length === 0) return;
      const copy = mulaw.slice();
      send({ type: 'audio', bytes: copy.buffer as ArrayBuffer }, [copy.buffer as ArrayBuffer]);
    },
    mark(name) {
      if (closed) return;
      pending.push(name);
      send({ type: 'mark', name });
    },
    clear() {
      const flushed = pending.splice(0);
      if (!closed) send({ type: 'clear' });
      if (playing) {
        playing = false;
        handlers.onPlayingChange?.(false);
      }
      return flushed;
    },
    get playing() {
      return playing;
    },
    get pendingMarks() {
      return pending.length;
    },
    close() {
      if (closed) return;
      closed = true;
      node.port.onmessage = null;
      node.disconnect();
    },
  };
}
