/**
 * Operations' view of real phone calls: a voice claim over the Twilio media stream (Deepgram,
 * OpenAI and Cartesia SDKs against their fakes), then a call cut by a drain. Checked from the
 * outside, as an operator sees it: `GET /metrics` (Prometheus text, behind METRICS_TOKEN) and
 * `/readyz` during the call, and the trace tree a local OTLP/HTTP receiver got as JSON
 * (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`): conversation -> turn -> stt / llm / tts / tool, with
 * no personal data in any attribute.
 */
import { AUDIO_FIXTURE_TEXT, loadAudioFixture, type AudioFixtureName } from '../fakes/fixtures.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fakes/otlp-receiver.js';
import {
  sayAndWait,
  startPhoneHarness,
  waitForBotToFinish,
  type PhoneHarness,
} from '../support/phone-harness.js';
import { scriptedClaimModel } from '../support/scripted-llm.js';

const SPEEDUP = 8;
const METRICS_TOKEN = 'test-metrics-token';
const FULL_CLAIM: AudioFixtureName[] = [
  'okay-got-it',
  'march-third',
  'twelve-hundred-fifty-dollars',
  'yes-thats-correct',
];

/** One sample of a metric in Prometheus text, by name and exact label set (null: absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return null;
}

async function metrics(h: PhoneHarness, token?: string) {
  const res = await fetch(
    `${h.server.url}/metrics`,
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function readyz(h: PhoneHarness) {
  const res = await fetch(`${h.server.url}/readyz`);
  return {
    status: res.status,
    body: (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> },
  };
}

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
  spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);

describe('metrics, readiness and traces of live phone calls', () => {
  let receiver: OtlpReceiver;
  let h: PhoneHarness;
  const seen: Record<string, unknown> = {};

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    h = await startPhoneHarness({
      today: '2026-11-25',
      deepgram: { utterances: FULL_CLAIM.map((n) => AUDIO_FIXTURE_TEXT[n]) },
      openai: { replies: scriptedClaimModel() },
      cartesia: {},
      env: {
        MAX_CONCURRENT_CALLS: '1',
        METRICS_TOKEN,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'statecall-test',
      },
    });
  }, 30_000);

  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  it('counts a voice claim in /metrics, is not ready while it holds the only slot, and traces it turn by turn', async () => {
    const call = await h.call({ speedup: SPEEDUP });
    await waitForBotToFinish(call, 0);

    // During the call.
    expect((await metrics(h)).status).toBe(401);
    expect((await metrics(h, 'test-dashboard-token')).status).toBe(401);
    const during = await metrics(h, METRICS_TOKEN);
    expect(during.status).toBe(200);
    expect(during.type).toContain('text/plain');
    expect(sample(during.text, 'statecall_calls_active')).toBe(1);
    expect(sample(during.text, 'process_cpu_user_seconds_total')).toEqual(expect.any(Number));
    expect(sample(during.text, 'statecall_outbox_pending')).toEqual(expect.any(Number));
    const busy = await readyz(h);
    expect(busy.status).toBe(503);
    expect(busy.body.checks).toMatchObject({
      capacity: { ok: false },
      draining: { ok: true },
      store: { ok: true },
    });

    for (const [i, name] of FULL_CLAIM.entries())
      await sayAndWait(call, loadAudioFixture(name), {
        speedup: SPEEDUP,
        waitForAnswer: i < FULL_CLAIM.length - 1,
      });
    await h.rest!.waitForHangUp(call.callSid, 60_000);
    await call.waitForClosed();
    const d = await h.conversationByCallSid(call.callSid);
    expect(d.conversation.end_reason).toBe('completed');
    seen.claim = d;

    const after = await metrics(h, METRICS_TOKEN);
    expect(sample(after.text, 'statecall_calls_active')).toBe(0);
    expect(sample(after.text, 'statecall_calls_total', { channel: 'phone', end_reason: 'completed' })).toBe(
      1,
    );
    expect(sample(after.text, 'statecall_turn_latency_seconds_count', { channel: 'phone' })).toBe(
      d.metrics!.turns,
    );
    expect(
      sample(after.text, 'statecall_provider_ttfb_seconds_count', { role: 'stt', vendor: 'deepgram' }),
    ).toBeGreaterThanOrEqual(4);
    expect(
      sample(after.text, 'statecall_provider_ttfb_seconds_count', { role: 'tts', vendor: 'cartesia' }),
    ).toBe(d.metrics!.turns);
    // The greeting asks OpenAI; plain answers are read by the local fast path.
    expect(
      sample(after.text, 'statecall_provider_ttfb_seconds_count', { role: 'llm', vendor: 'openai' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after.text, 'statecall_transitions_total', { actor: 'call' })).toBe(
      d.transitions.filter((t) => t.actor === 'call').length,
    );
    expect(sample(after.text, 'statecall_transitions_total', { actor: 'claim' })).toBe(
      d.transitions.filter((t) => t.actor === 'claim').length,
    );
    expect(after.text).not.toContain('statecall_provider_failures_total{');
    expect((await readyz(h)).status).toBe(200);
  }, 120_000);

  it('answers /readyz 503 the moment a drain starts, while the live call is told goodbye', async () => {
    const call = await h.call({ speedup: SPEEDUP });
    await waitForBotToFinish(call, 0);
    const drained = h.server.drain({ timeoutMs: 0 });
    const r = await readyz(h);
    expect(r.status).toBe(503);
    expect(r.body.checks).toMatchObject({ draining: { ok: false } });
    expect(await drained).toEqual({ live: 1, finished: 0, hungUp: 1 });
    await h.rest!.waitForHangUp(call.callSid, 30_000);
    const d = await h.conversationByCallSid(call.callSid);
    expect(d.conversation.end_reason).toBe('server_shutdown');
    seen.drained = d;
    expect(
      sample((await metrics(h, METRICS_TOKEN)).text, 'statecall_calls_total', {
        channel: 'phone',
        end_reason: 'server_shutdown',
      }),
    ).toBe(1);
  }, 60_000);

  it('exported one trace per call to the OTLP receiver: conversation -> turns -> stt / llm / tts / tool, no personal data', async () => {
    await h.close(); // flushes the batch span processor
    const claim = seen.claim as Awaited<ReturnType<PhoneHarness['conversationByCallSid']>>;
    const drained = seen.drained as typeof claim;
    expect(claim && drained).toBeTruthy();
    expect(
      receiver.requests.every((r) => r.path === '/v1/traces' && r.contentType.startsWith('application/json')),
    ).toBe(true);
    const spans = receiver.spans;
    expect(new Set(spans.map((s) => s.resource['service.name']))).toEqual(new Set(['statecall-test']));

    const conversations = spans.filter((s) => s.name === 'conversation');
    expect(conversations.map((s) => s.parentSpanId)).toEqual([null, null]);
    const root = conversations.find(
      (s) => s.attributes['statecall.conversation.id'] === claim.conversation.id,
    )!;
    expect(root.attributes).toMatchObject({
      'statecall.claim.id': claim.conversation.claim_id,
      'statecall.channel': 'phone',
      'statecall.end_reason': 'completed',
      'statecall.caller': '…4567',
      'statecall.stt.vendor': 'deepgram',
      'statecall.tts.vendor': 'cartesia',
    });
    const turns = childrenOf(spans, root);
    expect(turns.every((t) => t.name === 'turn')).toBe(true);
    expect(turns).toHaveLength(claim.metrics!.turns);
    expect(turns.map((t) => t.attributes['statecall.turn']).sort((a, b) => Number(a) - Number(b))).toEqual(
      turns.map((_, i) => i + 1),
    );
    // The caller's turns: each has an stt child, and the user's text length (never the text).
    const answered = turns.filter((t) => childrenOf(spans, t).some((c) => c.name === 'stt'));
    expect(answered).toHaveLength(FULL_CLAIM.length);
    expect(answered.map((t) => t.attributes['statecall.turn.user_text_length']).sort()).toEqual(
      FULL_CLAIM.map((n) => AUDIO_FIXTURE_TEXT[n].length).sort(),
    );
    for (const t of turns) {
      const kids = childrenOf(spans, t);
      expect(kids.filter((c) => c.name === 'tts')).toHaveLength(1);
      expect(kids.filter((c) => c.name === 'llm')).toHaveLength(1);
      expect(t.attributes).toMatchObject({
        'statecall.turn.interrupted': false,
        'statecall.turn.latency_ms': expect.any(Number),
      });
      for (const c of kids) {
        expect(c.startNs).toBeGreaterThanOrEqual(t.startNs);
        if (c.name !== 'tool') expect(c.attributes['statecall.provider.ttfb_ms']).toEqual(expect.any(Number));
      }
    }
    // Tool spans: one per claim event the turns applied, as stored in the transcript.
    const tools = spans.filter((s) => s.name === 'tool' && s.traceId === root.traceId);
    expect(tools).toHaveLength(claim.messages.filter((m) => m.role === 'tool').length);
    expect(tools.every((t) => turns.some((turn) => turn.spanId === t.parentSpanId))).toBe(true);
    expect(tools.every((t) => t.attributes['statecall.tool.accepted'] === true)).toBe(true);

    const cut = conversations.find(
      (s) => s.attributes['statecall.conversation.id'] === drained.conversation.id,
    )!;
    expect(cut.attributes['statecall.end_reason']).toBe('server_shutdown');

    // No personal data: neither the caller's number nor what anyone said nor claim values.
    const strings = spans
      .flatMap((s) => [
        ...Object.values(s.attributes),
        ...s.events.flatMap((e) => Object.values(e.attributes)),
      ])
      .filter((v): v is string => typeof v === 'string');
    for (const v of strings) {
      expect(v).not.toMatch(/5551234567|5557654321/);
      expect(v).not.toMatch(/march|twelve|hundred|got it|1250|2026-03-03/i);
    }
  }, 60_000);
});
