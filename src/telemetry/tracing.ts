/**
 * Tracing switch: OpenTelemetry is on when an OTLP endpoint is configured
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and `OTEL_SDK_DISABLED`
 * is not set. Only then is the SDK imported (start-up time and memory of every other run stay as
 * they were). The exporter and SDK read the standard `OTEL_*` variables themselves (endpoint,
 * headers, timeout, compression, sampler, resource attributes, batch sizes).
 *
 * Failure semantics: a tracing set-up that fails is logged and the server runs without traces;
 * an unreachable collector only costs dropped spans (the SDK logs and drops, never blocks a call).
 */
import type { Logger } from 'pino';
import type { Env } from '../config.js';
import type { SessionObserver } from '../session/session-types.js';

/** Running tracing. */
export interface Tracing {
  /** The session observer that turns calls into spans. */
  readonly observer: SessionObserver;
  /** Exports what is buffered and stops the SDK. Never rejects. */
  shutdown(): Promise<void>;
}

/** The variables tracing depends on. */
export type TracingEnv = Pick<
  Env,
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_PROTOCOL'
  | 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
  | 'OTEL_SERVICE_NAME'
  | 'OTEL_SDK_DISABLED'
>;

/**
 * Where spans go, by the OTLP rule: the traces endpoint as given, else the base endpoint +
 * `/v1/traces`; null when tracing is off (no endpoint, or OTEL_SDK_DISABLED). Computed from the
 * parsed config (not left to the exporter's own reading of `process.env`), so a server started
 * with a config object exports where that config says.
 */
export function tracesUrlOf(env: TracingEnv): string | null {
  if (env.OTEL_SDK_DISABLED) return null;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

/** Starts tracing when enabled (see file header); null when off or when set-up failed. */
export async function startTracing(env: TracingEnv, logger: Logger): Promise<Tracing | null> {
  const url = tracesUrlOf(env);
  if (!url) return null;
  const protocol =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  try {
    const [{ startTraceSdk }, { createCallTracer }] = await Promise.all([
      import('./otel-sdk.js'),
      import('./call-tracer.js'),
    ]);
    const sdk = await startTraceSdk({
      url,
      protocol,
      serviceName: env.OTEL_SERVICE_NAME ?? 'statecall',
      logger,
    });
    logger.info(
      { url: withoutCredentials(url), protocol, serviceName: sdk.serviceName },
      'OpenTelemetry tracing on (OTLP)',
    );
    return { observer: createCallTracer(sdk.tracer), shutdown: sdk.shutdown };
  } catch (err) {
    logger.error(
      { err: (err as Error).message },
      'OpenTelemetry tracing could not start; running without traces',
    );
    return null;
  }
}

/** The URL as it may be logged: origin and path, never user info or query (tokens live there). */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '[unparsable url]';
  }
}
