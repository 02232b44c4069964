/**
 * The audio side of one call, shared by every audio transport (Twilio media stream, browser audio):
 * inbound caller audio → VAD + STT (data plane) → a few control events for the call machine;
 * bot speech → TTS → outbound audio + marks (see {@link createAudioSpeaker}).
 *
 * Audio never becomes a machine event: the `stt` actor built here subscribes to the audio
 * and sends back only `user.speech.*` and `stt.*` events. The transport owns the wire format
 * (Twilio JSON/base64, browser binary frames) and calls `pushAudio` / `markReceived`.
 *
 * Lifecycle: built by the transport's `openSpeech(hooks)` while the session is constructed, so it
 * reports to the session's {@link SpeechHooks} from its first frame; `close()` when the call ends
 * (closes the STT stream and the TTS socket). Never throws.
 */
import type { Logger } from 'pino';
import type { CallEvent } from '../../machines/call/call.machine.js';
import { createEnergyVad, type EnergyVadOptions, type Vad } from '../audio/vad.js';
import { createPlaybackTracker } from '../audio/playback-tracker.js';
import type { SttProvider, SttStream } from '../providers/stt-types.js';
import type { TtsProvider } from '../providers/tts-types.js';
import { createAudioSpeaker, type AudioSink, type AudioSpeaker } from './audio-speaker.js';
import type { CallSpeech, SpeechHooks, SttActorCallback } from '../session/session-types.js';
import type { CallRecorder } from '../recording/call-recorder.js';

/** Where the transport sends outbound audio, marks and `clear`. */
export interface AudioOutput extends AudioSink {
  /** Drops audio queued at the far end (Twilio `clear`). */
  clear(): void;
}

/** Providers and tuning for an audio call. */
export interface AudioCallOptions {
  /** Live STT, or null (no key): the VAD still runs, so turn-taking and "I didn't catch that" work. */
  stt: SttProvider | null;
  tts: TtsProvider;
  /** Voice used for the rest of a turn when `tts` fails (the local voice). */
  fallbackTts?: TtsProvider | null;
  output: AudioOutput;
  /** The session's hooks (VAD boundaries, STT timings, provider fallbacks). */
  hooks: SpeechHooks;
  logger: Logger;
  vad?: EnergyVadOptions;
  /**
   * Our speech is down for good: the TTS failed and there is no audible fallback (no espeak-ng).
   * The transport ends the call gracefully (phone: an apology in Twilio's voice). Called once.
   */
  onSpeechFailed?: () => void;
  /** Another VAD (e.g. Silero); default: the energy VAD with `vad` options. */
  makeVad?: ((opts: { hangoverMs?: number }) => Vad) | undefined;
  /** Call recording (RECORDING=on): taps both directions of the data plane; never the machines. */
  recorder?: CallRecorder | null;
}

/** One call's audio plumbing. */
export interface AudioCall extends CallSpeech {
  readonly speaker: AudioSpeaker;
  /** The body of the call machine's `stt` actor. */
  readonly stt: SttActorCallback;
  /** Barge-in: clear far-end playback; pending marks are flushed (not heard). */
  interrupt(): void;
  /** Caller audio, raw mu-law 8 kHz, in order. */
  pushAudio(mulaw: Uint8Array): void;
  /** An echoed mark. */
  markReceived(name: string): void;
  /** Counters for logs and tests. */
  stats(): { framesIn: number; bytesIn: number; sttReconnects: number };
  close(): void;
}

/** Creates the audio side of a call (see file header). */
export function createAudioCall(opts: AudioCallOptions): AudioCall {
  const log = opts.logger;
  const hooks = opts.hooks;
  const vad = opts.makeVad
    ? opts.makeVad({ ...(opts.vad?.hangoverMs !== undefined ? { hangoverMs: opts.vad.hangoverMs } : {}) })
    : createEnergyVad(opts.vad);
  const tracker = createPlaybackTracker();
  const recorder = opts.recorder ?? null;
  // The recorder sees bot audio and marks exactly as they leave for the far end.
  const sink: AudioSink = recorder
    ? {
        sendAudio(mulaw) {
          recorder.botAudio(mulaw);
          opts.output.sendAudio(mulaw);
        },
        sendMark(name) {
          recorder.botMark(name);
          opts.output.sendMark(name);
        },
      }
    : opts.output;
  const speaker = createAudioSpeaker({
    name: opts.tts.name,
    tts: opts.tts.connect(),
    ...(opts.fallbackTts && opts.fallbackTts !== opts.tts
      ? { fallback: { name: opts.fallbackTts.name, tts: opts.fallbackTts.connect() } }
      : {}),
    sink,
    tracker,
    onTtsError: (err, usingFallback) => {
      log.warn({ vendor: err.vendor, err: err.message, usingFallback }, 'tts failed');
      if (usingFallback && opts.fallbackTts) hooks.providerChanged('tts', opts.fallbackTts.name);
      const audible = usingFallback && opts.fallbackTts?.audible === true;
      if (!audible && !speechFailed) {
        speechFailed = true;
        opts.onSpeechFailed?.();
      }
    },
  });

  let speechFailed = false;
  let sendBack: ((e: CallEvent) => void) | null = null;
  let stream: SttStream | null = null;
  let closed = false;
  let bytesIn = 0;
  let framesIn = 0;
  let sttReconnects = 0;
  // Per caller utterance, for STT metrics (performance.now() ms).
  let speechStartedAt: number | null = null;
  let speechStoppedAt: number | null = null;
  let firstTranscriptAt: number | null = null;
  let lastFinalAt: number | null = null;
  /** The interim last handed to the machine in this segment (repeats of it are dropped). */
  let lastPartial: string | null = null;

  const emit = (e: CallEvent) => {
    try {
      sendBack?.(e);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'stt event rejected');
    }
  };

  const stt: SttActorCallback = ({ sendBack: back }) => {
    sendBack = back;
    if (opts.stt && !closed) {
      stream = opts.stt.open({
        onTranscript: (e) => {
          const text = e.type === 'utterance_end' ? '' : e.text.trim();
          if (text && firstTranscriptAt === null) {
            firstTranscriptAt = e.at;
            if (speechStartedAt !== null) hooks.sttTiming({ ttfbMs: Math.max(0, e.at - speechStartedAt) });
          }
          if (e.type === 'partial') {
            // Deepgram repeats an interim while the words stand still (a pause, a slow word): the
            // machine, the replay log and the clients learn nothing from the repeat, so only a
            // change of words is an event. A final or an utterance end starts a new segment.
            if (!text || text === lastPartial) return;
            lastPartial = text;
            emit({ type: 'stt.transcript.partial', text });
          } else if (e.type === 'final') {
            lastPartial = null;
            if (!text) return;
            lastFinalAt = e.at;
            if (speechStoppedAt !== null)
              hooks.sttTiming({ processingMs: Math.max(0, e.at - speechStoppedAt) });
            emit({ type: 'stt.transcript.final', text, speechFinal: e.speechFinal });
          } else {
            lastPartial = null;
            emit({ type: 'stt.utterance.ended' });
          }
        },
        onError: (err) => {
          log.warn({ vendor: err.vendor, err: err.message }, 'stt failed');
          emit({ type: 'provider.failed', provider: 'stt', retryable: err.retryable, message: err.message });
        },
        onReconnect: (attempt) => {
          sttReconnects += 1;
          lastPartial = null; // a new stream: its first interim is news
          log.info({ attempt }, 'stt reconnecting');
        },
      });
    }
    return () => {
      sendBack = null;
      const s = stream;
      stream = null;
      void s?.close().catch(() => {});
    };
  };

  return {
    speaker,
    stt,
    recording: recorder !== null,
    interrupt() {
      tracker.clear();
      recorder?.cleared();
      try {
        opts.output.clear();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'clear failed');
      }
    },
    pushAudio(mulaw) {
      if (closed || mulaw.length === 0) return;
      const atMs = bytesIn / 8;
      bytesIn += mulaw.length;
      framesIn += 1;
      recorder?.callerAudio(mulaw);
      stream?.sendAudio(mulaw);
      const events = vad.push(mulaw, atMs);
      if (events.length === 0) return;
      // Map the stream clock to performance.now(): this frame ends "now".
      const offset = performance.now() - bytesIn / 8;
      for (const ev of events) {
        if (ev.type === 'speech.started') {
          speechStartedAt = ev.atMs + offset;
          speechStoppedAt = null;
          firstTranscriptAt = null;
          lastFinalAt = null;
          hooks.userStarted(speechStartedAt);
          emit({ type: 'user.speech.started' });
        } else {
          speechStoppedAt = ev.atMs + offset;
          hooks.userStopped(speechStoppedAt);
          // The final often arrives before the VAD's hangover ends: measure it from the speech end.
          if (lastFinalAt !== null && lastFinalAt >= speechStoppedAt)
            hooks.sttTiming({ processingMs: lastFinalAt - speechStoppedAt });
          stream?.finalize();
          emit({ type: 'user.speech.stopped', durationMs: Math.round(ev.durationMs) });
        }
      }
    },
    markReceived(name) {
      recorder?.markEchoed(name);
      speaker.markReceived(name);
    },
    stats: () => ({ framesIn, bytesIn, sttReconnects }),
    close() {
      if (closed) return;
      closed = true;
      const s = stream;
      stream = null;
      void s?.close().catch(() => {});
      speaker.close();
      void recorder?.close();
    },
  };
}
