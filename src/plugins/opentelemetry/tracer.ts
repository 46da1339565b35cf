import { rootCertificates } from 'node:tls';
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { version } from '../../version.js';
import type { OpenTelemetryConfig } from './schema.js';

/** Kong's kong.conf `tracing_sampling_rate` default, used when the plugin names no `sampling_rate`. */
export const DEFAULT_SAMPLING_RATE = 0.01;

export interface InstanceTracer {
  readonly tracer: Tracer;
  /** Exports what is queued and stops (the configuration that built it is retired). */
  readonly shutdown: () => Promise<void>;
}

/**
 * One plugin instance's tracer: the official SDK's provider with a parent-based ratio sampler (a
 * sampled or unsampled parent decides, as Kong's get_sampling_decision), a batch processor sized by
 * Kong's queue record (bounded: a full queue drops spans), and the OTLP/HTTP protobuf exporter.
 */
export function instanceTracer(config: OpenTelemetryConfig, trustedCaPems: readonly string[]): InstanceTracer {
  const exporter = new OTLPTraceExporter({
    url: config.traces_endpoint ?? undefined,
    headers: config.headers ?? {},
    // Kong times connect, send and read apart; the exporter has one deadline for an export.
    timeoutMillis: config.connect_timeout + config.send_timeout + config.read_timeout,
    httpAgentOptions: { keepAlive: true, ...(trustedCaPems.length === 0 ? {} : { ca: [...rootCertificates, ...trustedCaPems] }) },
  });
  const queue = config.queue;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'kong', 'service.version': version, ...config.resource_attributes }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampling_rate ?? DEFAULT_SAMPLING_RATE) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxExportBatchSize: queue.max_batch_size,
        scheduledDelayMillis: queue.max_coalescing_delay * 1000,
        maxQueueSize: Math.max(queue.max_entries, queue.max_batch_size),
        exportTimeoutMillis: config.connect_timeout + config.send_timeout + config.read_timeout,
      }),
    ],
  });
  return { tracer: provider.getTracer('portcullis', version), shutdown: () => provider.shutdown() };
}
