/**
 * Metrics aggregation alone: per-turn timings into the `conversation_metrics` row (README, Metrics).
 */
import { aggregate, ConversationMetrics, type TurnTiming } from '../../src/metrics/conversation-metrics.js';

const providers = () => ({ stt: 'deepgram', llm: 'openai', tts: 'cartesia' });

/** A complete turn with every timing measured, `over` replacing some. */
function turn(n: number, over: Partial<TurnTiming> = {}): TurnTiming {
  return {
    turn: n,
    interrupted: false,
    latencyMs: 800,
    heardLatencyMs: 900,
    sttTtfbMs: 100,
    sttProcessingMs: 300,
    llmTtfbMs: 400,
    llmProcessingMs: 1000,
    ttsTtfbMs: 90,
    ttsProcessingMs: 700,
    promptTokens: 100,
    completionTokens: 20,
    ...over,
  };
}

describe('metrics aggregation', () => {
  it('gives avg, min and max of the measured values, rounded to a tenth', () => {
    expect(aggregate([10, 20, 31])).toEqual({ avg: 20.3, min: 10, max: 31 });
    expect(aggregate([1.26])).toEqual({ avg: 1.3, min: 1.3, max: 1.3 });
  });

  it('ignores values that were not measured or are not finite numbers', () => {
    expect(aggregate([undefined, 5, Number.NaN, Number.POSITIVE_INFINITY, 15])).toEqual({
      avg: 10,
      min: 5,
      max: 15,
    });
  });

  it('gives nulls when nothing was measured', () => {
    expect(aggregate([])).toEqual({ avg: null, min: null, max: null });
    expect(aggregate([undefined, undefined])).toEqual({ avg: null, min: null, max: null });
  });
});

describe('conversation metrics', () => {
  it('aggregates each provider timing and the overall latencies over the turns', () => {
    const m = new ConversationMetrics('conv-1', providers());
    m.addTurn(turn(0, { latencyMs: 600, sttTtfbMs: 80, llmTtfbMs: 300, ttsProcessingMs: 500 }));
    m.addTurn(turn(1, { latencyMs: 1000, sttTtfbMs: 120, llmTtfbMs: 500, ttsProcessingMs: 900 }));
    const row = m.toRow();
    expect(row).toMatchObject({
      turns: 2,
      interruptions: 0,
      latency_avg_ms: 800,
      latency_min_ms: 600,
      latency_max_ms: 1000,
      heard_latency_avg_ms: 900,
      stt_provider: 'deepgram',
      stt_ttfb_avg_ms: 100,
      stt_ttfb_min_ms: 80,
      stt_ttfb_max_ms: 120,
      llm_provider: 'openai',
      llm_ttfb_avg_ms: 400,
      llm_ttfb_min_ms: 300,
      llm_ttfb_max_ms: 500,
      tts_provider: 'cartesia',
      tts_processing_avg_ms: 700,
      tts_processing_min_ms: 500,
      tts_processing_max_ms: 900,
    });
  });

  it("counts an interrupted turn's TTFBs and latencies but not its LLM and TTS processing times", () => {
    const m = new ConversationMetrics('conv-1', providers());
    m.addTurn(turn(0));
    m.addTurn(
      turn(1, {
        interrupted: true,
        latencyMs: 2000,
        heardLatencyMs: 2100,
        llmTtfbMs: 800,
        ttsTtfbMs: 190,
        llmProcessingMs: 50,
        ttsProcessingMs: 40,
      }),
    );
    const row = m.toRow();
    expect(row.turns).toBe(2);
    expect(row.interruptions).toBe(1);
    expect([row.latency_min_ms, row.latency_max_ms]).toEqual([800, 2000]);
    expect([row.heard_latency_min_ms, row.heard_latency_max_ms]).toEqual([900, 2100]);
    expect([row.llm_ttfb_min_ms, row.llm_ttfb_max_ms]).toEqual([400, 800]);
    expect([row.tts_ttfb_min_ms, row.tts_ttfb_max_ms]).toEqual([90, 190]);
    expect([row.llm_processing_avg_ms, row.llm_processing_min_ms, row.llm_processing_max_ms]).toEqual([
      1000, 1000, 1000,
    ]);
    expect([row.tts_processing_avg_ms, row.tts_processing_min_ms, row.tts_processing_max_ms]).toEqual([
      700, 700, 700,
    ]);
  });

  it('counts the STT processing of the caller turn an interrupted bot turn answered (it finished before the bot spoke)', () => {
    const m = new ConversationMetrics('conv-1', providers());
    m.addTurn(turn(0, { sttProcessingMs: 200 }));
    m.addTurn(turn(1, { interrupted: true, sttProcessingMs: 400 }));
    expect(m.toRow()).toMatchObject({ stt_processing_min_ms: 200, stt_processing_max_ms: 400 });
  });

  it('gives null processing times when every turn was interrupted', () => {
    const m = new ConversationMetrics('conv-1', providers());
    m.addTurn(turn(0, { interrupted: true }));
    expect(m.toRow()).toMatchObject({
      interruptions: 1,
      llm_processing_avg_ms: null,
      tts_processing_avg_ms: null,
      latency_avg_ms: 800,
    });
  });

  it('sums the prompt and completion tokens of every turn, interrupted ones included', () => {
    const m = new ConversationMetrics('conv-1', providers());
    m.addTurn(turn(0, { promptTokens: 100, completionTokens: 20 }));
    m.addTurn(turn(1, { interrupted: true, promptTokens: 150, completionTokens: 5 }));
    m.addTurn({ turn: 2, interrupted: false });
    const row = m.toRow();
    expect(row.llm_prompt_tokens).toBe(250);
    expect(row.llm_completion_tokens).toBe(25);
  });

  it.each([
    [
      'names both providers when a role fell back (openai+local), once',
      providers(),
      ['local', 'local'],
      'openai+local',
    ],
    ['keeps the name when the same provider is reported again', providers(), ['openai'], 'openai'],
    [
      'adds a provider whose name is part of one already recorded',
      { stt: null, llm: 'openai-realtime', tts: null },
      ['openai', 'openai'],
      'openai-realtime+openai',
    ],
    [
      'takes the name as it is when none was recorded for the role',
      { stt: null, llm: null, tts: null },
      ['local'],
      'local',
    ],
  ])('%s', (_name, initial, reported, expected) => {
    const m = new ConversationMetrics('conv-1', initial);
    for (const name of reported) m.setProvider('llm', name);
    expect(m.toRow().llm_provider).toBe(expected);
  });

  it('records a fallback per role, leaving the other roles alone', () => {
    const m = new ConversationMetrics('conv-1', providers());
    m.setProvider('tts', 'espeak-ng');
    const row = m.toRow();
    expect([row.stt_provider, row.llm_provider, row.tts_provider]).toEqual([
      'deepgram',
      'openai',
      'cartesia+espeak-ng',
    ]);
  });

  it('renders an empty conversation as zero turns, zero tokens and null timings', () => {
    const now = new Date('2030-01-02T03:04:05.000Z');
    const row = new ConversationMetrics('conv-empty', { stt: null, llm: 'local', tts: 'text' }).toRow(now);
    const timings = Object.entries(row).filter(([k]) => k.endsWith('_ms'));
    expect(timings.length).toBe(24);
    for (const [, v] of timings) expect(v).toBeNull();
    expect(row).toMatchObject({
      conversation_id: 'conv-empty',
      turns: 0,
      interruptions: 0,
      llm_prompt_tokens: 0,
      llm_completion_tokens: 0,
      stt_provider: null,
      updated_at: '2030-01-02T03:04:05.000Z',
    });
  });

  it('renders the row with exactly the conversation_metrics columns', () => {
    const row = new ConversationMetrics('conv-1', providers()).toRow();
    const timing = (what: string) => ['avg', 'min', 'max'].map((a) => `${what}_${a}_ms`);
    const role = (r: string) => [`${r}_provider`, ...timing(`${r}_ttfb`), ...timing(`${r}_processing`)];
    const columns = ['conversation_id', 'turns', 'interruptions', 'updated_at'];
    columns.push(...timing('latency'), ...timing('heard_latency'), ...['stt', 'llm', 'tts'].flatMap(role));
    columns.push('llm_prompt_tokens', 'llm_completion_tokens');
    columns.push('prepared_turns_committed', 'prepared_turns_discarded');
    expect(Object.keys(row).sort()).toEqual(columns.sort());
  });

  it('counts prepared replies, committed and discarded, into the row', () => {
    const m = new ConversationMetrics('conv-1', providers());
    expect(m.toRow()).toMatchObject({ prepared_turns_committed: 0, prepared_turns_discarded: 0 });
    m.notePreparedTurn('committed');
    m.notePreparedTurn('discarded');
    m.notePreparedTurn('discarded');
    expect(m.toRow()).toMatchObject({ prepared_turns_committed: 1, prepared_turns_discarded: 2 });
    expect(m.preparedTurns()).toEqual({ committed: 1, discarded: 2 });
  });

  it('hands out copies of the recorded turns', () => {
    const m = new ConversationMetrics('conv-1', providers());
    m.addTurn(turn(0));
    const [copy] = m.all();
    copy!.latencyMs = 1;
    expect(m.all()[0]!.latencyMs).toBe(800);
    expect(m.toRow().latency_avg_ms).toBe(800);
  });
});
