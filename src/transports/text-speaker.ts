/**
 * A speaker for text channels (terminal chat, typed browser turns): each piece of bot text is
 * "played" the moment it is pushed, so heard text = pushed text. The text itself reaches the
 * client as the session's `bot.text` notice, like on every channel. A held turn (preemptive
 * generation) keeps its pieces unplayed until `release()`; cancelled before that, none was heard.
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
      let held = hooks.held === true;
      let ended = false;
      let finished = false;
      let cancelled = false;
      let resolve!: (r: SpeechResult) => void;
      const done = new Promise<SpeechResult>((r) => (resolve = r));
      const finish = () => {
        if (finished) return;
        finished = true;
        timings.doneAt = performance.now();
        // A held turn cancelled before its release was never heard.
        const text = held ? '' : pieces.join(' ');
        resolve({ spokenText: text, heardText: text, interrupted: cancelled });
      };
      const played = () => {
        if (pieces.length === 0 || timings.firstAudioAt !== null) return;
        const now = performance.now();
        timings.firstAudioAt = now;
        timings.firstHeardAt = now;
        hooks.onFirstAudio();
      };
      return {
        timings,
        done,
        push(text) {
          if (finished || cancelled || ended) return;
          timings.firstTextAt ??= performance.now();
          pieces.push(text);
          if (!held) played();
        },
        end() {
          ended = true;
          if (!held) finish();
        },
        cancel() {
          cancelled = true;
          finish();
        },
        release() {
          if (!held || finished) return;
          held = false;
          played();
          if (ended) finish();
        },
      };
    },
    close() {},
  };
}
