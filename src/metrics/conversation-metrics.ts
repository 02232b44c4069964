/**
 * Per-turn timings and their per-conversation aggregates (avg/min/max), computed the same way for
 * every provider. Definitions are in the README ("Metrics").
 *
 * Interrupted turns are flagged: their TTFBs and overall latency count (they happened before the
 * interruption) but their processing times do not (a cut-off stream says nothing about how long the
 * full one takes).
 */
import type { MetricsRow, TimingAggregate } from '../store/types.js';

/** Timings of one bot turn, ms. A missing value was not measured (e.g. no STT on a typed turn). */
export interface TurnTiming {
  turn: number;
  interrupted: boolean;
  /** Caller stopped speaking (or the typed turn arrived) → first bot audio sent. */
  latencyMs?: number;
  /** Caller stopped speaking → first bot audio heard (echo of the first mark). */
  heardLatencyMs?: number;
  sttTtfbMs?: number;
  sttProcessingMs?: number;
  llmTtfbMs?: number;
  /** The dialogue whose first chunk `llmTtfbMs` timed (`openai`, or `local` for the fast path). */
  llmProvider?: string;
  llmProcessingMs?: number;
  ttsTtfbMs?: number;
  ttsProcessingMs?: number;
  promptTokens?: number;
  completionTokens?: number;
}

/** Avg/min/max of the defined numbers (all null when there are none). */
export function aggregate(values: (number | undefined)[]): TimingAggregate {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (xs.length === 0) return { avg: null, min: null, max: null };
  const sum = xs.reduce((a, b) => a + b, 0);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { avg: r(sum / xs.length), min: r(Math.min(...xs)), max: r(Math.max(...xs)) };
}

/** Provider names recorded with the metrics. */
export interface MetricsProviders {
  stt: string | null;
  llm: string | null;
  tts: string | null;
}

/** Collects turn timings for one conversation and renders the `conversation_metrics` row. */
export class ConversationMetrics {
  private readonly turns: TurnTiming[] = [];
  private interruptions = 0;
  private readonly prepared = { committed: 0, discarded: 0 };

  constructor(
    readonly conversationId: string,
    private readonly providers: MetricsProviders,
  ) {}

  /** Records a finished bot turn. */
  addTurn(t: TurnTiming): void {
    this.turns.push(t);
    if (t.interrupted) this.interruptions += 1;
  }

  /**
   * Preemptive generation: a reply prepared during the endpointing patience was committed (the
   * caller said nothing more) or discarded (the caller went on; its LLM and TTS work was wasted).
   */
  notePreparedTurn(outcome: 'committed' | 'discarded'): void {
    this.prepared[outcome] += 1;
  }

  /** Prepared replies committed and discarded so far (stored in `conversation_metrics`, logged when the call ends). */
  preparedTurns(): { committed: number; discarded: number } {
    return { ...this.prepared };
  }

  /** All turns recorded so far (copies). */
  all(): TurnTiming[] {
    return this.turns.map((t) => ({ ...t }));
  }

  /** The provider names as they stand (copies). */
  providerNames(): MetricsProviders {
    return { ...this.providers };
  }

  /** Updates the provider names (e.g. after a fallback switched a role to `local`). */
  setProvider(role: keyof MetricsProviders, name: string): void {
    const current = this.providers[role];
    if (!current) this.providers[role] = name;
    else if (!current.split('+').includes(name)) this.providers[role] = `${current}+${name}`;
  }

  /** The aggregate row as stored in `conversation_metrics`. */
  toRow(now = new Date()): MetricsRow {
    const all = this.turns;
    const complete = all.filter((t) => !t.interrupted);
    const pick = (k: keyof TurnTiming, from: TurnTiming[]) => from.map((t) => t[k] as number | undefined);
    const lat = aggregate(pick('latencyMs', all));
    const heard = aggregate(pick('heardLatencyMs', all));
    const sttT = aggregate(pick('sttTtfbMs', all));
    const sttP = aggregate(pick('sttProcessingMs', all));
    const llmT = aggregate(pick('llmTtfbMs', all));
    const llmP = aggregate(pick('llmProcessingMs', complete));
    const ttsT = aggregate(pick('ttsTtfbMs', all));
    const ttsP = aggregate(pick('ttsProcessingMs', complete));
    const sum = (k: 'promptTokens' | 'completionTokens') => all.reduce((a, t) => a + (t[k] ?? 0), 0);
    return {
      conversation_id: this.conversationId,
      turns: all.length,
      interruptions: this.interruptions,
      latency_avg_ms: lat.avg,
      latency_min_ms: lat.min,
      latency_max_ms: lat.max,
      heard_latency_avg_ms: heard.avg,
      heard_latency_min_ms: heard.min,
      heard_latency_max_ms: heard.max,
      stt_provider: this.providers.stt,
      stt_ttfb_avg_ms: sttT.avg,
      stt_ttfb_min_ms: sttT.min,
      stt_ttfb_max_ms: sttT.max,
      stt_processing_avg_ms: sttP.avg,
      stt_processing_min_ms: sttP.min,
      stt_processing_max_ms: sttP.max,
      llm_provider: this.providers.llm,
      llm_ttfb_avg_ms: llmT.avg,
      llm_ttfb_min_ms: llmT.min,
      llm_ttfb_max_ms: llmT.max,
      llm_processing_avg_ms: llmP.avg,
      llm_processing_min_ms: llmP.min,
      llm_processing_max_ms: llmP.max,
      llm_prompt_tokens: sum('promptTokens'),
      llm_completion_tokens: sum('completionTokens'),
      tts_provider: this.providers.tts,
      tts_ttfb_avg_ms: ttsT.avg,
      tts_ttfb_min_ms: ttsT.min,
      tts_ttfb_max_ms: ttsT.max,
      tts_processing_avg_ms: ttsP.avg,
      tts_processing_min_ms: ttsP.min,
      tts_processing_max_ms: ttsP.max,
      prepared_turns_committed: this.prepared.committed,
      prepared_turns_discarded: this.prepared.discarded,
      updated_at: now.toISOString(),
    };
  }
}
