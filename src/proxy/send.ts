import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Service } from '../config/types.js';
import type { HeaderMap, RequestBodyBound } from '../pipeline/context.js';
import { filterResponseHeaders } from './headers.js';
import { RequestBodyTap } from './request-body.js';
import type { ServiceEndpoints, UpstreamEndpoint } from './service-endpoints.js';
import { UpstreamExchange, type AbortSource } from './upstream-exchange.js';
import { classifyFailure, isConnectPhase, observePassively, UpstreamError, type UpstreamFailure } from './upstream-errors.js';

export { pipeResponse } from './pipe-response.js';
export { UpstreamError, type UpstreamFailure } from './upstream-errors.js';

export interface UpstreamRequest {
  /** From `UpstreamPools.endpointsFor(service)`: one endpoint, or the targets of the service's upstream. */
  endpoints: ServiceEndpoints;
  service: Service;
  /**
   * The Host header as the gateway set it for the service (`Runtime.upstreamHost`), or null when
   * the route preserves the client's. While `headers.host` still holds it (no plugin changed it),
   * each attempt sends its endpoint's Host instead (a balanced target's, Kong's set_host_header).
   */
  defaultHost: string | null;
  method: string;
  /** Path and query for the upstream. */
  path: string;
  headers: HeaderMap;
  /**
   * The client request stream; a Buffer when a plugin buffered the body (`ctx.readBody`), which
   * can be replayed; null when the request has no body.
   */
  body: Readable | Buffer | null;
  /**
   * A bound on a streamed `body` (`RequestContext.limitBody`): counted as it flows; the chunk that
   * would cross it is not sent, the attempt is aborted and `sendUpstream` throws the bound's refusal.
   */
  bodyBound?: RequestBodyBound | null;
  /** Aborted when the client goes away (an AbortSignal, or the lighter ClientGone of the proxy handler). */
  signal: AbortSource;
  /** The value a consistent-hashing upstream hashes (`hash-value.ts`), the same for every attempt; null otherwise. */
  hash?: string | null;
}

export interface UpstreamResponse {
  status: number;
  /** Hop-by-hop headers removed. */
  headers: HeaderMap;
  /** Must be piped (`pipeTo`), read (`toBuffer`) or destroyed, or the upstream connection is never released. */
  body: UpstreamExchange;
  /** Trailers the upstream sent after the body; filled in when `body` ends. */
  readonly trailers: Readonly<Record<string, string>>;
  /** ms from the first attempt's start to the response headers, retries included. */
  headersLatencyMs: number;
  /** Attempts made, 1 + retries used. */
  attempts: number;
  /**
   * Where the answering attempt went, and its time to the response head: once the response is over
   * the caller reports it (`endpoints.finished`), so least-connections and latency balancing see it.
   */
  readonly endpoint: UpstreamEndpoint;
  readonly attemptLatencyMs: number;
}

// RFC 9110 §9.2.2; POST and PATCH are never replayed once anything may have reached the upstream.
const idempotent = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Sends one request upstream and resolves at the response headers; the body streams afterwards.
 * Retries at most `service.retries` times, and only when replaying is safe:
 * - the connection was never established (refused, DNS, connect timeout): any method, since no
 *   byte of the request, body included, left the gateway;
 * - the connection broke before any response byte (a stale keep-alive connection, typically) for
 *   an idempotent method without a body, or with a buffered one (the same bytes can be sent again).
 * Never after response headers arrived. TLS failures are not retried: verification fails the same
 * way every time. Throws an `UpstreamError` (a GatewayError).
 */
/** undici's timers tick every 499 ms and may fire up to a tick early: this keeps them behind the exchange's. */
const UNDICI_BACKSTOP_MS = 1000;

export async function sendUpstream(req: UpstreamRequest): Promise<UpstreamResponse> {
  const started = performance.now();
  const maxAttempts = Math.max(0, Math.floor(req.service.retries)) + 1;
  const readTimeout = req.service.read_timeout;
  let tried: string[] | null = null;
  let gatewayHost = req.defaultHost;
  for (let attempt = 1; ; attempt += 1) {
    if (req.signal.aborted) throw new UpstreamError('client_aborted', attempt - 1, req.signal.reason);
    const endpoint = req.endpoints.next(tried, req.hash ?? null);
    if (endpoint === null) throw new UpstreamError('no_target', attempt - 1, new Error('no target of the upstream can take the request'));
    if (endpoint.target !== null) (tried ??= []).push(endpoint.target);
    if (gatewayHost !== null && req.headers['host'] === gatewayHost) req.headers['host'] = gatewayHost = endpoint.hostHeader;
    // A buffered body goes to undici as it is: it can be written again on a retry.
    const stream = req.body === null || Buffer.isBuffer(req.body) ? null : new RequestBodyTap(req.body, req.service.write_timeout, req.bodyBound ?? null);
    const options: Dispatcher.DispatchOptions & { servername: string } = {
      method: req.method,
      path: req.path,
      headers: req.headers,
      body: stream ?? req.body,
      // The exchange times reads itself (precisely); undici's coarse timers stay as a late backstop.
      headersTimeout: readTimeout === 0 ? 0 : readTimeout + UNDICI_BACKSTOP_MS,
      bodyTimeout: readTimeout === 0 ? 0 : readTimeout + UNDICI_BACKSTOP_MS,
      // Let undici's own pipelining rules treat bodiless idempotent requests as replayable.
      idempotent: idempotent.has(req.method) && stream === null,
      // undici would otherwise take SNI from the Host header and reconnect whenever it changes
      // (preserve_host); the pool's connector decides the real SNI, this keeps it constant.
      servername: endpoint.servername,
    };
    const exchange = new UpstreamExchange(readTimeout, stream === null);
    stream?.once('end', () => exchange.requestSent());
    const onAbort = (): void => exchange.abort(new Error('client went away'));
    req.signal.addEventListener('abort', onAbort, { once: true });
    const attemptStarted = performance.now();
    try {
      req.endpoints.started(endpoint);
      endpoint.dispatcher.dispatch(options, exchange);
      const head = await exchange.head;
      endpoint.health?.observeStatus(head.status);
      return {
        status: head.status,
        headers: filterResponseHeaders(head.headers),
        body: exchange,
        // The exchange fills this object in when the body ends (never replaces it).
        trailers: exchange.trailers,
        headersLatencyMs: performance.now() - started,
        attempts: attempt,
        endpoint,
        attemptLatencyMs: performance.now() - attemptStarted,
      };
    } catch (error) {
      req.endpoints.finished(endpoint, null);
      const sentBody = stream?.started ?? false;
      stream?.destroy();
      // The client's body crossed its bound: the client's fault, not the upstream's (no passive health mark, no retry).
      const overLimit = stream?.overLimit ?? null;
      if (overLimit !== null) throw overLimit;
      const failure: UpstreamFailure = req.signal.aborted ? 'client_aborted' : classifyFailure(error);
      observePassively(endpoint, failure);
      if (attempt < maxAttempts && isRetryable(failure, req.method, stream === null, sentBody)) continue;
      throw new UpstreamError(failure, attempt, error);
    } finally {
      // Once the head is in, a client that leaves is the body pipe's business (BodyFailure 'client').
      req.signal.removeEventListener('abort', onAbort);
    }
  }
}

/** `replayable`: no body, or a buffered one; a streamed body can only be sent once. */
function isRetryable(failure: UpstreamFailure, method: string, replayable: boolean, sentBody: boolean): boolean {
  if (isConnectPhase(failure)) return replayable || !sentBody;
  if (failure === 'reset') return replayable && idempotent.has(method);
  return false;
}
