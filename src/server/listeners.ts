import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ConnectionLimits } from './settings.js';
import type { ListenSpec } from './listen-spec.js';
import { baseTlsOptions, type DefaultCertificate } from '../runtime/tls-contexts.js';
import type { RuntimeHolder } from '../runtime/runtime-holder.js';
import type { GatewayObserver } from './observer.js';
import { followCertificatePolicy, requestCertificate } from './certificate-request.js';

/** A bound listener and what it was asked to be. */
export interface Listener {
  readonly spec: ListenSpec;
  readonly server: Server;
  /** The address actually bound (port 0 resolves to a real port). */
  readonly address: { host: string; port: number };
  /** Client connections open right now. */
  openConnections(): number;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Optional knobs of one listener. */
export interface ListenOptions {
  readonly tls: { holder: RuntimeHolder; defaultCertificate: () => DefaultCertificate } | null;
  readonly observer?: GatewayObserver;
}

/** Creates and binds one HTTP or HTTPS listener with the connection limits applied. */
export async function listen(
  spec: ListenSpec,
  handler: RequestHandler,
  limits: ConnectionLimits,
  options: ListenOptions,
): Promise<Listener> {
  const { tls, observer } = options;
  const httpOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Reject ambiguous framing (obs-fold, CL+TE) rather than guess: request smuggling defence.
    insecureHTTPParser: false,
    requireHostHeader: false,
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
      handler,
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
    server = https;
  } else {
    server = createHttpServer(httpOptions, handler);
  }
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
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: spec.host, port: spec.port, backlog: spec.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return { spec, server, address: { host: bound.address, port: bound.port }, openConnections: () => open };
}

/** A malformed request gets a short plain answer, never a stack or a hang. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
    : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
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
    for (const l of listeners) l.server.closeIdleConnections();
  }, 50);
  const deadline = setTimeout(() => {
    for (const l of listeners) l.server.closeAllConnections();
  }, drainTimeoutMs);
  deadline.unref();
  try {
    for (const l of listeners) l.server.closeIdleConnections();
    await Promise.all(closed);
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}
