/**
 * What the caller actually heard, from Twilio's mark echoes.
 *
 * Twilio plays outbound media in order and echoes a `mark` once everything queued before it has
 * played; on `clear` it drops the queue and echoes every pending mark at once. So a mark sent
 * right after each TTS chunk tells, when echoed, that the caller has heard that chunk; marks
 * flushed by a `clear` say nothing about playback and must not be read as heard.
 *
 * The tracker is pure bookkeeping for one call's outbound stream: no timers, no I/O, no clock.
 * The engine drives it:
 *
 * ```ts
 * const mark = tracker.chunkSent({ turnId, bytes: chunk.length, text });
 * twilio.send(media(chunk)); twilio.send(markMsg(mark));   // in this order
 * // on Twilio {event:'mark'}:
 * const r = tracker.markReceived(name);                     // null: not ours, or flushed
 * // Cartesia timestamps:          tracker.wordTimestamps(turnId, { words, start, end });
 * // all audio of the turn sent:   tracker.turnAudioEnded(turnId);
 * // barge-in (right when sending Twilio `clear`): tracker.clear();
 * const heard = tracker.heardText(turnId);
 * ```
 */
import { SAMPLE_RATE_HZ } from './mulaw.js';

/** A bot turn's id as the engine names it (`3`, `'t3'`). Numbers and strings are distinct ids. */
export type TurnId = string | number;

/** One outbound chunk, reported right before it is sent to Twilio. */
export interface ChunkSent {
  turnId: TurnId;
  /** The chunk's mu-law bytes, or their count. Invalid counts (negative, NaN) count as 0. */
  bytes: number | Uint8Array;
  /**
   * Text spoken in this chunk's audio, when the engine knows it (optional). A chunk with text
   * starts a new text segment that extends over the following chunks without text; the segment's
   * text is spread over its audio in proportion to duration. In order, the segments make the
   * turn's full text: they are joined with one space unless there is whitespace at the seam
   * already (so trimmed sentences from the sentence splitter read naturally).
   */
  text?: string;
}

/** What an echoed mark tells. */
export interface MarkReceipt {
  turnId: TurnId;
  /** The turn's audio played so far, in ms (through this mark's chunk). */
  playedMs: number;
  /** The first echo of this turn: the moment the caller started hearing it (metrics). */
  firstForTurn: boolean;
}

/** Word timings of a turn, Cartesia's shape: parallel arrays, seconds since the turn's audio start. */
export interface WordTimestamps {
  words: readonly string[];
  start: readonly number[];
  end: readonly number[];
}

/** Tuning of {@link createPlaybackTracker}. */
export interface PlaybackTrackerOptions {
  /** Bytes per second of the outbound audio. Default 8000 (mu-law 8 kHz). */
  bytesPerSecond?: number;
  /**
   * Speaking rate used to estimate the length of a text segment whose audio is not all sent yet
   * (barge-in during synthesis), so a half-sent sentence is not taken as fully heard. Default 15
   * characters per second (about 150 words a minute).
   */
  charsPerSecond?: number;
}

/**
 * One call's playback bookkeeping. Lifecycle: create per outbound stream (per call); feed it in the
 * order things happen; `forgetTurn` turns that are finished with to free memory on long calls.
 *
 * Failure semantics: no method throws. Unknown turn ids read as empty (0 ms, '', 0 pending,
 * `allPlayed` false); unknown or foreign mark names echo as `null`; malformed arguments are
 * treated as empty.
 */
export interface PlaybackTracker {
  /**
   * Records a chunk about to be sent and returns the mark name to send right after it (e.g.
   * `t3-c7`: turn 3, chunk 7; string ids are used as is, `t7` gives `t7-c1`). Names are unique
   * within the tracker.
   */
  chunkSent(chunk: ChunkSent): string;
  /**
   * Handles a Twilio mark echo. Returns what it tells, or `null` when the name is not one of ours,
   * was already echoed, or was pending when `clear()` was called (a flushed mark: not heard).
   */
  markReceived(name: string): MarkReceipt | null;
  /**
   * Barge-in: call when sending Twilio `clear`. Every mark pending now is flushed: its later echo
   * is recognised and ignored. Conservative by design: a mark whose genuine echo was already in
   * flight is ignored too, so heard text may lag reality by one chunk, never lead it.
   */
  clear(): void;
  /** Adds word timings for a turn (Cartesia sends several batches per turn; they accumulate). */
  wordTimestamps(turnId: TurnId, ts: WordTimestamps): void;
  /** All audio of the turn has been sent (no more `chunkSent` expected for it). */
  turnAudioEnded(turnId: TurnId): void;
  /**
   * Text the caller heard of the turn. With word timestamps: the words whose end time has been
   * played, joined by spaces. Without: each text segment cut in proportion to its audio played,
   * back to a word boundary (a word counts only if wholly inside the played share). '' if none.
   */
  heardText(turnId: TurnId): string;
  /** Full text attributed to the turn's chunks (concatenated `text` spans). */
  fullText(turnId: TurnId): string;
  /** Marks of the turn sent and neither echoed nor flushed. */
  pendingMarks(turnId: TurnId): number;
  /** True when the turn's audio ended and every one of its marks was echoed as played. */
  allPlayed(turnId: TurnId): boolean;
  /** Audio of the turn the caller heard, in ms (through the last mark echoed as played). */
  playedMs(turnId: TurnId): number;
  /** Audio of the turn sent so far, in ms. */
  sentMs(turnId: TurnId): number;
  /** Drops everything known about a turn, including its marks still awaiting echo. */
  forgetTurn(turnId: TurnId): void;
}

interface Segment {
  text: string;
  /** Offset of the segment's audio in the turn, ms. */
  startMs: number;
  /** Audio sent for it so far, ms. */
  sentMs: number;
}

interface TurnState {
  id: TurnId;
  chunks: number;
  sentMs: number;
  playedMs: number;
  pending: number;
  echoed: number;
  flushed: number;
  ended: boolean;
  segments: Segment[];
  words: string[];
  wordEnds: number[];
}

interface MarkRecord {
  turn: TurnState;
  /** Audio of the turn through this mark's chunk, ms. */
  endMs: number;
  flushed: boolean;
}

function positive(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback;
}

function byteCount(bytes: unknown): number {
  if (typeof bytes === 'number') return Number.isFinite(bytes) && bytes > 0 ? Math.floor(bytes) : 0;
  if (bytes != null && typeof (bytes as { length?: unknown }).length === 'number') {
    const n = (bytes as { length: number }).length;
    return n > 0 ? n : 0;
  }
  return 0;
}

/** Appends a text span, with one space at the seam unless whitespace is already there. */
function joinSpan(acc: string, span: string): string {
  if (span === '') return acc;
  if (acc === '' || /\s$/.test(acc) || /^\s/.test(span)) return acc + span;
  return `${acc} ${span}`;
}

/**
 * Longest prefix of `text` that ends at a word boundary and has at most `chars` characters,
 * trailing whitespace trimmed. A word cut in the middle is left out.
 */
function cutAtWordBoundary(text: string, chars: number): string {
  if (chars >= text.length) return text;
  if (chars <= 0) return '';
  // Whole if the cut falls on whitespace, or right before it.
  if (/\s/.test(text.charAt(chars))) return text.slice(0, chars).trimEnd();
  const head = text.slice(0, chars);
  const lastSpace = head.search(/\s\S*$/);
  return lastSpace < 0 ? '' : head.slice(0, lastSpace).trimEnd();
}

/**
 * Creates a {@link PlaybackTracker} for one call.
 *
 * Proportional attribution (no word timestamps): the played share of a text segment is
 * `played audio in it / its duration`, where the duration is exact once a later segment has
 * started or the turn's audio ended, and otherwise the larger of the audio sent for it and the
 * length its text would take at `charsPerSecond`.
 */
export function createPlaybackTracker(opts: PlaybackTrackerOptions = {}): PlaybackTracker {
  const bytesPerMs = positive(opts.bytesPerSecond, SAMPLE_RATE_HZ) / 1000;
  const msPerChar = 1000 / positive(opts.charsPerSecond, 15);
  const turns = new Map<TurnId, TurnState>();
  const marks = new Map<string, MarkRecord>();
  let uniq = 0;

  const validId = (id: unknown): id is TurnId =>
    (typeof id === 'number' && !Number.isNaN(id)) || typeof id === 'string';

  const turnFor = (id: TurnId): TurnState => {
    let t = turns.get(id);
    if (!t) {
      t = {
        id,
        chunks: 0,
        sentMs: 0,
        playedMs: 0,
        pending: 0,
        echoed: 0,
        flushed: 0,
        ended: false,
        segments: [],
        words: [],
        wordEnds: [],
      };
      turns.set(id, t);
    }
    return t;
  };

  const label = (id: TurnId): string => (typeof id === 'number' ? `t${id}` : id);

  return {
    chunkSent(chunk: ChunkSent): string {
      const id = chunk?.turnId;
      const turn = turnFor(validId(id) ? id : '');
      const ms = byteCount(chunk?.bytes) / bytesPerMs;
      turn.chunks += 1;
      const text = typeof chunk?.text === 'string' ? chunk.text : '';
      const last = turn.segments[turn.segments.length - 1];
      if (text.length > 0 || !last) turn.segments.push({ text, startMs: turn.sentMs, sentMs: ms });
      else last.sentMs += ms;
      turn.sentMs += ms;
      let name = `${label(turn.id)}-c${turn.chunks}`;
      if (marks.has(name)) name = `${name}-${++uniq}`;
      while (marks.has(name)) name = `${label(turn.id)}-c${turn.chunks}-${++uniq}`;
      marks.set(name, { turn, endMs: turn.sentMs, flushed: false });
      turn.pending += 1;
      return name;
    },

    markReceived(name: string): MarkReceipt | null {
      if (typeof name !== 'string') return null;
      const rec = marks.get(name);
      if (!rec) return null;
      marks.delete(name);
      if (rec.flushed) return null;
      const turn = rec.turn;
      turn.pending -= 1;
      turn.echoed += 1;
      if (rec.endMs > turn.playedMs) turn.playedMs = rec.endMs;
      return { turnId: turn.id, playedMs: turn.playedMs, firstForTurn: turn.echoed === 1 };
    },

    clear(): void {
      for (const rec of marks.values()) {
        if (rec.flushed) continue;
        rec.flushed = true;
        rec.turn.pending -= 1;
        rec.turn.flushed += 1;
      }
    },

    wordTimestamps(turnId: TurnId, ts: WordTimestamps): void {
      if (!validId(turnId) || ts == null) return;
      const { words, end } = ts;
      if (!Array.isArray(words) || !Array.isArray(end)) return;
      const turn = turnFor(turnId);
      const n = Math.min(words.length, end.length);
      for (let i = 0; i < n; i++) {
        const w = words[i];
        const e = end[i];
        if (typeof w !== 'string' || w.trim() === '' || typeof e !== 'number' || !Number.isFinite(e))
          continue;
        turn.words.push(w.trim());
        turn.wordEnds.push(e * 1000);
      }
    },

    turnAudioEnded(turnId: TurnId): void {
      if (validId(turnId)) turnFor(turnId).ended = true;
    },

    heardText(turnId: TurnId): string {
      const turn = turns.get(turnId);
      if (!turn || turn.playedMs <= 0) return '';
      const played = turn.playedMs;
      if (turn.words.length > 0) {
        const heard: string[] = [];
        // Tolerance for float noise between byte-derived ms and second-based timestamps.
        for (let i = 0; i < turn.words.length; i++)
          if (turn.wordEnds[i]! <= played + 0.5) heard.push(turn.words[i]!);
        return heard.join(' ');
      }
      let out = '';
      const segs = turn.segments;
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i]!;
        if (s.text === '') continue;
        const closed = i < segs.length - 1 || turn.ended;
        const durationMs = closed ? s.sentMs : Math.max(s.sentMs, s.text.trim().length * msPerChar);
        const inSeg = played - s.startMs;
        if (inSeg <= 0) break;
        const share = durationMs <= 0 || inSeg >= durationMs ? 1 : inSeg / durationMs;
        if (share >= 1) {
          out = joinSpan(out, s.text);
          continue;
        }
        out = joinSpan(out, cutAtWordBoundary(s.text, Math.floor(s.text.length * share)));
        break;
      }
      return out.trim();
    },

    fullText(turnId: TurnId): string {
      const turn = turns.get(turnId);
      if (!turn) return '';
      let out = '';
      for (const s of turn.segments) out = joinSpan(out, s.text);
      return out.trim();
    },

    pendingMarks(turnId: TurnId): number {
      return turns.get(turnId)?.pending ?? 0;
    },

    allPlayed(turnId: TurnId): boolean {
      const turn = turns.get(turnId);
      return !!turn && turn.ended && turn.pending === 0 && turn.flushed === 0;
    },

    playedMs(turnId: TurnId): number {
      return turns.get(turnId)?.playedMs ?? 0;
    },

    sentMs(turnId: TurnId): number {
      return turns.get(turnId)?.sentMs ?? 0;
    },

    forgetTurn(turnId: TurnId): void {
      const turn = turns.get(turnId);
      if (!turn) return;
      turns.delete(turnId);
      for (const [name, rec] of marks) if (rec.turn === turn) marks.delete(name);
    },
  };
}
