/**
 * Resuming after a false interruption: a partial transcript cut the bot off, then the caller said
 * nothing real (noise, a cough, "mm-hmm"). The bot says again what the caller did not hear of the
 * cut turn: the unheard rest of the sentence it was saying and the sentences after it, without a
 * new LLM request. (When the cut turn's reply was not fully written yet, the session asks the
 * dialogue instead: `TurnReason` `resume`.)
 */
import type { RespondInput } from '../../machines/call/call.machine.js';
import type { DialogueMessage, Speaker, SpeechResult } from '../providers/types.js';
import type { TurnTiming } from '../metrics/conversation-metrics.js';
import { SentenceSplitter } from './sentence-splitter.js';

/** A word compared loosely: lower case, letters and digits only ("Third," = "third"). */
const bare = (w: string) => w.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * The part of `spokenText` after what the caller heard. `heardText` is the playback tracker's
 * (word timestamps or a proportional estimate): its words are matched in order against the
 * spoken words, so punctuation and spacing differences do not matter; the rest keeps the spoken
 * text's own words and punctuation. '' when everything was heard.
 */
export function unheardRest(spokenText: string, heardText: string): string {
  const spoken = spokenText.split(/\s+/).filter(Boolean);
  const heard = heardText.split(/\s+/).map(bare).filter(Boolean);
  let n = 0;
  for (const w of heard) {
    // Skip spoken tokens that are punctuation only (never voiced as words).
    while (n < spoken.length && bare(spoken[n]!) === '') n += 1;
    if (n >= spoken.length || bare(spoken[n]!) !== w) break;
    n += 1;
  }
  return spoken.slice(n).join(' ');
}

/** What {@link runResumeTurn} needs from the session. */
export interface ResumeContext {
  speaker: Speaker;
  history: DialogueMessage[];
  onFirstAudio(): void;
  onBotText(text: string): void;
}

/**
 * Speaks `rest` as turn `input.turn` (sentence by sentence, so the speaker attributes heard text
 * per sentence) and records it in the history as the assistant's (heard part if cut again).
 * Stopping (`signal`) cancels the speech. Never rejects.
 */
export async function runResumeTurn(
  input: RespondInput,
  rest: string,
  ctx: ResumeContext,
  signal: AbortSignal,
): Promise<{ speech: SpeechResult; timing: TurnTiming }> {
  const timing: TurnTiming = { turn: input.turn, interrupted: false };
  const speech = ctx.speaker.startTurn(input.turn, { onFirstAudio: () => ctx.onFirstAudio() });
  const stop = () => speech.cancel();
  signal.addEventListener('abort', stop, { once: true });
  const splitter = new SentenceSplitter();
  if (!signal.aborted) {
    for (const piece of [...splitter.push(`${rest} `), ...splitter.flush()]) {
      speech.push(piece);
      ctx.onBotText(piece);
    }
  }
  speech.end();
  const result = await speech.done;
  signal.removeEventListener('abort', stop);
  const said = result.interrupted ? result.heardText : result.spokenText;
  if (said) ctx.history.push({ role: 'assistant', content: said });
  timing.interrupted = result.interrupted;
  return { speech: result, timing };
}
