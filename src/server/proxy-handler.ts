import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Route, Service } from '../config/types.js';
import type { GatewayRequest, HeaderMap, RequestContext } from '../pipeline/context.js';
import { GatewayError } from '../pipeline/gateway-error.js';
import { applyIdentityHeaders, removeIdentityHeaders } from '../pipeline/identity-headers.js';
import type { ResolvedPlugin, ResponseHead } from '../pipeline/plugin.js';
import { errorResponse, toGatewayError, type GatewayResponse } from '../pipeline/respond.js';
import { runHeaderFilter, runLog, runRequestPhases } from '../pipeline/run-phases.js';
import { buildUpstreamHeaders } from '../proxy/headers.js';
import { pipeResponse, sendUpstream } from '../proxy/send.js';
import { upstreamPath } from '../router/index.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RuntimeHolder } from '../runtime/runtime-holder.js';
import { connectionInfoOf } from './connection-info.js';
import { parseRequestTarget } from './request-target.js';
import { writeAccessLog, type AccessRecord } from './access-log.js';
import type { GatewayObserver } from './observer.js';
import { compileTrustedPeers, duplicatedCertificateHeader, removeUntrustedCertificateHeaders } from './trusted-peers.js';
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
}

interface HandlerState extends ProxyHandlerOptions {
  readonly trustedPeers: AddressSet;
}

/** The proxy listeners' request handler: route, plugins, upstream, response, log. */
export function createProxyHandler(options: ProxyHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const state: HandlerState = { ...options, trustedPeers: compileTrustedPeers(options.trustedIps) };
  return (req, res) => {
    const runtime = options.holder.acquire();
    handle(req, res, runtime, state)
      .catch((error: unknown) => options.logger.error({ err: error }, 'request handler failed'))
      .finally(() => options.holder.release(runtime));
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, runtime: Runtime, options: HandlerState): Promise<void> {
  const started = performance.now();
  const connection = connectionInfoOf(req.socket);
  const trustedPeer = options.trustedPeers.has(connection.remoteAddress);
  if (!trustedPeer) removeUntrustedCertificateHeaders(req.headers, runtime.certificateHeaders);
  const incomingId = req.headers['x-request-id'];
  const requestId = typeof incomingId === 'string' && acceptableRequestId.test(incomingId) ? incomingId : randomUUID();
  const target = parseRequestTarget(req, connection.localPort);
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
  res.setHeader('x-request-id', requestId);

  const match = runtime.router.match({ protocol: scheme, method: record.method, host: target.host, path: target.path, port: target.port, headers: req.headers, sni: connection.sni });
  let plugins: readonly ResolvedPlugin[] = [];
  let head: ResponseHead = { status: 0, headers: {} };
  try {
    const duplicated = trustedPeer ? duplicatedCertificateHeader(req.rawHeaders, runtime.certificateHeaders) : null;
    if (duplicated !== null) {
      throw new GatewayError({ status: 400, code: 'certificate_header_duplicated', message: 'Malformed client certificate header', description: `${duplicated} sent more than once` });
    }
    if (match === null) throw new GatewayError({ status: 404, code: 'no_route', message: 'no Route matched with those values' });
    const route = match.route;
    record.route = route.name ?? route.id;
    if (match.kind === 'protocol-mismatch') throw protocolRedirect(route, target.host, req.url ?? '/');
    const service = runtime.service(route.service);
    if (service === null) throw new GatewayError({ status: 503, code: 'no_service', message: 'no Service found with those values' });
    record.service = service.name ?? service.id;

    const request: GatewayRequest = {
      method: record.method,
      scheme,
      host: target.host,
      port: target.port,
      path: target.path,
      query: target.query,
      httpVersion: req.httpVersion,
      headers: req.headers,
      body: req,
    };
    const path = upstreamPath({ servicePath: service.path, route, matchedPath: match.matchedPath, requestPath: target.path });
    const upstreamHeaders: HeaderMap = buildUpstreamHeaders({
      clientHeaders: req.headers,
      clientAddress: connection.remoteAddress,
      trustedPeer,
      scheme,
      host: target.host,
      port: target.port,
      path: target.path,
      strippedPrefix: route.strip_path && match.matchedPath !== '' ? match.matchedPath : null,
      upstreamHost: route.preserve_host && req.headers.host !== undefined ? req.headers.host : upstreamHostHeader(service),
      requestId,
      via,
    });
    removeIdentityHeaders(upstreamHeaders);
    const ctx: RequestContext = {
      id: requestId,
      request,
      connection,
      route,
      service,
      upstreamHeaders,
      responseHeaders: {},
      clientCertificate: connection.clientCertificate,
      identity: null,
      auth: null,
      shared: new Map(),
    };

    try {
      plugins = await runRequestPhases(ctx, runtime.pluginsFor(route));
    } finally {
      record.auth = ctx.auth;
      record.thumbprint = ctx.clientCertificate?.thumbprint ?? null;
    }
    if (ctx.identity !== null) applyIdentityHeaders(upstreamHeaders, ctx.identity);

    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const upstreamStarted = performance.now();
    const upstream = await sendUpstream({
      dispatcher: runtime.pools.dispatcherFor(service),
      service,
      method: record.method,
      path: target.query === '' ? path : `${path}?${target.query}`,
      headers: upstreamHeaders,
      body: hasBody(req) ? req : null,
      signal: abort.signal,
    });
    record.latency_ms.upstream = round(performance.now() - upstreamStarted);
    head = { status: upstream.status, headers: { ...upstream.headers, ...ctx.responseHeaders } };
    runHeaderFilter(ctx, plugins, head);
    head.headers['via'] = appendVia(head.headers['via']);
    head.headers['x-request-id'] = requestId;
    res.writeHead(head.status, head.headers);
    record.status = head.status;
    await pipeResponse(upstream, res);
    finish(record, started, options);
    logPlugins(ctx, plugins, head, options.logger);
  } catch (thrown) {
    const error = toGatewayError(thrown);
    record.reason = error.code;
    if (error.status === 500) options.logger.error({ err: thrown, request_id: requestId }, 'unexpected error while handling a request');
    if (error.code === 'client_aborted') {
      record.status = 499;
    } else if (!res.headersSent) {
      sendGatewayResponse(res, errorResponse(error, requestId), record.method === 'HEAD');
      record.status = error.status;
    } else {
      // The status line is gone; the only honest signal left is an aborted connection.
      res.destroy();
    }
    finish(record, started, options);
  }
}

function finish(record: AccessRecord, started: number, options: ProxyHandlerOptions): void {
  record.latency_ms.total = round(performance.now() - started);
  record.latency_ms.gateway = round(record.latency_ms.total - (record.latency_ms.upstream ?? 0));
  if (options.accessLog) writeAccessLog(options.logger, record);
  options.observer.requestFinished?.(record);
}

function logPlugins(ctx: RequestContext, plugins: readonly ResolvedPlugin[], head: ResponseHead, logger: Logger): void {
  runLog(ctx, plugins, head, (plugin, error) => logger.error({ err: error, plugin, request_id: ctx.id }, 'plugin log phase failed'));
}

function sendGatewayResponse(res: ServerResponse, response: GatewayResponse, head: boolean): void {
  res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
  res.end(head ? undefined : response.body);
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

function upstreamHostHeader(service: Service): string {
  const defaultPort = service.protocol === 'https' ? 443 : 80;
  const host = service.host.includes(':') ? `[${service.host}]` : service.host;
  return service.port === defaultPort ? host : `${host}:${service.port}`;
}

function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

function appendVia(existing: string | string[] | undefined): string {
  if (existing === undefined) return via;
  return `${Array.isArray(existing) ? existing.join(', ') : existing}, ${via}`;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
