import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { EchoError } from './request-info.js';
import { route, sendJson, type EchoLimits } from './routes.js';

export interface EchoServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops every connection, in-flight requests included. Idempotent. */
  close(): Promise<void>;
}

export interface EchoServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Serve HTTPS with this certificate instead of HTTP. */
  tls?: { certPem: string; keyPem: string };
  /** Bodies up to this size are echoed in `data`/`json`/`form`; larger ones only counted and hashed. Default 1 MiB. */
  maxEchoBodyBytes?: number;
  /** Larger request bodies are refused with 413. Default 1 GiB. */
  maxBodyBytes?: number;
  /** Upper bound for /delay/{seconds}; longer asks are shortened to it, as httpbin does. Default 10. */
  maxDelaySeconds?: number;
  /** Upper bound for /bytes/{n} and /stream-bytes/{n}. Default 100 MiB. */
  maxBytes?: number;
}

const defaults: EchoLimits = {
  maxEchoBodyBytes: 1024 * 1024,
  maxBodyBytes: 1024 * 1024 * 1024,
  maxDelaySeconds: 10,
  maxBytes: 100 * 1024 * 1024,
};

/**
 * Starts the httpbin-like upstream: /anything[/*], /get, /headers, /ip, /status/{codes},
 * /delay/{seconds}, /bytes/{n}, /stream-bytes/{n}. Silent: it logs nothing.
 */
export async function startEchoServer(opts: EchoServerOptions = {}): Promise<EchoServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be 0 to 65535, got ${port}`);
  const limits = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof EchoLimits)[]) {
    const value = opts[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new TypeError(`${key} must be a non-negative number, got ${String(value)}`);
    }
    limits[key] = value;
  }
  const scheme = opts.tls === undefined ? 'http' : 'https';
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res, scheme, limits).catch((error: unknown) => fail(res, error));
  };
  const server: Server =
    opts.tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, handler);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${urlHost(host)}:${bound}`,
    port: bound,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function fail(res: ServerResponse, error: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  if (error instanceof EchoError) {
    // A refused body may still be arriving: don't keep a connection whose request was not read.
    if (error.status === 413) res.setHeader('connection', 'close');
    sendJson(res, error.status, { error: error.message });
    return;
  }
  // The client hung up while we were reading: nobody to answer.
  if (res.req.destroyed || res.req.readableAborted) {
    res.destroy();
    return;
  }
  sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
}

// Wildcard listeners are reached over loopback; IPv6 literals need brackets in a URL.
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
