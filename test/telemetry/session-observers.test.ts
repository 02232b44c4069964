/**
 * The two session observers, fed the notices a session sends (no server, no sockets): the
 * Prometheus metrics and the OpenTelemetry call tracer (on an in-memory exporter). Failures and
 * fallbacks are counted against the vendor that failed, an unfinished turn still gets its span,
 * and an observer that throws never reaches the session.
 */
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { SpanStatusCode } from '@opentelemetry/api';
import { createLogger } from '../../src/logger.js';
import type { ObservedCall, SessionNotice, SessionObserver } from '../../src/session/session-types.js';
import { createCallTracer } from '../../src/telemetry/call-tracer.js';
import { createServerMetrics } from '../../src/telemetry/metrics.js';
import { combineObservers } from '../../src/telemetry/observers.js';

const CALL: ObservedCall = {
  conversationId: 'conv-1',
  claimId: 'CLM-1234-5678',
  channel: 'phone',
  callerMasked: '…4567',
  vendors: { stt: 'deepgram', llm: 'openai', tts: 'cartesia' },
};

/** A call whose second turn loses Cartesia to espeak-ng and whose third turn never finishes. */
function playCall(observer: SessionObserver) {
  const o = observer.callStarted(CALL);
  const n = (notice: SessionNotice) => o.notice(notice);
  n({
    type: 'session.started',
    conversationId: CALL.conversationId,
    claimId: CALL.claimId,
    channel: 'phone',
  });
  n({ type: 'state.changed', actor: 'call', value: 'active', event: 'call.started' });
  n({ type: 'bot.turn.started', turn: 1 });
  n({ type: 'state.changed', actor: 'call', value: { active: 'speaking' }, event: 'bot.speech.started' });
  n({ type: 'bot.turn.ended', turn: 1, text: 'Hello', heardText: 'Hello', interrupted: false });
  n({
    type: 'metrics.turn',
    timing: {
      turn: 1,
      interrupted: false,
      latencyMs: 250,
      llmTtfbMs: 300,
      llmProvider: 'openai',
      ttsTtfbMs: 90,
    },
  });
  n({ type: 'bot.turn.started', turn: 2 });
  n({ type: 'user.turn', turn: 2, text: 'March third' });
  n({ type: 'tool.called', turn: 2, name: 'claim_date_provided', arguments: '{}', result: '{"ok":true}' });
  n({ type: 'tool.called', turn: 2, name: 'claim_amount_provided', arguments: '{}', result: '{"ok":false}' });
  o.providerChanged('tts', 'espeak-ng');
  n({ type: 'provider.fallback', provider: 'tts', scope: 'call', message: 'fell back to espeak-ng' });
  n({ type: 'state.changed', actor: 'claim', value: 'collectingAmount', event: 'claim.date.provided' });
  n({ type: 'bot.turn.ended', turn: 2, text: 'Thanks', heardText: 'Th', interrupted: true });
  n({
    type: 'metrics.turn',
    timing: {
      turn: 2,
      interrupted: true,
      latencyMs: 400,
      sttTtfbMs: 120,
      sttProcessingMs: 80,
      llmTtfbMs: 2,
      llmProvider: 'local',
      ttsTtfbMs: 40,
    },
  });
  n({ type: 'provider.fallback', provider: 'llm', scope: 'turn', message: 'HTTP 500' });
  n({ type: 'bot.turn.started', turn: 3 });
  n({ type: 'session.ended', reason: 'caller_left' });
}

describe('the session observers', () => {
  it('count calls, transitions, latencies and TTFBs by vendor, and failures against the vendor that failed', async () => {
    let active = 3;
    const metrics = createServerMetrics({ activeCalls: () => active, outboxPending: () => 7 });
    playCall(metrics.observer);
    active = 2;
    const text = await metrics.render();
    const lines = text.split('\n');
    const has = (line: string) => expect(lines).toContain(line);
    has('statecall_calls_active 2');
    has('statecall_outbox_pending 7');
    has('statecall_calls_total{channel="phone",end_reason="caller_left"} 1');
    has('statecall_transitions_total{actor="call"} 2');
    has('statecall_transitions_total{actor="claim"} 1');
    has('statecall_turn_latency_seconds_count{channel="phone"} 2');
    has('statecall_turn_latency_seconds_sum{channel="phone"} 0.65');
    has('statecall_turn_latency_seconds_bucket{le="0.3",channel="phone"} 1');
    has('statecall_provider_ttfb_seconds_count{role="llm",vendor="openai"} 1');
    has('statecall_provider_ttfb_seconds_count{role="llm",vendor="local"} 1');
    has('statecall_provider_ttfb_seconds_count{role="stt",vendor="deepgram"} 1');
    // The TTS of turn 2 was timed after the switch: espeak-ng's. The failure was Cartesia's.
    has('statecall_provider_ttfb_seconds_count{role="tts",vendor="cartesia"} 1');
    has('statecall_provider_ttfb_seconds_count{role="tts",vendor="espeak-ng"} 1');
    has('statecall_provider_failures_total{role="tts",vendor="cartesia"} 1');
    has('statecall_provider_failures_total{role="llm",vendor="openai"} 1');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('trace the call as conversation -> turns -> stt / llm / tts / tool, an unfinished turn marked as an error', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    playCall(createCallTracer(provider.getTracer('test')));
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentName = (s: (typeof spans)[number]) =>
      s.parentSpanContext ? (byId.get(s.parentSpanContext.spanId)?.name ?? '?') : null;
    const conversation = spans.find((s) => s.name === 'conversation')!;
    expect(parentName(conversation)).toBeNull();
    expect(conversation.attributes).toMatchObject({
      'statecall.conversation.id': 'conv-1',
      'statecall.claim.id': 'CLM-1234-5678',
      'statecall.channel': 'phone',
      'statecall.caller': '…4567',
      'statecall.end_reason': 'caller_left',
    });
    expect(conversation.events.map((e) => [e.name, e.attributes?.['statecall.provider.vendor']])).toEqual([
      ['provider.failed', 'cartesia'],
      ['provider.failed', 'openai'],
    ]);
    const turns = spans
      .filter((s) => s.name === 'turn')
      .sort((a, b) => Number(a.attributes['statecall.turn']) - Number(b.attributes['statecall.turn']));
    expect(turns.map((t) => [t.attributes['statecall.turn'], parentName(t)])).toEqual([
      [1, 'conversation'],
      [2, 'conversation'],
      [3, 'conversation'],
    ]);
    const childrenOf = (turn: (typeof spans)[number]) =>
      spans
        .filter((s) => s.parentSpanContext?.spanId === turn.spanContext().spanId)
        .map((s) => s.name)
        .sort();
    expect(childrenOf(turns[0]!)).toEqual(['llm', 'tts']);
    expect(childrenOf(turns[1]!)).toEqual(['llm', 'stt', 'tool', 'tool', 'tts']);
    expect(childrenOf(turns[2]!)).toEqual([]);
    expect(turns[1]!.attributes).toMatchObject({
      'statecall.turn.user_text_length': 11,
      'statecall.turn.interrupted': true,
      'statecall.turn.latency_ms': 400,
    });
    expect(turns[2]!.status.code).toBe(SpanStatusCode.ERROR);
    const tools = spans
      .filter((s) => s.name === 'tool')
      .map((s) => [s.attributes['statecall.tool.name'], s.attributes['statecall.tool.accepted']]);
    expect(tools.sort()).toEqual([
      ['claim_amount_provided', false],
      ['claim_date_provided', true],
    ]);
    const tts = spans.filter((s) => s.name === 'tts').map((s) => s.attributes['statecall.provider.vendor']);
    expect(tts.sort()).toEqual(['cartesia', 'espeak-ng']);
    // Nothing said by anyone reaches an attribute.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toMatch(/March|Hello|Thanks/);
    await provider.shutdown();
  });

  it('keep a throwing observer away from the session and the other observers', async () => {
    const metrics = createServerMetrics({ activeCalls: () => 0, outboxPending: () => 0 });
    const broken: SessionObserver = {
      callStarted: () => ({
        notice: () => {
          throw new Error('observer bug');
        },
        providerChanged: () => {
          throw new Error('observer bug');
        },
      }),
    };
    const both = combineObservers(
      [broken, metrics.observer, null],
      createLogger('silent', { pretty: false }),
    )!;
    expect(() => playCall(both)).not.toThrow();
    expect(await metrics.render()).toContain(
      'statecall_calls_total{channel="phone",end_reason="caller_left"} 1',
    );
    expect(combineObservers([null, undefined], createLogger('silent', { pretty: false }))).toBeUndefined();
  });
});
