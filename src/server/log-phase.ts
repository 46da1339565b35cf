/**
 * The proxy's side of the log phase: the facts of a request (latencies as Kong defines them, the
 * upstream exchange, what the sizes are computed from) handed to the plugins that take part as one
 * LogEntry. Called only when one of them has a log phase.
 */
import type { Logger } from 'pino';
import type { RequestContext } from '../pipeline/context.js';
import { LogEntry } from '../pipeline/log-entry.js';
import type { ResolvedPlugin, ResponseHead } from '../pipeline/plugin.js';
import { runLog } from '../pipeline/run-phases.js';
import type { UpstreamResponse } from '../proxy/send.js';
import type { Runtime } from '../runtime/runtime.js';
import type { AccessRecord } from './access-log.js';
import type { ClientRequest } from './client-protocol.js';

/** The upstream side of a request, as far as it went, for the log phase. */
export interface UpstreamFacts {
  /** Path and query sent upstream ('' until something was). */
  readonly uri: string;
  /** performance.now() when the request went upstream, 0 when it did not. */
  readonly started: number;
  /** ms to the upstream's response head, -1 without one. */
  readonly headMs: number;
  readonly status: number | null;
  readonly tries: number;
  readonly bodyBytes: number;
}

export function upstreamFactsOf(uri: string, started: number, responded: UpstreamResponse | null, failedAttempts: number): UpstreamFacts {
  if (responded === null) return { uri, started, headMs: -1, status: null, tries: failedAttempts, bodyBytes: 0 };
  return { uri, started, headMs: responded.headersLatencyMs, status: responded.status, tries: Math.max(responded.attempts, failedAttempts), bodyBytes: responded.body.bodyBytes };
}

/**
 * The log phase of the plugins that take part, with the request's facts (called only when one of
 * them has a log phase). `gatewayAnswered`: the gateway's own answer went out, not the upstream's.
 */
export function logRequest(ctx: RequestContext, plugins: readonly ResolvedPlugin[], runtime: Runtime, head: ResponseHead, record: AccessRecord, started: number, upstream: UpstreamFacts, req: ClientRequest, requestBody: number, responseBody: number, logger: Logger, gatewayAnswered = false): void {
  const total = record.latency_ms.total;
  const proxied = upstream.started > 0;
  const kong = proxied ? upstream.started - started : total;
  const waited = proxied && upstream.headMs >= 0 ? upstream.headMs : -1;
  const receive = waited >= 0 && record.latency_ms.upstream !== null ? Math.max(0, record.latency_ms.upstream - waited) : 0;
  const entry = new LogEntry(ctx, runtime.pluginsFor(ctx.route).base, {
    response: head,
    source: upstream.status !== null && !gatewayAnswered ? 'service' : 'kong',
    latencies: { kong: Math.round(kong), proxy: waited < 0 ? -1 : Math.round(waited), request: Math.round(total), receive: Math.round(receive) },
    // "GET " + target + " HTTP/1.1\r\n"
    requestLineBytes: (req.method?.length ?? 3) + (req.url?.length ?? 1) + 12,
    requestHeaders: req.headers,
    requestBodyBytes: requestBody,
    responseHeaders: head.headers,
    responseBodyBytes: responseBody,
    upstreamUri: upstream.uri,
    upstreamStatus: upstream.status,
    tries: upstream.tries,
    startedAt: Math.round(Date.now() - (performance.now() - started)),
    reason: record.reason,
  });
  runLog(ctx, plugins, entry, (plugin, error) => logger.error({ err: error, plugin, request_id: ctx.id }, 'plugin log phase failed'));
}

/** A Content-Length header's value as a byte count, 0 when absent or not a number. */
export function declaredLength(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
