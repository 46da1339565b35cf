import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Service } from '../config/types.js';
import type { HeaderMap } from '../pipeline/context.js';
import { filterResponseHeaders } from './headers.js';
import type { ServiceEndpoints, UpstreamEndpoint } from './service-endpoints.js';
import type { AbortSource } from './upstream-exchange.js';
import { classifyFailure, isConnectPhase, observePassively, readTimeoutCode, UpstreamError } from './upstream-errors.js';
import { openUpstreamConnection } from './upstream-pools.js';

/**
 * The upstream half of a WebSocket (RFC 6455 §4) through the gateway: the client's upgrade request
 * is sent on a connection of its own (made as the endpoint's pool makes them, then never returned
 * to it), by node:http's client. The upstream either switches protocols (101: the connection is
 * the tunnel's from then on) or answers as HTTP, and that answer goes to the client as any other.
 */
export interface UpgradeRequest {
  readonly endpoints: ServiceEndpoints;
  readonly service: Service;
  /** As `UpstreamRequest.defaultHost`: each attempt then sends its endpoint's Host. */
  readonly defaultHost: string | null;
  readonly method: string;
  readonly path: string;
  /** Upstream headers, with `connection: upgrade` and `upgrade: websocket`. */
  readonly headers: HeaderMap;
  readonly signal: AbortSource;
  readonly hash: string | null;
}

export type UpgradeOutcome =
  | {
      readonly kind: 'switched';
      /** The upstream's 101 headers as sent (Upgrade, Connection, Sec-WebSocket-*): the client needs them all. */
      readonly headers: HeaderMap;
      readonly socket: Socket;
      /** Bytes the upstream sent after its head, already read: the tunnel writes them first. */
      readonly head: Buffer;
      readonly endpoint: UpstreamEndpoint;
      readonly attempts: number;
    }
  | {
      readonly kind: 'answered';
      readonly status: number;
      /** Hop-by-hop headers removed. */
      readonly headers: HeaderMap;
      readonly body: IncomingMessage;
      readonly endpoint: UpstreamEndpoint;
      readonly attempts: number;
    };

/**
 * Sends the upgrade, retrying (up to `service.retries`) only failures before a connection existed:
 * an upgrade request is never replayed once it may have reached an upstream. Throws UpstreamError.
 */
export async function sendUpgrade(req: UpgradeRequest): Promise<UpgradeOutcome> {
  const maxAttempts = Math.max(0, Math.floor(req.service.retries)) + 1;
  let tried: string[] | null = null;
  let gatewayHost = req.defaultHost;
  for (let attempt = 1; ; attempt += 1) {
    if (req.signal.aborted) throw new UpstreamError('client_aborted', attempt - 1, req.signal.reason);
    const endpoint = req.endpoints.next(tried, req.hash);
    if (endpoint === null) throw new UpstreamError('no_target', attempt - 1, new Error('no target of the upstream can take the request'));
    if (endpoint.target !== null) (tried ??= []).push(endpoint.target);
    if (gatewayHost !== null && req.headers['host'] === gatewayHost) req.headers['host'] = gatewayHost = endpoint.hostHeader;
    req.endpoints.started(endpoint);
    let socket: Socket;
    try {
      socket = await openUpstreamConnection(endpoint);
    } catch (error) {
      req.endpoints.finished(endpoint, null);
      const failure = classifyFailure(error);
      observePassively(endpoint, failure);
      if (attempt < maxAttempts && isConnectPhase(failure)) continue;
      throw new UpstreamError(failure, attempt, error);
    }
    try {
      const outcome = await exchange(socket, req, endpoint, attempt);
      if (outcome.kind === 'answered') endpoint.health?.observeStatus(outcome.status);
      return outcome;
    } catch (error) {
      req.endpoints.finished(endpoint, null);
      socket.destroy();
      const failure = req.signal.aborted ? 'client_aborted' : classifyFailure(error);
      observePassively(endpoint, failure);
      throw new UpstreamError(failure, attempt, error);
    }
  }
}

/** The request on `socket`, until the upstream switches, answers, fails, or says nothing within read_timeout. */
function exchange(socket: Socket, req: UpgradeRequest, endpoint: UpstreamEndpoint, attempts: number): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({
      method: req.method,
      path: req.path,
      headers: req.headers,
      setHost: false,
      createConnection: () => socket,
    });
    const readTimeout = req.service.read_timeout;
    const timer = readTimeout > 0
      ? setTimeout(() => void outgoing.destroy(Object.assign(new Error(`no response head from the upstream within read_timeout (${readTimeout} ms)`), { code: readTimeoutCode })), readTimeout)
      : null;
    const onAbort = (): void => void outgoing.destroy(Object.assign(new Error('client went away'), { code: 'ECONNABORTED' }));
    req.signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      if (timer !== null) clearTimeout(timer);
      req.signal.removeEventListener('abort', onAbort);
    };
    outgoing.once('upgrade', (res: IncomingMessage, upgraded: Socket, head: Buffer) => {
      settle();
      resolve({ kind: 'switched', headers: headersOf(res), socket: upgraded, head, endpoint, attempts });
    });
    outgoing.once('response', (res: IncomingMessage) => {
      settle();
      resolve({ kind: 'answered', status: res.statusCode ?? 502, headers: filterResponseHeaders(res.headers), body: res, endpoint, attempts });
    });
    outgoing.once('error', (error) => {
      settle();
      reject(error);
    });
    outgoing.end();
  });
}

function headersOf(res: IncomingMessage): HeaderMap {
  const out: HeaderMap = {};
  for (const name in res.headers) {
    const value = res.headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
