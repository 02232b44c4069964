/**
 * Prometheus metrics (prom-client) for `GET /metrics`: the calls, their turn latency, provider
 * TTFBs and failures, state-machine transitions and the outbox depth, plus the default process
 * metrics. Fed by the sessions through {@link SessionObserver} (one observation per call), never by
 * prom-client calls scattered through the engine. Names and meaning are in the README
 * ("Observability").
 *
 * One registry per server (not prom-client's global one), so several servers in one process
 * (tests) keep their own counts. Observations never throw into a call.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallObservation, ObservedCall, SessionObserver } from '../session/session-types.js';
import { labelValue, trackVendors, type ProviderRole } from './vendors.js';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  /** Calls being served now (admission's live slots). */
  activeCalls(): number;
  /** Writes waiting in the outbox. */
  outboxPending(): number;
}

/** The server's metrics. */
export interface ServerMetrics {
  /** The observer to hand to the sessions. */
  readonly observer: SessionObserver;
  /** The Prometheus text exposition content type. */
  readonly contentType: string;
  /** Renders every metric in the Prometheus text format. */
  render(): Promise<string>;
  readonly registry: Registry;
}

/** Turn latency buckets, seconds: a phone turn should answer well under a second. */
const LATENCY_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
/** Provider TTFB buckets, seconds. */
const TTFB_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];

const TTFB_OF: Record<ProviderRole, 'sttTtfbMs' | 'llmTtfbMs' | 'ttsTtfbMs'> = {
  stt: 'sttTtfbMs',
  llm: 'llmTtfbMs',
  tts: 'ttsTtfbMs',
};

const seconds = (ms: number | undefined) =>
  typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms / 1000 : null;

/** Creates the server's registry and its session observer. */
export function createServerMetrics(sources: MetricsSources): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'statecall_calls_active',
    help: 'Calls being served by this instance now',
    registers: [registry],
    collect() {
      this.set(sources.activeCalls());
    },
  });
  new Gauge({
    name: 'statecall_outbox_pending',
    help: 'Store writes queued in the outbox, not yet in the database',
    registers: [registry],
    collect() {
      this.set(sources.outboxPending());
    },
  });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ) => new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
  const callsTotal = counter('statecall_calls_total', 'Calls ended, by channel and end reason', [
    'channel',
    'end_reason',
  ]);
  const turnLatency = histogram(
    'statecall_turn_latency_seconds',
    'Caller stopped speaking (or typed turn received) to first bot audio sent',
    ['channel'],
    LATENCY_BUCKETS,
  );
  const providerTtfb = histogram(
    'statecall_provider_ttfb_seconds',
    'Provider time to first byte per turn (STT: speech start to first transcript; LLM: request to first token; TTS: first text to first audio)',
    ['role', 'vendor'],
    TTFB_BUCKETS,
  );
  const providerFailures = counter(
    'statecall_provider_failures_total',
    'Provider failures the call machine routed (each fell back or offered the keypad)',
    ['role', 'vendor'],
  );
  const transitions = counter(
    'statecall_transitions_total',
    'Events processed by the machines, by actor (call or claim)',
    ['actor'],
  );

  const callStarted = (call: ObservedCall): CallObservation => {
    const vendors = trackVendors(call);
    let ended = false;
    return {
      providerChanged: (role, name) => vendors.changed(role, name),
      notice(n) {
        switch (n.type) {
          case 'state.changed':
            transitions.inc({ actor: n.actor });
            return;
          case 'metrics.turn': {
            const latency = seconds(n.timing.latencyMs);
            if (latency !== null) turnLatency.observe({ channel: call.channel }, latency);
            for (const role of ['stt', 'llm', 'tts'] as const) {
              const ttfb = seconds(n.timing[TTFB_OF[role]]);
              if (ttfb !== null) providerTtfb.observe({ role, vendor: vendors.ofTurn(role, n.timing) }, ttfb);
            }
            return;
          }
          case 'provider.fallback':
            providerFailures.inc({ role: n.provider, vendor: vendors.failed(n.provider) });
            return;
          case 'session.ended':
            if (ended) return;
            ended = true;
            callsTotal.inc({ channel: call.channel, end_reason: labelValue(n.reason) });
            return;
          default:
            return;
        }
      },
    };
  };

  return {
    observer: { callStarted },
    contentType: registry.contentType,
    render: () => registry.metrics(),
    registry,
  };
}
