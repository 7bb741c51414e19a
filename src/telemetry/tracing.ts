// Optional OpenTelemetry tracing of workflows and activities (@temporalio/interceptors-opentelemetry),
// sent over OTLP/HTTP. On only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set (and OTEL_TRACES_EXPORTER is not `none`); the exporter reads the standard OTLP settings
// itself: those two endpoints, OTEL_EXPORTER_OTLP(_TRACES)_HEADERS, _TIMEOUT and _COMPRESSION;
// the service is OTEL_SERVICE_NAME (default parrot-worker), with OTEL_RESOURCE_ATTRIBUTES added;
// OTEL_BSP_* tune the batching, OTEL_PROPAGATORS the propagation.
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export interface Tracing {
  /** For the workers (and their workflow bundle): spans for workflows, activities and the calls between them. */
  plugin: OpenTelemetryPlugin;
  /** Sends the spans still buffered; call once the workers have stopped. */
  shutdown(): Promise<void>;
}

export function tracingFromEnv(env: NodeJS.ProcessEnv): Tracing | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  if (env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const resource = new Resource({ 'service.name': 'parrot-worker' }).merge(envDetectorSync.detect());
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Global, for the activity interceptor to read the trace context a workflow put in an
  // activity's headers (OTEL_PROPAGATORS, default W3C trace context and baggage) and run the
  // activity's span under it.
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  return {
    plugin: new OpenTelemetryPlugin({ resource, spanProcessor, tracer: provider.getTracer('parrot') }),
    shutdown: () => provider.shutdown(),
  };
}
