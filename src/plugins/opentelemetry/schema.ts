import { Type, type Static } from '@sinclair/typebox';
import { atLeastOneOf } from '../../config/at-least-one-of.js';
import type { ConfigError } from '../../config/types.js';
import type { PluginSchema } from '../../pipeline/plugin.js';
import { queueRecord } from '../queue-record.js';

const url = Type.String({ format: 'uri', pattern: '^[hH][tT][tT][pP][sS]?://', errorMessage: 'must be an http(s) URL' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T, description: string) => Type.Union([schema, Type.Null()], { default: null, description });
const headerName = Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', errorMessage: 'bad header name' });
const timeout = (ms: number, description: string) => Type.Integer({ minimum: 0, maximum: 2147483646, default: ms, description });

/** Kong's tracing header formats (kong/observability/tracing/propagation/utils.lua FORMATS). */
const KONG_FORMATS = ['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'aws', 'gcp', 'datadog', 'instana'] as const;
/** The ones Portcullis reads and writes: W3C Trace Context (traceparent, tracestate). */
export const SUPPORTED_FORMATS: ReadonlySet<string> = new Set(['w3c']);
const format = Type.Union(KONG_FORMATS.map((f) => Type.Literal(f)));

/** Kong's propagation record (kong/observability/tracing/propagation/schema.lua). */
const propagation = Type.Object(
  {
    extract: Nullable(Type.Array(Type.Union(KONG_FORMATS.filter((f) => f !== 'b3-single').map((f) => Type.Literal(f)))), 'Formats read from incoming requests, first found wins; [] starts every trace anew. Unset: every format Portcullis reads (w3c).'),
    clear: Nullable(Type.Array(headerName), 'Headers removed from the upstream request after extraction.'),
    inject: Nullable(Type.Array(Type.Union([Type.Literal('preserve'), format])), 'Formats written to the upstream request; preserve: the incoming one, else default_format. Unset: preserve.'),
    default_format: Type.Union(KONG_FORMATS.map((f) => Type.Literal(f)), { default: 'w3c', description: 'Format injected by preserve when the request carried none.' }),
  },
  { additionalProperties: false, default: {} },
);

/** Kong's opentelemetry (kong/plugins/opentelemetry/schema.lua). */
export const openTelemetryConfig = Type.Object(
  {
    traces_endpoint: Nullable(url, 'OTLP/HTTP traces endpoint (protobuf), e.g. http://collector:4318/v1/traces.'),
    logs_endpoint: Nullable(url, 'OTLP/HTTP logs endpoint: not supported by Portcullis (refused).'),
    headers: Nullable(Type.Record(Type.String(), Type.String()), 'Headers sent with each export (an APM token).'),
    resource_attributes: Nullable(Type.Record(Type.String(), Type.String({ minLength: 1 })), 'Resource attributes; service.name defaults to kong.'),
    queue: queueRecord({ max_batch_size: 200 }),
    connect_timeout: timeout(1000, 'Connecting to the collector, in ms.'),
    send_timeout: timeout(5000, 'Sending a batch, in ms.'),
    read_timeout: timeout(5000, "Reading the collector's answer, in ms."),
    http_response_header_for_traceid: Nullable(Type.String({ minLength: 1 }), 'Response header carrying the trace id.'),
    header_type: Type.Union(['preserve', 'ignore', ...KONG_FORMATS].map((f) => Type.Literal(f)), { default: 'preserve', description: 'Deprecated: propagation.' }),
    sampling_rate: Nullable(Type.Number({ minimum: 0, maximum: 1 }), "Probability a trace without a sampled parent is recorded; unset: Kong's tracing_sampling_rate default, 0.01."),
    propagation,
  },
  { additionalProperties: false },
);

export type OpenTelemetryConfig = Static<typeof openTelemetryConfig>;

function unsupportedFormats(list: readonly string[] | null, at: string): ConfigError[] {
  return (list ?? []).flatMap((f, i) =>
    f === 'preserve' || SUPPORTED_FORMATS.has(f) ? [] : [{ path: `${at}[${i}]`, message: `tracing header format '${f}' is not supported by Portcullis (supported: w3c)` }],
  );
}

function checkOpenTelemetry(c: OpenTelemetryConfig, at: string): ConfigError[] {
  const errors: ConfigError[] = [];
  const missing = atLeastOneOf(c, ['traces_endpoint', 'logs_endpoint'], at);
  if (missing !== null) errors.push(missing);
  if (c.logs_endpoint !== null) errors.push({ path: `${at}.logs_endpoint`, message: 'OTLP log export is not supported by Portcullis: use file-log or http-log for request logs' });
  errors.push(...unsupportedFormats(c.propagation.extract, `${at}.propagation.extract`), ...unsupportedFormats(c.propagation.inject, `${at}.propagation.inject`));
  if (!SUPPORTED_FORMATS.has(c.propagation.default_format)) {
    errors.push({ path: `${at}.propagation.default_format`, message: `tracing header format '${c.propagation.default_format}' is not supported by Portcullis (supported: w3c)` });
  }
  if (c.header_type !== 'preserve' && c.header_type !== 'ignore' && !SUPPORTED_FORMATS.has(c.header_type)) {
    errors.push({ path: `${at}.header_type`, message: `tracing header format '${c.header_type}' is not supported by Portcullis (supported: w3c)` });
  }
  return errors;
}

export const openTelemetrySchema: PluginSchema = {
  name: 'opentelemetry',
  configSchema: openTelemetryConfig,
  scopes: { global: true, service: true, route: true, consumer: true },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  // Kong's deprecated endpoint, batch_span_count and batch_flush_delay (Kong 4.0 removes them).
  shorthands: [
    { name: 'endpoint', path: ['traces_endpoint'] },
    { name: 'batch_span_count', path: ['queue', 'max_batch_size'] },
    { name: 'batch_flush_delay', path: ['queue', 'max_coalescing_delay'] },
  ],
  checkConfig(plugin, index) {
    return checkOpenTelemetry(plugin.config as OpenTelemetryConfig, `plugins[${index}].config`);
  },
};
