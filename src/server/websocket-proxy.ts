import { ServerResponse, validateHeaderName, validateHeaderValue, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { HeaderMap, RequestContext } from '../pipeline/context.js';
import type { ResolvedPlugin, ResponseHead } from '../pipeline/plugin.js';
import { runHeaderFilter } from '../pipeline/run-phases.js';
import { sendUpgrade, type UpgradeRequest } from '../proxy/send-upgrade.js';
import { tunnel, type TunnelLimits } from '../proxy/tunnel.js';
import { UpstreamError } from '../proxy/upstream-errors.js';
import type { AccessRecord } from './access-log.js';

/**
 * WebSockets through the proxy, Kong's way (`kong/runloop/handler.lua`): an HTTP/1.1 request with
 * `Upgrade: websocket` is routed and goes through every plugin's access phase like any other (a
 * refusal is the plugin's normal answer, and the connection closes), then is sent upstream with
 * `Connection: keep-alive, Upgrade` and `Upgrade: websocket`. A 101 from the upstream goes to the
 * client (after the header_filter phase) and the two connections are joined until either closes or
 * a limit ends the tunnel; any other answer is relayed as an HTTP response. Other Upgrade tokens
 * (h2c, …) are not upgrades here: the listener serves those requests as plain HTTP/1.1.
 */

/** The client's upgrade request: its connection, what node read past the head, and a response for refusals. */
export interface ClientUpgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
  /** Writes an HTTP answer (a refusal, or the upstream's non-101) on the connection, which then closes. */
  readonly res: ServerResponse;
}

/** Whether node:http should hand a request to the upgrade path: `Upgrade: websocket` (case-insensitive, RFC 6455 §4.2.1). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.trim().toLowerCase() === 'websocket';
}

export function acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): ClientUpgrade {
  const res = new ServerResponse(req);
  // node's server no longer parses this connection: after an HTTP answer it ends.
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', () => socket.end());
  // A reset client must not become an uncaught 'error' before the tunnel (or the answer) owns the socket.
  socket.on('error', () => socket.destroy());
  return { socket, head, res };
}

export interface WebSocketProxyArgs {
  readonly upgrade: ClientUpgrade;
  readonly ctx: RequestContext;
  readonly plugins: readonly ResolvedPlugin[];
  readonly record: AccessRecord;
  readonly request: UpgradeRequest;
  readonly limits: TunnelLimits;
  /** Adds the gateway's own response headers (Via, X-Request-Id, a hash cookie). */
  readonly decorate: (headers: HeaderMap) => void;
}

/** Sends the upgrade upstream and serves what comes back: a tunnel, or the upstream's HTTP answer. Throws GatewayErrors as sendUpstream does. */
export async function proxyWebSocket(args: WebSocketProxyArgs): Promise<void> {
  const { upgrade, ctx, plugins, record, request } = args;
  request.headers['connection'] = 'keep-alive, Upgrade';
  request.headers['upgrade'] = 'websocket';
  const sent = performance.now();
  const outcome = await sendUpgrade(request);
  const latencyMs = performance.now() - sent;
  const head: ResponseHead = { status: outcome.kind === 'switched' ? 101 : outcome.status, headers: Object.assign(outcome.headers, ctx.responseHeaders) };
  runHeaderFilter(ctx, plugins, head);
  args.decorate(head.headers);
  if (outcome.kind === 'answered') {
    upgrade.res.writeHead(head.status, withoutUpgrade(head.headers));
    record.status = head.status;
    try {
      await finished(outcome.body.pipe(upgrade.res));
    } catch (error) {
      outcome.body.destroy();
      upgrade.socket.destroy();
      throw new UpstreamError('reset', outcome.attempts, error);
    } finally {
      request.endpoints.finished(outcome.endpoint, latencyMs);
    }
    return;
  }
  // From here on the connection is the tunnel's: the 101 head is written as the upstream sent it.
  upgrade.socket.write(switchingProtocolsHead(head.headers));
  record.status = 101;
  if (outcome.head.length > 0) upgrade.socket.write(outcome.head);
  if (upgrade.head.length > 0) outcome.socket.write(upgrade.head);
  const result = await tunnel(upgrade.socket, outcome.socket, args.limits);
  request.endpoints.finished(outcome.endpoint, latencyMs);
  record.tunnel = { end: result.end, bytes_up: result.bytesUp, bytes_down: result.bytesDown };
}

/** An HTTP answer to a request that asked to upgrade: without the upstream's Upgrade/Connection, which no longer apply. */
function withoutUpgrade(headers: HeaderMap): HeaderMap {
  delete headers['upgrade'];
  delete headers['connection'];
  return headers;
}

function switchingProtocolsHead(headers: HeaderMap): string {
  let head = 'HTTP/1.1 101 Switching Protocols\r\n';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    // Plugins may have edited these: node's own checks keep CR/LF and bad names out of the head.
    validateHeaderName(name);
    for (const one of Array.isArray(value) ? value : [value]) {
      validateHeaderValue(name, one);
      head += `${name}: ${one}\r\n`;
    }
  }
  return `${head}\r\n`;
}
