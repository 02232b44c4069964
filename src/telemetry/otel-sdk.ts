/**
 * The OpenTelemetry trace SDK, set up once per server: a NodeTracerProvider with a batch span
 * processor and the OTLP/HTTP exporter for the configured protocol (`http/protobuf` or
 * `http/json`). The resource is `service.name` (OTEL_SERVICE_NAME, default `statecall`),
 * `service.version`, and whatever OTEL_RESOURCE_ATTRIBUTES adds. The provider is not registered
 * globally: our spans use its tracer directly, and no library's auto-instrumentation is switched
 * on behind our back. Imported only when tracing is on (tracing.ts).
 */
import { createRequire } from 'node:module';
import { diag, DiagLogLevel, type Tracer } from '@opentelemetry/api';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import type { Logger } from 'pino';

/** The running SDK. */
export interface TraceSdk {
  tracer: Tracer;
  serviceName: string;
  /** Flushes the batch and stops exporting. Never rejects. */
  shutdown(): Promise<void>;
}

/** What the SDK is set up with. */
export interface TraceSdkOptions {
  /** The OTLP traces URL (e.g. http://collector:4318/v1/traces). */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  /** Used when OTEL_SERVICE_NAME is unset. */
  serviceName: string;
  logger: Logger;
}

/** Our version, for `service.version` and the tracer's scope. */
function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    try {
      return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
    } catch {
      return 'unknown';
    }
  }
}

/** Starts the trace SDK (see file header). */
export async function startTraceSdk(opts: TraceSdkOptions): Promise<TraceSdk> {
  // The SDK's own complaints (an unreachable collector, a rejected batch) go to our logger, once each.
  const log = opts.logger.child({ component: 'otel' });
  diag.setLogger(
    {
      error: (m) => log.warn(m),
      warn: (m) => log.warn(m),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    DiagLogLevel.WARN,
  );
  const { OTLPTraceExporter } =
    opts.protocol === 'http/json'
      ? await import('@opentelemetry/exporter-trace-otlp-http')
      : await import('@opentelemetry/exporter-trace-otlp-proto');
  const version = packageVersion();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': opts.serviceName, 'service.version': version }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.url }))],
  });
  return {
    tracer: provider.getTracer('statecall', version),
    serviceName: String(resource.attributes['service.name']),
    shutdown: () =>
      provider.shutdown().catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 'trace export at shutdown failed');
      }),
  };
}
