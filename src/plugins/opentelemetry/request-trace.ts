import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { HeaderMap, RequestContext } from '../../pipeline/context.js';
import type { ResponseHead } from '../../pipeline/plugin.js';
import type { OpenTelemetryConfig } from './schema.js';

const w3c = new W3CTraceContextPropagator();

/** `performance.now()` milliseconds as the epoch milliseconds a span takes. */
const epoch = (at: number): number => performance.timeOrigin + at;

/** How one instance reads and writes trace context, decided once from its configuration. */
export interface Propagation {
  readonly extract: boolean;
  readonly inject: boolean;
  readonly clear: readonly string[];
}

/**
 * Kong's rules with the one format Portcullis speaks (w3c): `extract` unset reads every supported
 * format unless the deprecated header_type is `ignore`; `inject` unset is `preserve`, which writes
 * the incoming format or default_format (both w3c here); an empty list turns either off.
 */
export function propagationOf(config: OpenTelemetryConfig): Propagation {
  const { extract, inject, clear } = config.propagation;
  return {
    extract: extract === null ? config.header_type !== 'ignore' : extract.length > 0,
    inject: inject === null || inject.length > 0,
    clear: (clear ?? []).map((name) => name.toLowerCase()),
  };
}

/** The spans of one request: the server span ("kong", Kong's name) and the upstream call's ("kong.balancer"). */
export interface RequestTrace {
  readonly root: Span;
  balancer: Span | null;
}

/**
 * The request's server span, started at the request's arrival as a child of the caller's trace
 * context when there is one. The URL is recorded without its query string: a query may carry a
 * credential (key-auth's, jwt's), and a span is exported to a third party.
 */
export function startRequestTrace(tracer: Tracer, ctx: RequestContext, propagation: Propagation): RequestTrace {
  const parent: Context = propagation.extract ? w3c.extract(ROOT_CONTEXT, ctx.request.headers, defaultTextMapGetter) : ROOT_CONTEXT;
  const request = ctx.request;
  const root = tracer.startSpan(
    'kong',
    {
      kind: SpanKind.SERVER,
      startTime: epoch(ctx.receivedAt),
      attributes: {
        'http.method': request.method,
        'http.url': `${request.scheme}://${request.authority === '' ? request.host : request.authority}${request.path}`,
        'http.host': request.host,
        'http.scheme': request.scheme,
        'http.flavor': request.httpVersion,
        'net.peer.ip': ctx.connection.remoteAddress,
        'kong.request.id': ctx.id,
      },
    },
    parent,
  );
  return { root, balancer: null };
}

/**
 * The upstream call's span, started now, and its context written to the upstream request's
 * headers (after `clear` removed what the configuration says), so the upstream's spans are its children.
 */
export function startBalancerSpan(tracer: Tracer, requestTrace: RequestTrace, headers: HeaderMap, propagation: Propagation): void {
  for (const name of propagation.clear) delete headers[name];
  const balancer = tracer.startSpan('kong.balancer', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, requestTrace.root));
  requestTrace.balancer = balancer;
  if (propagation.inject) w3c.inject(trace.setSpan(ROOT_CONTEXT, balancer), headers, defaultTextMapSetter);
}

/**
 * Ends the request's spans, with a span per plugin phase that ran (from `ctx.timings`), the upstream
 * call's outcome, and the auth decision (plugin, outcome, reason, client certificate thumbprint) on
 * the server span. The balancer span of a request that never reached the upstream is not ended,
 * so not exported (Kong links it only once the balancer ran).
 */
export function endRequestTrace(tracer: Tracer, requestTrace: RequestTrace, ctx: RequestContext, response: ResponseHead): void {
  const { root } = requestTrace;
  const parent = trace.setSpan(ROOT_CONTEXT, root);
  for (const phase of ctx.timings?.phases ?? []) {
    const span = tracer.startSpan(`kong.${phase.phase}.plugin.${phase.plugin}`, { startTime: epoch(phase.start) }, parent);
    if (phase.failed) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(epoch(phase.end));
  }
  const upstream = ctx.timings?.upstream ?? null;
  if (requestTrace.balancer !== null && upstream !== null) {
    const balancer = requestTrace.balancer;
    balancer.setAttribute('try_count', upstream.tries);
    if (upstream.status === null) balancer.setStatus({ code: SpanStatusCode.ERROR });
    else balancer.setAttribute('http.status_code', upstream.status);
    balancer.end(epoch(upstream.end));
  }
  root.setAttribute('http.status_code', response.status);
  root.setAttribute('http.route', ctx.route.paths?.[0] ?? '');
  if (ctx.route.name !== null && ctx.route.name !== undefined) root.setAttribute('kong.route.name', ctx.route.name);
  if (ctx.service?.name != null) root.setAttribute('kong.service.name', ctx.service.name);
  if (ctx.auth !== null) {
    root.setAttribute('portcullis.auth.plugin', ctx.auth.plugin);
    root.setAttribute('portcullis.auth.outcome', ctx.auth.outcome);
    root.setAttribute('portcullis.auth.reason', ctx.auth.reason);
  }
  const thumbprint = ctx.clientCertificate?.thumbprint;
  if (thumbprint !== undefined) root.setAttribute('portcullis.client_certificate.thumbprint', thumbprint);
  if (response.status >= 500) root.setStatus({ code: SpanStatusCode.ERROR });
  root.end();
}
