/**
 * A {@link Speaker} for audio channels (Twilio media stream, browser audio): bot text goes to a TTS
 * connection sentence by sentence; its mu-law audio goes out to the caller in order, each message
 * followed by a mark; echoed marks tell what the caller heard (the playback tracker).
 *
 * Coalescing: a turn's first chunk goes out at once (first audio is what the caller waits for);
 * later chunks are joined into messages of up to `coalesceMs` (200 ms) of audio, each sent as soon
 * as it is full, or earlier when the far end's queue (audio sent minus the time since the first
 * chunk) would drop under `leadMs` (100 ms), so a slow voice is never held back into a gap. A TTS
 * faster than real time (the usual case) then costs one media message and one mark per 200 ms
 * instead of per chunk (Cartesia's are tens of ms); what the caller heard is known to within one
 * message. The end of the turn's audio, an error and a release flush what is pending; a
 * cancel drops it (it was never sent, so there is less to clear).
 *
 * Lifecycle of a turn: `startTurn` opens a TTS context; `push` text; `end` → the TTS finishes →
 * `done` resolves once the caller has heard the last chunk (its mark came back), or at once on
 * `cancel` (barge-in, hang-up) with the text actually heard. A TTS failure switches the rest of the
 * turn to the fallback voice (text not yet voiced is spoken again by it); if that fails too the
 * turn ends with what was heard. If marks stop coming back (a broken far end), a watchdog ends the
 * turn once the audio sent should have played.
 *
 * A held turn (preemptive generation) synthesizes as usual but keeps its audio and word timings in
 * memory: nothing is sent, no mark, nothing in the playback tracker, until `release()` sends them
 * in order and the turn goes live. Cancelled before that, it is dropped: the caller heard nothing.
 * Each held turn gets its own TTS context id, so late chunks of a discarded one can never be taken
 * for the turn (same number) that replaces it.
 */
import type { PlaybackTracker } from '../audio/playback-tracker.js';
import type { Speaker, SpeechResult, SpeechTimings, TurnSpeech } from '../providers/types.js';
import { ProviderError } from '../providers/types.js';
import type { TtsConnection, TtsTurn } from '../providers/tts-types.js';

/** Where outbound audio and marks go (Twilio `media`/`mark`, browser binary frames). */
export interface AudioSink {
  sendAudio(mulaw: Uint8Array): void;
  sendMark(name: string): void;
}

/** Options of {@link createAudioSpeaker}. */
export interface AudioSpeakerOptions {
  name: string;
  tts: TtsConnection;
  /** Used for the rest of a turn when `tts` fails. */
  fallback?: { name: string; tts: TtsConnection };
  sink: AudioSink;
  tracker: PlaybackTracker;
  /** Reports a TTS failure (logs, metrics provider switch). */
  onTtsError?: (err: ProviderError, usingFallback: boolean) => void;
  /** Extra wait for marks beyond the audio's own duration before giving up on them. Default 3000. */
  markGraceMs?: number;
  /**
   * A TTS that owes audio (text sent and no audio yet, or the turn ended and synthesis not done)
   * and sends none for this long is treated as failed (fallback voice). Default 8000.
   */
  ttsStallMs?: number;
  /** Most audio joined into one outbound message after a turn's first chunk, ms. Default 200; 0: none. */
  coalesceMs?: number;
  /** Audio the far end should keep queued while chunks are joined, ms. Default 100. */
  leadMs?: number;
}

/** mu-law 8 kHz: bytes per ms. */
const BYTES_PER_MS = 8;

/** The speaker plus the mark intake its transport feeds. */
export interface AudioSpeaker extends Speaker {
  /** An echoed mark from the far end. */
  markReceived(name: string): void;
}

/** Creates an audio speaker (see file header). */
export function createAudioSpeaker(opts: AudioSpeakerOptions): AudioSpeaker {
  const { sink, tracker } = opts;
  const graceMs = opts.markGraceMs ?? 3000;
  const stallMs = opts.ttsStallMs ?? 8000;
  const coalesceBytes = Math.max(0, opts.coalesceMs ?? 200) * BYTES_PER_MS;
  const leadMs = Math.max(0, opts.leadMs ?? 100);
  /** The turn waiting for its marks, to wake it up on echoes. */
  const live = new Map<string, () => void>();
  /** Numbers the TTS contexts of held turns. */
  let heldSeq = 0;

  return {
    name: opts.name,
    markReceived(name) {
      const receipt = tracker.markReceived(name);
      if (!receipt) return;
      live.get(String(receipt.turnId))?.();
    },
    startTurn(turn, hooks): TurnSpeech {
      const turnId = `t${turn}`;
      const timings: SpeechTimings = {
        firstTextAt: null,
        firstAudioAt: null,
        doneAt: null,
        firstHeardAt: null,
      };
      const texts: string[] = [];
      /** Texts not yet attributed to audio (attached to the next chunk). */
      let unattributed: string[] = [];
      /** Index in `texts` of the first text the current TTS has not voiced for sure. */
      let firstUnvoiced = 0;
      let ended = false;
      let ttsDone = false;
      let finished = false;
      let usingFallback = false;
      let watchdog: NodeJS.Timeout | null = null;
      let stall: NodeJS.Timeout | null = null;
      let held = hooks.held === true;
      /** What a held turn received, in order, to send at its release. */
      let buffered: Array<(() => void) | undefined> = [];
      let synthesized = false;
      let resolve!: (r: SpeechResult) => void;
      const done = new Promise<SpeechResult>((r) => (resolve = r));

      /** Resolves the turn; `cutShort`: the caller heard only what the echoed marks say. */
      const finish = (interrupted: boolean, cutShort = interrupted) => {
        if (finished) return;
        finished = true;
        dropPending();
        if (watchdog) clearTimeout(watchdog);
        if (stall) clearTimeout(stall);
        if (live.get(turnId) === wake) live.delete(turnId);
        buffered = [];
        if (held) {
          // Never released: nothing reached the caller or the tracker (another turn may own the id).
          resolve({ spokenText: '', heardText: '', interrupted });
          return;
        }
        const spokenText = texts.join(' ').trim();
        const heardText = cutShort ? tracker.heardText(turnId) : spokenText;
        tracker.forgetTurn(turnId);
        resolve({ spokenText, heardText, interrupted });
      };

      const checkPlayed = () => {
        if (finished || !ttsDone) return;
        if (timings.firstHeardAt === null && tracker.playedMs(turnId) > 0)
          timings.firstHeardAt = performance.now();
        if (tracker.sentMs(turnId) === 0 || tracker.allPlayed(turnId)) finish(false);
      };
      const wake = () => {
        if (timings.firstHeardAt === null) timings.firstHeardAt = performance.now();
        checkPlayed();
      };
      if (!held) live.set(turnId, wake);

      /** Watches a TTS that owes audio (see `ttsStallMs`); mid-turn, the LLM paces the text instead. */
      const armStall = () => {
        if (finished || ttsDone || texts.length === 0 || (!ended && synthesized)) {
          if (stall) clearTimeout(stall);
          stall = null;
          return;
        }
        // Re-armed on every chunk while the voice owes audio: restart the one timer.
        if (stall) {
          stall.refresh();
          return;
        }
        stall = setTimeout(
          () => onError(new ProviderError('tts', opts.name, `no audio for ${stallMs} ms`, true)),
          stallMs,
        );
        stall.unref?.();
      };

      /** Sends one message and its mark. */
      const sendNow = (mulaw: Uint8Array, text: string) => {
        const mark = tracker.chunkSent({ turnId, bytes: mulaw.length, ...(text ? { text } : {}) });
        sink.sendAudio(mulaw);
        sink.sendMark(mark);
      };

      /** Chunks waiting to be joined into one message (see file header), and their texts. */
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      let pendingText: string[] = [];
      let pendingTimer: NodeJS.Timeout | null = null;
      /** performance.now() of the turn's first message, and the audio sent since (and pending), ms. */
      let sendingSince = 0;
      let sentAudioMs = 0;

      const dropPending = () => {
        if (pendingTimer) clearTimeout(pendingTimer);
        pendingTimer = null;
        pending = [];
        pendingBytes = 0;
        pendingText = [];
      };
      const flushPending = () => {
        if (pendingBytes === 0) return dropPending();
        const joined = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        const text = pendingText.join(' ');
        dropPending();
        sendNow(joined, text);
      };

      /** Sends one chunk (a held turn: at its release): the first at once, later ones joined. */
      const sendChunk = (mulaw: Uint8Array, text: string) => {
        const now = performance.now();
        if (timings.firstAudioAt === null) {
          timings.firstAudioAt = now;
          hooks.onFirstAudio();
        }
        const first = sentAudioMs === 0;
        if (first) sendingSince = now;
        sentAudioMs += mulaw.length / BYTES_PER_MS;
        if (first || coalesceBytes === 0) {
          sendNow(mulaw, text);
          return;
        }
        pending.push(mulaw);
        pendingBytes += mulaw.length;
        if (text) pendingText.push(text);
        // The far end's queue without what is pending: flush before it runs under the lead.
        const queuedMs = sentAudioMs - pendingBytes / BYTES_PER_MS - (now - sendingSince);
        if (pendingBytes >= coalesceBytes || queuedMs <= leadMs) {
          flushPending();
          return;
        }
        if (!pendingTimer) {
          pendingTimer = setTimeout(flushPending, queuedMs - leadMs);
          pendingTimer.unref?.();
        }
      };

      const onAudio = (mulaw: Uint8Array) => {
        if (finished || mulaw.length === 0) return;
        if (!synthesized) {
          synthesized = true;
          timings.firstSynthesizedAt = performance.now();
        }
        const text = unattributed.join(' ');
        unattributed = [];
        firstUnvoiced = texts.length;
        if (held) buffered.push(() => sendChunk(mulaw, text));
        else sendChunk(mulaw, text);
        armStall();
      };

      /** Playback bookkeeping once the voice is done and the audio is out (live turns). */
      const audioEnded = () => {
        flushPending();
        tracker.turnAudioEnded(turnId);
        const waitMs = Math.max(0, tracker.sentMs(turnId) - tracker.playedMs(turnId)) + graceMs;
        watchdog = setTimeout(() => finish(false), waitMs);
        watchdog.unref?.();
        checkPlayed();
      };

      const onDone = () => {
        if (finished) return;
        ttsDone = true;
        if (stall) clearTimeout(stall);
        timings.doneAt = performance.now();
        if (held) buffered.push(audioEnded);
        else audioEnded();
      };

      /** The TTS failed or stalled: the fallback voice says what was not voiced yet, else the turn ends. */
      const onError = (err: ProviderError) => {
        if (finished || ttsDone) return;
        if (!usingFallback && opts.fallback) {
          usingFallback = true;
          opts.onTtsError?.(err, true);
          current.cancel(); // late chunks of the failed synthesis are dropped
          current = open(opts.fallback.tts, `${contextId}-fallback`);
          unattributed = texts.slice(firstUnvoiced);
          for (const t of unattributed) current.push(t);
          if (ended) current.end();
          armStall();
          return;
        }
        opts.onTtsError?.(err, false);
        ttsDone = true;
        const cutShort = () => {
          flushPending();
          tracker.turnAudioEnded(turnId);
          // Not a barge-in, but the turn was cut short: keep only what the caller heard.
          finish(false, true);
        };
        // A held turn plays what it has at its release, then ends.
        if (held) buffered.push(cutShort);
        else cutShort();
      };

      const open = (tts: TtsConnection, id: string): TtsTurn =>
        tts.startTurn(id, {
          onAudio,
          onWordTimestamps: (words, start, end) => {
            if (usingFallback) return;
            const note = () => tracker.wordTimestamps(turnId, { words, start, end });
            if (held) buffered.push(note);
            else note();
          },
          onDone,
          onError,
        });

      const contextId = held ? `${turnId}-held${++heldSeq}` : turnId;
      let current = open(opts.tts, contextId);

      return {
        timings,
        done,
        push(text) {
          const t = text.trim();
          if (!t || finished || ended) return;
          if (timings.firstTextAt === null) timings.firstTextAt = performance.now();
          texts.push(t);
          unattributed.push(t);
          current.push(t);
          if (texts.length === 1) armStall();
        },
        end() {
          if (ended || finished) return;
          ended = true;
          if (texts.length === 0) {
            current.cancel();
            timings.doneAt = performance.now();
            finish(false);
            return;
          }
          current.end();
          armStall();
        },
        cancel() {
          if (finished) return;
          current.cancel();
          finish(true);
        },
        release() {
          if (!held || finished) return;
          held = false;
          live.set(turnId, wake);
          const queued = buffered;
          buffered = [];
          for (const send of queued) {
            if (finished) break;
            send?.();
          }
          armStall();
        },
      };
    },
    close() {
      opts.tts.close();
      opts.fallback?.tts.close();
      live.clear();
    },
  };
}
