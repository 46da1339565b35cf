import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ConnectionLimits } from './settings.js';
import type { ListenSpec } from './listen-spec.js';
import { baseTlsOptions, type DefaultCertificate } from '../runtime/tls-contexts.js';
import type { RuntimeHolder } from '../runtime/runtime-holder.js';
import type { GatewayObserver } from './observer.js';
import { followCertificatePolicy, requestCertificate } from './certificate-request.js';
import type { AccessRecord } from './access-log.js';
import { connectionInfoOf } from '../connection/connection-info.js';
import { Http2Sessions, type Http2RequestHandler } from './http2-sessions.js';
import { acceptUpgrade, isWebSocketUpgrade } from './websocket-proxy.js';
import { badRequest, connectRefused, headerOverflow, hostDuplicated, hostMissing, http10TransferEncoding, pathOf, refusalRecord, renegotiationRefused, requestTimeout, type Refusal } from './refusals.js';


/** A bound listener and what it was asked to be. */
export interface Listener {
  readonly spec: ListenSpec;
  readonly server: Server;
  /** The address actually bound (port 0 resolves to a real port). */
  readonly address: { host: string; port: number };
  /** Whether HTTP/2 is served here (the `http2` flag, and a handler for it). */
  readonly http2: boolean;
  /** Client connections open right now. */
  openConnections(): number;
  /** Closes keep-alive connections between requests, and asks HTTP/2 clients to go away (GOAWAY). */
  closeIdleConnections(): void;
  /** Closes every connection now. */
  closeAllConnections(): void;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A listener's handlers: HTTP/1.1 always; HTTP/2 where the listener has the `http2` flag. */
export interface ListenerHandlers {
  readonly http1: RequestHandler;
  /** Without it an `http2` listener serves HTTP/1.1 only (the admin API). */
  readonly http2?: Http2RequestHandler;
  /** `Upgrade: websocket` requests; without it they are plain requests (the Upgrade header is not acted on). */
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/** Optional knobs of one listener. */
export interface ListenOptions {
  readonly tls: { holder: RuntimeHolder; defaultCertificate: () => DefaultCertificate } | null;
  readonly observer?: GatewayObserver;
  /**
   * A request refused before the handler saw it: malformed (400 `bad_request`), head too large
   * (431 `request_header_fields_too_large`), too slow (408 `request_timeout`), without exactly one
   * Host header (400 `host_header_missing` / `host_header_duplicated`), HTTP/1.0 with
   * Transfer-Encoding (400 `http10_transfer_encoding`), CONNECT (405 `method_not_allowed`), a TLS
   * renegotiation attempt (400 `tls_renegotiation_refused`).
   * Gets the access record of that answer (a fresh request id, no route); it is also reported to
   * `observer.requestFinished`. The gateway writes it to the access log.
   */
  readonly onClientError?: (record: AccessRecord) => void;
}

/** Creates and binds one HTTP or HTTPS listener with the connection limits applied. */
export async function listen(
  spec: ListenSpec,
  handlers: ListenerHandlers,
  limits: ConnectionLimits,
  options: ListenOptions,
): Promise<Listener> {
  const { tls, observer } = options;
  const report = (record: AccessRecord): void => {
    record.config_version = tls?.holder.current.version ?? 0;
    observer?.requestFinished?.(record);
    options.onClientError?.(record);
  };
  const httpOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkingInterval(limits),
    // Reject ambiguous framing (obs-fold, CL+TE) rather than guess: request smuggling defence.
    insecureHTTPParser: false,
    // Checked in `headProblem` instead, so that the 400 is logged like every other refusal.
    requireHostHeader: false,
    // Only WebSocket upgrades leave the request path (node's default takes any Upgrade once a listener exists).
    shouldUpgradeCallback: (req: IncomingMessage) => handlers.upgrade !== undefined && isWebSocketUpgrade(req),
  };
  const guarded: RequestHandler = (req, res) => {
    const socket = req.socket as TrackedSocket;
    // Node parses (and hands out) requests pipelined behind a refused one before the refusal has
    // closed the connection; after faulty framing they may be anything. None of them is served.
    if (socket[refused] === true) return;
    socket[latestResponse] = res;
    const problem = headProblem(req);
    if (problem === null) {
      handlers.http1(req, res);
      return;
    }
    socket[refused] = true;
    refuseRequest(req, res, problem, report);
  };
  const h2 = spec.http2 && handlers.http2 !== undefined ? new Http2Sessions(handlers.http2, limits, report) : null;
  const upgrade = handlers.upgrade;
  const guardedUpgrade = upgrade === undefined ? undefined : (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const problem = headProblem(req);
    if (problem === null) {
      upgrade(req, socket, head);
      return;
    }
    refuseRequest(req, acceptUpgrade(req, socket, head).res, problem, report);
  };
  let server: Server;
  if (spec.ssl) {
    if (tls === null) throw new Error('an ssl listener needs TLS settings');
    const fallback = tls.defaultCertificate();
    const holder = tls.holder;
    const https = createHttpsServer(
      {
        ...httpOptions,
        ...baseTlsOptions,
        // h2 first: a client offering both gets HTTP/2 (RFC 7301 leaves the choice to the server).
        ALPNProtocols: h2 === null ? ['http/1.1'] : ['h2', 'http/1.1'],
        cert: fallback.certPem,
        key: fallback.keyPem,
        // Asking for a certificate never means requiring one: the plugins decide per request.
        rejectUnauthorized: false,
        // A method, not an arrow: Node calls it on the TLSSocket being handshaken (see certificate-request.ts).
        SNICallback: function (this: TLSSocket, servername, callback) {
          const runtime = holder.current;
          const sni = servername.toLowerCase();
          requestCertificate(this, runtime.certificateRequests.requestsFor(sni));
          callback(null, runtime.tls.selectNaming(sni, runtime.caNames.namesFor(sni)));
        },
      },
      guarded,
    );
    const unfollow = followCertificatePolicy(https, holder, (runtime) => {
      const caNames = runtime.caNames.namesFor(null);
      return { ...baseTlsOptions, cert: fallback.certPem, key: fallback.keyPem, ...(caNames.length > 0 ? { ca: [...caNames] } : {}) };
    });
    https.once('close', unfollow);
    https.on('secureConnection', (socket: TLSSocket) => {
      // A certificate must not change under a live connection: no renegotiation, ever.
      socket.disableRenegotiation();
      observer?.tlsHandshake?.({ clientCertificate: socket.getPeerX509Certificate() !== undefined, resumed: socket.isSessionReused() });
    });
    if (h2 !== null) handOverH2(https, 'secureConnection', (socket, http1) => ((socket as TLSSocket).alpnProtocol === 'h2' ? h2.accept(socket) : http1(socket)));
    server = https;
  } else {
    server = createHttpServer(httpOptions, guarded);
    if (h2 !== null) handOverH2(server, 'connection', (socket, http1) => sniffPreface(socket, h2, http1, limits.headersTimeoutMs));
  }
  if (guardedUpgrade !== undefined) server.on('upgrade', guardedUpgrade);
  server.maxConnections = limits.maxConnections;
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    observer?.connection?.(1);
    socket.once('close', () => {
      open--;
      observer?.connection?.(-1);
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, report));
  // No tunnels: without this listener Node would close a CONNECT's connection without a word or a log line.
  server.on('connect', (req: IncomingMessage, socket: Socket) => refuseConnect(req, socket, report));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: spec.host, port: spec.port, backlog: spec.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    spec,
    server,
    address: { host: bound.address, port: bound.port },
    http2: h2 !== null,
    openConnections: () => open,
    closeIdleConnections: () => {
      server.closeIdleConnections();
      h2?.closeGracefully();
    },
    closeAllConnections: () => {
      server.closeAllConnections();
      h2?.destroyAll();
    },
  };
}

/**
 * Puts `dispatch` between the server and node:http's own connection listener (registered by the
 * server for `event`), which it receives as `http1`: a connection it gives to HTTP/2 instead never
 * reaches the HTTP/1.1 parser.
 */
function handOverH2(server: Server, event: 'connection' | 'secureConnection', dispatch: (socket: Socket, http1: (socket: Socket) => void) => void): void {
  const [original] = server.listeners(event) as Array<(socket: Socket) => void>;
  if (original === undefined) throw new Error(`node:http registered no ${event} listener`);
  server.removeListener(event, original);
  const http1 = (socket: Socket): void => original.call(server, socket);
  server.on(event, (socket: Socket) => dispatch(socket, http1));
}

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * A cleartext `http2` listener serves both: a client that starts with the HTTP/2 connection preface
 * (prior knowledge, RFC 9113 §3.3) gets HTTP/2, any other HTTP/1.1. The first bytes are read, put
 * back, and the connection handed to the protocol they start.
 */
function sniffPreface(socket: Socket, h2: Http2Sessions, http1: (socket: Socket) => void, timeoutMs: number): void {
  let seen: Buffer = Buffer.alloc(0);
  // A client that sends nothing is dropped as node:http drops one that sends no head.
  const silent = timeoutMs > 0 ? setTimeout(() => socket.destroy(), timeoutMs) : null;
  const stop = (): void => {
    if (silent !== null) clearTimeout(silent);
    socket.off('readable', onReadable);
    socket.off('close', stop);
    socket.off('error', stop);
  };
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.length, preface.length);
    const isH2 = seen.subarray(0, compared).equals(preface.subarray(0, compared));
    // Still a prefix of the preface: wait for more (a client may send it in pieces).
    if (isH2 && compared < preface.length) return;
    stop();
    socket.unshift(seen);
    if (isH2) h2.accept(socket);
    else http1(socket);
  };
  socket.on('readable', onReadable);
  socket.once('close', stop);
  // Until a protocol takes over, a reset must not become an uncaught 'error'.
  socket.once('error', stop);
}

/**
 * Node checks `headersTimeout` and `requestTimeout` only every `connectionsCheckingInterval`
 * (30 s by default), so a 1.5 s headers timeout could really last 31.5 s. Check at a tenth of the
 * shorter limit, between 100 ms and 1 s: a slow client is cut off within about 10% of its limit.
 */
function checkingInterval(limits: ConnectionLimits): number {
  const enabled = [limits.headersTimeoutMs, limits.requestTimeoutMs].filter((ms) => ms > 0);
  if (enabled.length === 0) return 30_000;
  return Math.min(1000, Math.max(100, Math.round(Math.min(...enabled) / 10)));
}

const latestResponse = Symbol('portcullis.latestResponse');
const refused = Symbol('portcullis.refused');
/** A client socket with the response to its latest request (see `answerClientError`), and whether one was refused. */
type TrackedSocket = Socket & { [latestResponse]?: ServerResponse; [refused]?: boolean; _httpMessage?: ServerResponse | null };

/**
 * What the request head alone makes unacceptable, as nginx (Kong) refuses it too:
 * - RFC 9112 §3.2: an HTTP/1.1 request without a Host header, and any request with more than one
 *   (Node keeps the first and drops the others silently);
 * - RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request, whose framing must be taken as faulty
 *   (an HTTP/1.0 hop before us may well have ignored it: a request smuggling shape).
 */
function headProblem(req: IncomingMessage): Refusal | null {
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name !== undefined && name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return hostDuplicated;
  const http11 = req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
  if (hosts === 0 && http11) return hostMissing;
  if (!http11 && req.headers['transfer-encoding'] !== undefined) return http10TransferEncoding;
  return null;
}

function refuseRequest(req: IncomingMessage, res: ServerResponse, refusal: Refusal, report: (record: AccessRecord) => void): void {
  const record = refusalRecord(connectionInfoOf(req.socket), refusal, req.method ?? '', pathOf(req.url ?? ''), req.headers.host ?? '');
  res.shouldKeepAlive = false;
  res.writeHead(refusal.status, { 'content-length': 0, 'x-request-id': record.request_id });
  res.end();
  report(record);
}

function refuseConnect(req: IncomingMessage, socket: Socket, report: (record: AccessRecord) => void): void {
  const record = refusalRecord(connectionInfoOf(socket), connectRefused, req.method ?? 'CONNECT', req.url ?? '', req.headers.host ?? '');
  socket.end(`HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\nX-Request-Id: ${record.request_id}\r\n\r\n`);
  report(record);
}

/** The method and path of the request line in `rawPacket`, when it has a plain one. */
function requestLineOf(error: NodeJS.ErrnoException & { rawPacket?: unknown }): { method: string; path: string } {
  if (!Buffer.isBuffer(error.rawPacket)) return { method: '', path: '' };
  const line = /^([A-Z]{1,20}) ([\x21-\x7e]{1,2048}) HTTP\/1\.[01]\r?\n/.exec(error.rawPacket.toString('latin1', 0, 2100));
  return line === null ? { method: '', path: '' } : { method: line[1] ?? '', path: pathOf(line[2] ?? '') };
}

/**
 * Whether the error concerns a request that has been answered already (a body still arriving after
 * its response went out, or a pipelined request behind a response still being written): another
 * status line on that connection would be read as the answer to the client's next request.
 */
function alreadyAnswered(socket: TrackedSocket): boolean {
  if (socket._httpMessage?.headersSent === true) return true;
  const latest = socket[latestResponse];
  return latest !== undefined && latest.headersSent && !latest.req.complete;
}

/** The answer to a `clientError`, or null when the connection is just dropped. */
function refusalFor(error: NodeJS.ErrnoException): Refusal | null {
  const code = error.code ?? '';
  if (code === 'HPE_HEADER_OVERFLOW') return headerOverflow;
  if (code.startsWith('HPE_')) return badRequest;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestTimeout;
  // OpenSSL has already refused the renegotiation (no_renegotiation alert, see baseTlsOptions);
  // the 400 ends the connection and puts the attempt in the access log.
  if (code === 'ERR_TLS_RENEGOTIATION_DISABLED') return renegotiationRefused;
  return null; // a socket error (reset, broken pipe): not a request
}

/**
 * A request Node's parser refused (malformed, head too large, too slow) gets a short plain answer,
 * never a stack or a hang, and an access-log record. When its request was answered already, the
 * connection is destroyed instead (Node's default handler would write a 408 after the response).
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, report: (record: AccessRecord) => void): void {
  const refusal = refusalFor(error);
  if (refusal === null || !socket.writable || alreadyAnswered(socket)) {
    socket.destroy();
    return;
  }
  // A request whose body is still arriving (the request timeout) is known; otherwise only its first bytes are.
  const pending = (socket as TrackedSocket)._httpMessage?.req;
  const { method, path } = pending === undefined ? requestLineOf(error) : { method: pending.method ?? '', path: pathOf(pending.url ?? '') };
  const record = refusalRecord(connectionInfoOf(socket), refusal, method, path, pending?.headers.host ?? '');
  socket.end(`HTTP/1.1 ${refusal.status} ${refusal.statusText}\r\nConnection: close\r\nContent-Length: 0\r\nX-Request-Id: ${record.request_id}\r\n\r\n`);
  report(record);
}

/**
 * Stops accepting, lets in-flight requests finish (closing keep-alive connections as they go idle),
 * and after `drainTimeoutMs` closes whatever is left.
 */
export async function drain(listeners: readonly Listener[], drainTimeoutMs: number): Promise<void> {
  const closed = listeners.map(
    (l) => new Promise<void>((resolve) => l.server.close(() => resolve())),
  );
  const sweep = setInterval(() => {
    for (const l of listeners) l.closeIdleConnections();
  }, 50);
  const deadline = setTimeout(() => {
    for (const l of listeners) l.closeAllConnections();
  }, drainTimeoutMs);
  deadline.unref();
  try {
    for (const l of listeners) l.closeIdleConnections();
    await Promise.all(closed);
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}
