import type { PluginDefinition } from '../../pipeline/plugin.js';
import type { RequestContext } from '../../pipeline/context.js';
import { endRequestTrace, propagationOf, startBalancerSpan, startRequestTrace, type RequestTrace } from './request-trace.js';
import { openTelemetrySchema, type OpenTelemetryConfig } from './schema.js';
import { instanceTracer } from './tracer.js';

/**
 * Kong's opentelemetry (priority 14): a server span per request with a child span per plugin phase
 * and one for the upstream call, the auth decision as attributes, W3C trace context read from the
 * client and written to the upstream, exported in batches over OTLP/HTTP (protobuf) by the official
 * SDK. The spans are made as Kong's instrumentation makes them with tracing_instrumentations=all.
 */
export const openTelemetry: PluginDefinition<OpenTelemetryConfig> = {
  schema: openTelemetrySchema,
  priority: 14,
  tracesPhases: true,
  create(config, entity, env) {
    const { tracer, shutdown } = instanceTracer(config, env.trustedCaPems);
    const propagation = propagationOf(config);
    const key = `opentelemetry:${entity.id}`;
    // A request refused before this plugin's access phase still gets its spans (header_filter and
    // log run for it): the trace then starts there, with the request's arrival time.
    const traceOf = (ctx: RequestContext): RequestTrace => {
      let found = ctx.shared.get(key) as RequestTrace | undefined;
      if (found === undefined) {
        found = startRequestTrace(tracer, ctx, propagation);
        ctx.shared.set(key, found);
      }
      return found;
    };
    const traceIdHeader = config.http_response_header_for_traceid?.toLowerCase() ?? null;
    return {
      access(ctx) {
        startBalancerSpan(tracer, traceOf(ctx), ctx.upstreamHeaders, propagation);
      },
      headerFilter(ctx, response) {
        const requestTrace = traceOf(ctx);
        if (traceIdHeader !== null) response.headers[traceIdHeader] = requestTrace.root.spanContext().traceId;
      },
      log(ctx, entry) {
        endRequestTrace(tracer, traceOf(ctx), ctx, entry.response);
      },
      close: shutdown,
    };
  },
};
