/**
 * An audible stand-in for the local voice in tests: a 440 Hz tone as long as the text would take
 * to say, delivered in 200 ms mu-law chunks like espeak-ng's. It lets a test check "the local
 * voice took over" on a machine without espeak-ng, where the real local voice is inaudible
 * silence (and the engine rightly ends such a call instead).
 */
import { encodeMulaw } from '../../src/audio/mulaw.js';
import type { TtsConnection, TtsProvider, TtsTurn, TtsTurnHandlers } from '../../src/providers/tts-types.js';

const SAMPLE_RATE_HZ = 8000;
const CHUNK_SAMPLES = 1600; // 200 ms

function tone(samples: number): Uint8Array {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++)
    pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / SAMPLE_RATE_HZ));
  return encodeMulaw(pcm);
}

/** Creates the tone voice; `name` is what metrics record (default `tone`). */
export function createToneTts(name = 'tone'): TtsProvider {
  return {
    name,
    audible: true,
    connect(): TtsConnection {
      return {
        startTurn(_turnId: string, h: TtsTurnHandlers): TtsTurn {
          let cancelled = false;
          let ended = false;
          return {
            push(text) {
              if (cancelled || ended || !text.trim()) return;
              // ~15 characters a second, like the silent local voice.
              const audio = tone(Math.max(160, Math.round((text.length / 15) * SAMPLE_RATE_HZ)));
              queueMicrotask(() => {
                for (let i = 0; i < audio.length && !cancelled; i += CHUNK_SAMPLES)
                  h.onAudio(audio.subarray(i, i + CHUNK_SAMPLES));
              });
            },
            end() {
              if (ended) return;
              ended = true;
              queueMicrotask(() => {
                if (!cancelled) h.onDone();
              });
            },
            cancel() {
              cancelled = true;
            },
          };
        },
        close() {},
      };
    },
  };
}
