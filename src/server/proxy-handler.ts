import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Route, Service } from '../config/types.js';
import type { AuthOutcome, GatewayRequest, HeaderMap, Identity, ReadBodyOptions, RequestBodyBound, RequestContext, ResponseBodyTransform } from '../pipeline/context.js';
import { GatewayError } from '../pipeline/gateway-error.js';
import { grpcErrorResponse, grpcRouteRefusal, isGrpcRequest } from '../pipeline/grpc.js';
import { isGrpcRoute, isWebSocketRoute, servedProtocol } from '../config/protocol-families.js';
import { applyIdentityHeaders, removeIdentityHeaders } from '../pipeline/identity-headers.js';
import type { PhaseTimings } from '../pipeline/phase-timings.js';
import type { ResolvedPlugin, ResponseHead } from '../pipeline/plugin.js';
import { errorResponse, flatHeaders, toGatewayError, type GatewayResponse } from '../pipeline/respond.js';
import { anyLogs, pluginApplies, runHeaderFilter, runRequestPhases } from '../pipeline/run-phases.js';
import { declaredLength, logRequest, upstreamFactsOf, type UpstreamFacts } from './log-phase.js';
import { bodyTooLarge, DEFAULT_MAX_BUFFERED_BODY_BYTES, readBodyLimited } from '../proxy/buffered-body.js';
import { readResponseBodyLimited } from '../proxy/buffered-response.js';
import { buildUpstreamHeaders, realClientAddress } from '../proxy/headers.js';
import { hashValueOf, setHashCookie } from '../proxy/hash-value.js';
import { pipeResponse, sendUpstream, type UpstreamResponse } from '../proxy/send.js';
import { UpstreamError } from '../proxy/upstream-errors.js';
import type { ServiceEndpoints } from '../proxy/service-endpoints.js';
import type { UpstreamExchange } from '../proxy/upstream-exchange.js';
import { upstreamPath } from '../router/index.js';
import { acceptUpgrade, proxyWebSocket, type ClientUpgrade } from './websocket-proxy.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RuntimeHolder } from '../runtime/runtime-holder.js';
import { ClientGone } from './client-gone.js';
import type { ClientCertificate } from '../connection/client-certificate.js';
import type { ConnectionInfo } from '../connection/connection-info.js';
import { http1, http2, type ClientProtocol, type ClientRequest, type ClientResponse } from './client-protocol.js';
import type { Http2Request, Http2Response } from './http2-exchange.js';
import { parseRequestTarget } from './request-target.js';
import { writeAccessLog, type AccessRecord } from './access-log.js';
import { answerWellKnown, mayBeWellKnown } from './well-known.js';
import type { GatewayObserver } from './observer.js';
import { compileTrustedPeers, duplicatedHeader, removeUntrustedCertificateHeaders } from './trusted-peers.js';
import type { AddressSet } from '../util/trusted-addresses.js';

const via = '1.1 portcullis';
// A client-supplied request id is kept only if it is short and plain, so it is safe to log and echo.
const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

export interface ProxyHandlerOptions {
  readonly holder: RuntimeHolder;
  readonly logger: Logger;
  readonly accessLog: boolean;
  readonly observer: GatewayObserver;
  /**
   * `--trusted-ips`: CIDRs of TLS-terminating proxies whose X-Forwarded-* and client-certificate
   * headers are believed. Absent or empty: nobody is trusted.
   */
  readonly trustedIps?: readonly string[];
  /**
   * Largest request body a plugin may have buffered with `ctx.readBody()` when it names no limit
   * of its own; beyond it, 413. Default `DEFAULT_MAX_BUFFERED_BODY_BYTES` (1 MiB). Bodies nobody
   * asks for are streamed and never limited here.
   */
  readonly maxBufferedBodyBytes?: number;
  /**
   * WebSocket tunnels: the longest time without traffic (null: the service's `read_timeout`, as
   * nginx's proxy_read_timeout bounds Kong's), and the longest life (0: none).
   */
  readonly websocket?: { readonly idleTimeoutMs: number | null; readonly maxDurationMs: number };
}

interface HandlerState extends ProxyHandlerOptions {
  readonly trustedPeers: AddressSet;
  readonly maxBufferedBodyBytes: number;
}

/**
 * The request context the proxy hands to plugins. A class, so that its methods live on the
 * prototype: a request that never reads its body allocates nothing for the possibility.
 */
class ProxyRequestContext implements RequestContext {
  clientCertificate: ClientCertificate | null;
  identity: Identity | null = null;
  auth: AuthOutcome | null = null;
  timings: PhaseTimings | null = null;
  upstreamQuery: string;
  upstreamMethod: string;
  upstreamPath: string | null = null;
  upstreamBody: Buffer | null = null;
  readonly responseHeaders: HeaderMap = {};
  #shared: Map<string, unknown> | null = null;

  /** Made on first use: most requests never need one. */
  get shared(): Map<string, unknown> {
    return (this.#shared ??= new Map<string, unknown>());
  }
  readonly #maxBufferedBodyBytes: number;
  #body: Promise<Buffer> | null = null;

  constructor(
    readonly id: string,
    readonly receivedAt: number,
    readonly request: GatewayRequest,
    readonly connection: ConnectionInfo,
    readonly route: Route,
    readonly service: Service,
    readonly upstreamHeaders: HeaderMap,
    maxBufferedBodyBytes: number,
  ) {
    this.clientCertificate = connection.clientCertificate;
    this.upstreamQuery = request.query;
    this.upstreamMethod = request.method;
    this.#maxBufferedBodyBytes = maxBufferedBodyBytes;
  }

  readBody(options?: ReadBodyOptions): Promise<Buffer> {
    const asked = options?.limit ?? this.#maxBufferedBodyBytes;
    const bound = this.bodyBound;
    // A limitBody bound at most as large as the reader's own limit refuses with its own answer.
    const bounded = bound !== null && bound.limit <= asked;
    const limit = bounded ? bound.limit : asked;
    const tooLarge = bounded ? bound.refusal : () => bodyTooLarge(limit);
    this.#body ??= readBodyLimited(this.request.body, this.request.headers, limit, this.request.hasBody, tooLarge).then((bytes) => {
      if (this.request.hasBody) this.upstreamBody ??= bytes;
      return bytes;
    });
    // A later caller with a smaller limit than the first one still gets its refusal.
    return this.#body.then((bytes) => (bytes.length > limit ? Promise.reject(tooLarge()) : bytes));
  }

  /** The smallest `limitBody` bound so far; the proxy counts a streamed body against it. */
  bodyBound: RequestBodyBound | null = null;

  #responseTransforms: ResponseBodyTransform[] | null = null;

  transformResponseBody(transform: ResponseBodyTransform): void {
    (this.#responseTransforms ??= []).push(transform);
  }

  /** The transforms registered by the header_filter just run (then forgotten), or null when none. */
  takeResponseTransforms(): ResponseBodyTransform[] | null {
    const transforms = this.#responseTransforms;
    this.#responseTransforms = null;
    return transforms;
  }

  limitBody(bound: RequestBodyBound): Promise<void> | undefined {
    if (this.bodyBound === null || bound.limit < this.bodyBound.limit) this.bodyBound = bound;
    // Already read (a plugin that ran earlier needed it): the bytes in memory are the body.
    return this.#body?.then((bytes) => {
      if (bytes.length > bound.limit) throw bound.refusal();
    });
  }
}

/** The proxy's request handlers, one per client protocol (a listener calls the one its connection speaks). */
export interface ProxyHandlers {
  readonly http1: (req: IncomingMessage, res: ServerResponse) => void;
  readonly http2: (req: Http2Request, res: Http2Response) => void;
  /** An HTTP/1.1 `Upgrade: websocket` request, with its connection (node:http's 'upgrade' event). */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** The proxy listeners' request handlers: route, plugins, upstream, response, log. */
export function createProxyHandler(options: ProxyHandlerOptions): ProxyHandlers {
  const maxBufferedBodyBytes = options.maxBufferedBodyBytes ?? DEFAULT_MAX_BUFFERED_BODY_BYTES;
  if (!Number.isSafeInteger(maxBufferedBodyBytes) || maxBufferedBodyBytes < 0) {
    throw new TypeError(`maxBufferedBodyBytes must be a non-negative integer, got ${maxBufferedBodyBytes}`);
  }
  const state: HandlerState = { ...options, trustedPeers: compileTrustedPeers(options.trustedIps), maxBufferedBodyBytes };
  return {
    http1: (req, res) => void handleHeld(req, res, http1, null, state),
    http2: (req, res) => void handleHeld(req, res, http2, null, state),
    upgrade: (req, socket, head) => {
      const upgrade = acceptUpgrade(req, socket, head);
      void handleHeld(req, upgrade.res, http1, upgrade, state);
    },
  };
}

/** One request on the Runtime current when it arrived, released when it is done. */
async function handleHeld<Req extends ClientRequest, Res extends ClientResponse>(req: Req, res: Res, protocol: ClientProtocol<Req, Res>, upgrade: ClientUpgrade | null, options: HandlerState): Promise<void> {
  const runtime = options.holder.acquire();
  try {
    await handle(req, res, protocol, upgrade, runtime, options);
  } catch (error) {
    options.logger.error({ err: error }, 'request handler failed');
  } finally {
    options.holder.release(runtime);
  }
}

/**
 * Fields a request may carry once: two credentials are refused, not guessed at. (Two Host headers
 * are refused earlier, by the listener: host_header_duplicated.)
 */
const singletonHeaders: ReadonlySet<string> = new Set(['authorization']);

async function handle<Req extends ClientRequest, Res extends ClientResponse>(req: Req, res: Res, protocol: ClientProtocol<Req, Res>, upgrade: ClientUpgrade | null, runtime: Runtime, options: HandlerState): Promise<void> {
  const started = performance.now();
  const connection = protocol.connectionOf(req);
  const trustedPeer = options.trustedPeers.has(connection.remoteAddress);
  if (!trustedPeer) removeUntrustedCertificateHeaders(req.headers, runtime.certificateHeaders);
  const incomingId = req.headers['x-request-id'];
  const requestId = typeof incomingId === 'string' && acceptableRequestId.test(incomingId) ? incomingId : randomUUID();
  const authority = protocol.authorityOf(req);
  const target = parseRequestTarget(req.url ?? '/', authority, connection.localPort);
  const scheme = connection.tls ? 'https' : 'http';
  const record: AccessRecord = {
    request_id: requestId,
    method: req.method ?? 'GET',
    path: target.path,
    host: target.host,
    client: connection.remoteAddress,
    sni: connection.sni,
    thumbprint: connection.clientCertificate?.thumbprint ?? null,
    route: null,
    service: null,
    status: 0,
    reason: null,
    auth: null,
    latency_ms: { total: 0, upstream: null, gateway: 0 },
    config_version: runtime.version,
  };

  const wellKnown = !mayBeWellKnown(runtime, target.path) ? null : answerWellKnown(runtime, { method: record.method, target, protocol: scheme, headers: req.headers, sni: connection.sni, client: { scheme, authority: target.authority, trustedPeer, headers: req.headers } });
  if (wellKnown !== null) {
    record.route = wellKnown.route.name ?? wellKnown.route.id;
    sendGatewayResponse(res, protocol, wellKnown.response, requestId, record.method === 'HEAD');
    record.status = wellKnown.response.status;
    finish(record, started, options);
    return;
  }

  const match = runtime.router.match({ protocol: scheme, method: record.method, host: target.host, path: target.path, port: target.port, headers: req.headers, sni: connection.sni });
  const plugins: ResolvedPlugin[] = [];
  let ctx: ProxyRequestContext | null = null;
  let pendingBody: UpstreamExchange | null = null;
  let endpoints: ServiceEndpoints | null = null;
  let answered: UpstreamResponse | null = null;
  // What the log phase reports of the upstream exchange, kept in locals: a request without a
  // logging plugin allocates nothing for it.
  let upstreamTarget = '';
  let upstreamStarted = 0;
  let responded: UpstreamResponse | null = null;
  try {
    const repeated = duplicatedHeader(req.rawHeaders, singletonHeaders);
    if (repeated !== null) {
      throw new GatewayError({ status: 400, code: 'header_duplicated', message: 'Bad Request', description: `${repeated} sent more than once` });
    }
    const duplicated = trustedPeer ? duplicatedHeader(req.rawHeaders, runtime.certificateHeaders) : null;
    if (duplicated !== null) {
      throw new GatewayError({ status: 400, code: 'certificate_header_duplicated', message: 'Malformed client certificate header', description: `${duplicated} sent more than once` });
    }
    if (match === null) throw new GatewayError({ status: 404, code: 'no_route', message: 'no Route matched with those values' });
    const route = match.route;
    record.route = route.name ?? route.id;
    const grpcRoute = isGrpcRoute(route.protocols);
    const grpcRefusal = grpcRoute ? grpcRouteRefusal(req.headers, req.httpVersion, match.kind === 'protocol-mismatch') : null;
    if (grpcRefusal !== null) throw grpcRefusal;
    if (match.kind === 'protocol-mismatch') throw protocolRedirect(route, target.host, req.url ?? '/');
    const webSocketRoute = isWebSocketRoute(route.protocols);
    if (webSocketRoute && upgrade === null) throw webSocketRequired();
    const service = runtime.service(route.service);
    if (service === null) throw new GatewayError({ status: 503, code: 'no_service', message: 'no Service found with those values' });
    record.service = service.name ?? service.id;

    const hasBody = protocol.hasBody(req);
    const body = protocol.bodyOf(req);
    const request: GatewayRequest = {
      method: record.method,
      scheme,
      protocol: servedProtocol(route.protocols, scheme),
      host: target.host,
      port: target.port,
      authority: target.authority,
      trustedPeer,
      path: target.path,
      query: target.query,
      httpVersion: req.httpVersion,
      hasBody,
      headers: req.headers,
      body,
    };
    const path = upstreamPath({ servicePath: service.path, route, matchedPath: match.matchedPath, requestPath: target.path });
    const clientHost = route.preserve_host ? authority : undefined;
    const upstreamHeaders: HeaderMap = buildUpstreamHeaders({
      clientHeaders: req.headers,
      clientAddress: connection.remoteAddress,
      trustedPeer,
      scheme,
      host: target.host,
      port: target.port,
      path: target.path,
      strippedPrefix: route.strip_path && match.matchedPath !== '' ? match.matchedPath : null,
      upstreamHost: clientHost ?? runtime.upstreamHost(service),
      requestId,
      via,
    });
    removeIdentityHeaders(upstreamHeaders);
    ctx = new ProxyRequestContext(requestId, started, request, connection, route, service, upstreamHeaders, options.maxBufferedBodyBytes);

    try {
      const phases = runRequestPhases(ctx, runtime.pluginsFor(route), plugins);
      if (phases !== undefined) await phases;
    } finally {
      record.auth = ctx.auth;
      record.thumbprint = ctx.clientCertificate?.thumbprint ?? null;
    }
    if (ctx.identity !== null) applyIdentityHeaders(upstreamHeaders, ctx.identity);

    const clientGone = new ClientGone(res);
    // A plugin buffered (and perhaps rewrote) the body: send those bytes, framed by their length.
    const buffered = ctx.upstreamBody;
    if (buffered !== null) upstreamHeaders['content-length'] = String(buffered.length);
    const query = ctx.upstreamQuery;
    const sentPath = ctx.upstreamPath ?? path;
    const method = ctx.upstreamMethod;
    upstreamStarted = performance.now();
    upstreamTarget = query === '' ? sentPath : `${sentPath}?${query}`;
    endpoints = runtime.pools.endpointsFor(service);
    const hashing = runtime.pools.upstreamOf(service);
    // Computed once, after the plugins (the consumer is known): every retry hashes the same value.
    const hashed = hashing === null || hashing.hash_on === 'none' ? null : hashValueOf(hashing, ctx, realClientAddress(req.headers, connection.remoteAddress, trustedPeer));
    if (upgrade !== null) {
      await proxyWebSocket({
        upgrade,
        ctx,
        plugins,
        record,
        request: { endpoints, hash: hashed?.value ?? null, service, defaultHost: clientHost === undefined ? runtime.upstreamHost(service) : null, method, path: upstreamTarget, headers: upstreamHeaders, signal: clientGone },
        limits: { idleTimeoutMs: options.websocket?.idleTimeoutMs ?? service.read_timeout, maxDurationMs: options.websocket?.maxDurationMs ?? 0 },
        decorate: (headers) => {
          headers['via'] = appendVia(headers['via']);
          headers['x-request-id'] = requestId;
          if (hashed?.setCookie != null) setHashCookie(headers, hashed.setCookie);
        },
      });
      record.latency_ms.upstream = round(performance.now() - upstreamStarted);
      finish(record, started, options);
      if (anyLogs(plugins)) {
        const head: ResponseHead = { status: record.status, headers: {} };
        const facts: UpstreamFacts = { uri: upstreamTarget, started: upstreamStarted, headMs: -1, status: record.status, tries: 1, bodyBytes: 0 };
        logRequest(ctx, plugins, runtime, head, record, started, facts, req, record.tunnel?.bytes_up ?? 0, record.tunnel?.bytes_down ?? 0, options.logger);
      }
      return;
    }
    const sending = sendUpstream({
      endpoints,
      hash: hashed?.value ?? null,
      service,
      defaultHost: clientHost === undefined ? runtime.upstreamHost(service) : null,
      method,
      path: upstreamTarget,
      headers: upstreamHeaders,
      body: buffered ?? (hasBody ? body : null),
      bodyBound: buffered === null ? ctx.bodyBound : null,
      signal: clientGone,
    });
    const upstream = await (ctx.timings === null ? sending : timedUpstream(sending, ctx.timings, upstreamStarted));
    answered = upstream;
    responded = upstream;
    record.latency_ms.upstream = round(performance.now() - upstreamStarted);
    // upstream.headers is this request's own copy (filterResponseHeaders): plugin headers go straight in.
    const head: ResponseHead = { status: upstream.status, headers: Object.assign(upstream.headers, ctx.responseHeaders) };
    pendingBody = upstream.body;
    runHeaderFilter(ctx, plugins, head);
    head.headers['via'] = appendVia(head.headers['via']);
    head.headers['x-request-id'] = requestId;
    if (hashed?.setCookie != null) setHashCookie(head.headers, hashed.setCookie);
    const transforms = ctx.takeResponseTransforms();
    if (transforms !== null && carriesBody(record.method, head.status)) {
      // A plugin rewrites the body: read it whole (bounded), then send the result framed by its length.
      const body = applyTransforms(transforms, await readResponseBodyLimited(upstream.body, options.maxBufferedBodyBytes, upstream.attempts));
      head.headers['content-length'] = String(body.length);
      protocol.writeHead(res, head.status, head.headers);
      record.status = head.status;
      pendingBody = null;
      if (body.length > 0) res.write(body);
      res.end();
    } else {
      protocol.writeHead(res, head.status, head.headers);
      record.status = head.status;
      pendingBody = null;
      await pipeResponse(upstream, res, protocol.forwardTrailers);
    }
    answered = null;
    endpoints.finished(upstream.endpoint, upstream.attemptLatencyMs);
    finish(record, started, options);
    if (anyLogs(plugins)) {
      const requestBody = buffered?.length ?? declaredLength(req.headers['content-length']);
      logRequest(ctx, plugins, runtime, head, record, started, upstreamFactsOf(upstreamTarget, upstreamStarted, upstream, 0), req, requestBody, upstream.body.bodyBytes, options.logger);
    }
  } catch (thrown) {
    // A header_filter plugin failed between the upstream head and the body: release that connection.
    pendingBody?.destroy();
    // The upstream answered, then the response broke off: that attempt is over too.
    if (answered !== null) endpoints?.finished(answered.endpoint, answered.attemptLatencyMs);
    const error = toGatewayError(thrown);
    let sent: GatewayResponse | null = null;
    record.reason = error.code;
    if (error.status === 500) options.logger.error({ err: thrown, request_id: requestId }, 'unexpected error while handling a request');
    if (error.code === 'client_aborted' && protocol.timedOut(req)) {
      // The stream was cancelled for outlasting --request-timeout: the gateway's refusal, logged as
      // HTTP/1.1's is (node:http answers that one with 408 itself).
      record.status = 408;
      record.reason = 'request_timeout';
    } else if (error.code === 'client_aborted') {
      record.status = 499;
    } else if (!res.headersSent) {
      const extraParams = ctx === null || error.challenges.length === 0 ? null : challengeParams(ctx, runtime);
      const refusal = errorResponse(error, requestId, extraParams);
      const response = ctx === null ? refusal : finishedAnswer(ctx, plugins, refusal, options.logger);
      sent = isGrpcRequest(req.headers) ? grpcErrorResponse(response) : response;
      sendGatewayResponse(res, protocol, sent, requestId, record.method === 'HEAD');
      record.status = error.status;
    } else {
      // The status line is gone; the only honest signal left is an aborted connection.
      res.destroy();
    }
    finish(record, started, options);
    // Refused requests reach the log phase too (Kong runs it for every request).
    // After a refusal, `plugins` holds the route's plugins the refusal cut short too (runRequestPhases).
    const participants = plugins;
    if (ctx !== null && anyLogs(participants)) {
      const headers = sent === null ? {} : { ...sent.headers, 'x-request-id': requestId };
      const facts = upstreamFactsOf(upstreamTarget, upstreamStarted, responded, error instanceof UpstreamError ? error.attempts : 0);
      const responseBody = sent === null ? facts.bodyBytes : Buffer.byteLength(sent.body);
      const requestBody = ctx.upstreamBody?.length ?? declaredLength(req.headers['content-length']);
      logRequest(ctx, participants, runtime, { status: record.status, headers }, record, started, facts, req, requestBody, responseBody, options.logger, sent !== null);
    }
  }
}

/** The upstream call, its time and outcome recorded for a tracing plugin (a failed call too). */
async function timedUpstream(sending: Promise<UpstreamResponse>, timings: PhaseTimings, start: number): Promise<UpstreamResponse> {
  try {
    const upstream = await sending;
    timings.upstream = { start, end: performance.now(), status: upstream.status, tries: upstream.attempts };
    return upstream;
  } catch (error) {
    timings.upstream = { start, end: performance.now(), status: null, tries: error instanceof UpstreamError ? error.attempts : 1 };
    throw error;
  }
}

/** Auth-params the route's plugins add to every challenge (RFC 9728 `resource_metadata`), null when none do. */
function challengeParams(ctx: RequestContext, runtime: Runtime): Record<string, string> | null {
  let params: Record<string, string> | null = null;
  for (const plugin of runtime.pluginsFor(ctx.route).base) {
    if (plugin.instance.challengeParams === undefined || !pluginApplies(plugin, ctx.request.protocol)) continue;
    const added = plugin.instance.challengeParams(ctx);
    if (added !== null) params = { ...(params ?? {}), ...added };
  }
  return params;
}

function finish(record: AccessRecord, started: number, options: ProxyHandlerOptions): void {
  record.latency_ms.total = round(performance.now() - started);
  record.latency_ms.gateway = round(record.latency_ms.total - (record.latency_ms.upstream ?? 0));
  if (options.accessLog) writeAccessLog(options.logger, record);
  options.observer.requestFinished?.(record);
}

/**
 * The gateway's own answer (a refusal, a preflight) finished as a proxied response is, as Kong
 * finishes a kong.response.exit: with the response headers earlier plugins set (rate-limiting's
 * counts on a later refusal; the answer's own win), then through the header_filter of the plugins
 * that took part (cors adds its headers to a 401). A failing filter leaves the answer unfiltered.
 */
function finishedAnswer(ctx: ProxyRequestContext, plugins: readonly ResolvedPlugin[], response: GatewayResponse, logger: Logger): GatewayResponse {
  const head: ResponseHead = { status: response.status, headers: { ...ctx.responseHeaders, ...response.headers } };
  let body = response.body;
  try {
    runHeaderFilter(ctx, plugins, head);
    // Kong's body_filter runs on a kong.response.exit body too.
    const transforms = ctx.takeResponseTransforms();
    if (transforms !== null && body !== '') body = applyTransforms(transforms, Buffer.from(body, 'utf8')).toString('utf8');
  } catch (error) {
    logger.error({ err: error, request_id: ctx.id }, 'a header_filter failed on a gateway answer');
    return { ...response, headers: flatHeaders({ ...ctx.responseHeaders, ...response.headers }) };
  }
  return { status: head.status, headers: flatHeaders(head.headers), body };
}

/** Whether a response has a body to transform (RFC 9110 §6.4.1: none for HEAD, 204, 304). */
function carriesBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304;
}

function applyTransforms(transforms: readonly ResponseBodyTransform[], body: Buffer): Buffer {
  let out = body;
  for (const transform of transforms) out = transform(out);
  return out;
}

function sendGatewayResponse<Req extends ClientRequest, Res extends ClientResponse>(res: Res, protocol: ClientProtocol<Req, Res>, response: GatewayResponse, requestId: string, head: boolean): void {
  protocol.writeHead(res, response.status, { ...response.headers, 'x-request-id': requestId, 'content-length': Buffer.byteLength(response.body) });
  // No chunk for an empty body: over HTTP/2 the head then goes out as HEADERS with END_STREAM.
  res.end(head || response.body === '' ? undefined : response.body);
}

function protocolRedirect(route: Route, host: string, url: string): GatewayError {
  const status = route.https_redirect_status_code;
  if (status === 426) {
    return new GatewayError({
      status: 426,
      code: 'https_required',
      message: 'Please use HTTPS protocol',
      headers: { connection: 'Upgrade', upgrade: 'TLS/1.2, HTTP/1.1' },
    });
  }
  return new GatewayError({ status, code: 'https_redirect', message: 'Moved', headers: { location: `https://${host}${url}` } });
}

/**
 * A ws/wss route (Kong Enterprise's) serves WebSocket handshakes only: anything else is told to
 * upgrade (RFC 9110 §15.5.22: a 426 names the protocol in Upgrade).
 */
function webSocketRequired(): GatewayError {
  return new GatewayError({ status: 426, code: 'websocket_required', message: 'Please use the WebSocket protocol', headers: { connection: 'Upgrade', upgrade: 'websocket' } });
}

function appendVia(existing: string | string[] | undefined): string {
  if (existing === undefined) return via;
  return `${Array.isArray(existing) ? existing.join(', ') : existing}, ${via}`;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
