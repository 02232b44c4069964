/**
 * A speaker for text channels (terminal chat, typed browser turns): each piece of bot text is
 * "played" the moment it is pushed, so heard text = pushed text. The text itself reaches the
 * client as the session's `bot.text` notice, like on every channel.
 */
import type { Speaker, SpeechResult, SpeechTimings, TurnSpeech } from '../providers/types.js';

/** Creates a text speaker. */
export function createTextSpeaker(): Speaker {
  return {
    name: 'text',
    startTurn(_turn, hooks): TurnSpeech {
      const pieces: string[] = [];
      const timings: SpeechTimings = {
        firstTextAt: null,
        firstAudioAt: null,
        doneAt: null,
        firstHeardAt: null,
      };
      let finished = false;
      let cancelled = false;
      let resolve!: (r: SpeechResult) => void;
      const done = new Promise<SpeechResult>((r) => (resolve = r));
      const finish = () => {
        if (finished) return;
        finished = true;
        timings.doneAt = performance.now();
        const text = pieces.join(' ');
        resolve({ spokenText: text, heardText: text, interrupted: cancelled });
      };
      return {
        timings,
        done,
        push(text) {
          if (finished || cancelled) return;
          const now = performance.now();
          if (timings.firstTextAt === null) {
            timings.firstTextAt = now;
            timings.firstAudioAt = now;
            timings.firstHeardAt = now;
            hooks.onFirstAudio();
          }
          pieces.push(text);
        },
        end: finish,
        cancel() {
          cancelled = true;
          finish();
        },
      };
    },
    close() {},
  };
}
