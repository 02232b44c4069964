/**
 * Cuts streaming LLM text into speakable pieces as early as it is safe, so TTS starts on the first
 * clause instead of waiting for the whole reply.
 *
 * Rules: a sentence ends at . ! ? followed by whitespace (not after a known abbreviation, a single
 * initial, or inside a number like 1,250.50; "No." is an abbreviation only before a number, as in
 * "No. 5": "No. It was March." is two sentences). The very first piece may be cut earlier at a clause
 * boundary (, ; :) once it has at least `firstClauseMinChars` characters: that is where the
 * time-to-first-audio is won. Later pieces wait for whole sentences, which sound more natural.
 */

const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'st',
  'jr',
  'sr',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'approx',
  'inc',
]);

/** Options of the splitter. */
export interface SentenceSplitterOptions {
  firstClauseMinChars?: number;
  /** A piece longer than this is cut at the last space anyway (run-on text). */
  maxChars?: number;
}

/** Stateful splitter: `push` text deltas, get complete pieces; `flush` returns the rest. */
export class SentenceSplitter {
  private buffer = '';
  private emitted = 0;
  private readonly firstClauseMinChars: number;
  private readonly maxChars: number;

  constructor(opts: SentenceSplitterOptions = {}) {
    this.firstClauseMinChars = opts.firstClauseMinChars ?? 24;
    this.maxChars = opts.maxChars ?? 240;
  }

  /** Adds a delta; returns the pieces that are complete now (possibly none). */
  push(delta: string): string[] {
    this.buffer += delta;
    const out: string[] = [];
    for (;;) {
      const cut = this.findCut();
      if (cut < 0) break;
      const piece = this.buffer.slice(0, cut).trim();
      this.buffer = this.buffer.slice(cut).replace(/^\s+/, '');
      if (piece) {
        out.push(piece);
        this.emitted += 1;
      }
    }
    return out;
  }

  /** Returns whatever is left (end of the reply). */
  flush(): string[] {
    const rest = this.buffer.trim();
    this.buffer = '';
    if (!rest) return [];
    this.emitted += 1;
    return [rest];
  }

  private findCut(): number {
    const b = this.buffer;
    for (let i = 0; i < b.length - 1; i++) {
      const ch = b[i];
      const next = b[i + 1] ?? '';
      if (!/\s/.test(next)) continue;
      if (ch === '!' || ch === '?') return i + 1;
      if (ch === '.') {
        const word = /([A-Za-z.]+)$/.exec(b.slice(0, i))?.[1]?.toLowerCase() ?? '';
        if (ABBREVIATIONS.has(word) || /^[a-z]$/i.test(word)) continue;
        if (word === 'no') {
          const after = b.slice(i + 1).trimStart();
          if (after === '') return -1; // "No. " and nothing yet: the next delta decides.
          if (/^\d/.test(after)) continue;
        }
        return i + 1;
      }
      if (
        this.emitted === 0 &&
        (ch === ',' || ch === ';' || ch === ':') &&
        i + 1 >= this.firstClauseMinChars
      ) {
        return i + 1;
      }
    }
    if (b.length > this.maxChars) {
      const space = b.lastIndexOf(' ', this.maxChars);
      return space > 0 ? space + 1 : -1;
    }
    return -1;
  }
}
