// Shared by this folder's tests only: entities with defaults and local servers on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach } from 'node:test';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Config, Service } from '../config/types.js';
import { GatewayError } from '../pipeline/gateway-error.js';
import { buildUpstreamHeaders } from './headers.js';
import { pipeResponse, sendUpstream, UpstreamError } from './send.js';
import { UpstreamPools } from './upstream-pools.js';
import { http1 } from '../server/client-protocol.js';

/** A service with decK's defaults, pointing at 127.0.0.1. */
export function serviceFor(overrides: Partial<Service> & { port: number }): Service {
  return {
    id: `svc-${Math.random().toString(36).slice(2)}`,
    name: null,
    protocol: 'http',
    host: '127.0.0.1',
    path: null,
    retries: 0,
    connect_timeout: 2_000,
    read_timeout: 5_000,
    write_timeout: 5_000,
    enabled: true,
    tags: [],
    tls_verify: null,
    tls_verify_depth: null,
    ca_certificates: null,
    client_certificate: null,
    ...overrides,
  };
}

export function configWith(services: Service[], extra: Partial<Config> = {}): Config {
  return {
    _format_version: '3.0',
    services,
    routes: [],
    plugins: [],
    consumers: [],
    consumer_groups: [],
    ca_certificates: [],
    certificates: [],
    upstreams: [],
    targets: [],
    keyauth_credentials: [],
    basicauth_credentials: [],
    jwt_secrets: [],
    acls: [],
    ...extra,
  };
}

/** Starts listening on an ephemeral port of 127.0.0.1 and returns the port. */
export async function listen(server: Server | NetServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server, dropping kept-alive connections so the test does not linger. */
export async function close(server: Server | NetServer): Promise<void> {
  const closing = new Promise<void>((resolve) => server.close(() => resolve()));
  if ('closeAllConnections' in server) server.closeAllConnections();
  await closing;
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function refusedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/** Resolves when `predicate` holds, checking every few ms, or rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What the test gateway saw for its last request. */
export interface GatewayOutcome {
  error: GatewayError | null;
  attempts: number | null;
}

/**
 * A minimal gateway built only from this folder's functions, the way src/server uses them: headers,
 * sendUpstream with the client request as body, pipeResponse.
 */
export function createTestGateway(service: Service, pools: UpstreamPools): { server: Server; outcome: GatewayOutcome } {
  const outcome: GatewayOutcome = { error: null, attempts: null };
  const server = createServer((req, res) => {
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const run = async (): Promise<void> => {
      const headers = buildUpstreamHeaders({
        clientHeaders: req.headers,
        clientAddress: req.socket.remoteAddress ?? '',
        trustedPeer: false,
        scheme: 'http',
        host: 'gateway.test',
        port: 80,
        path: req.url ?? '/',
        strippedPrefix: null,
        upstreamHost: `${service.host}:${service.port}`,
        requestId: 'test-request',
        via: '1.1 portcullis',
      });
      const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
      const upstream = await sendUpstream({
        endpoints: pools.endpointsFor(service), defaultHost: null,
        service,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers,
        body: hasBody ? req : null,
        signal: abort.signal,
      });
      outcome.attempts = upstream.attempts;
      res.writeHead(upstream.status, upstream.headers);
      await pipeResponse(upstream, res, http1.forwardTrailers);
    };
    run().catch((error: unknown) => {
      outcome.error = error instanceof GatewayError ? error : null;
      if (error instanceof UpstreamError) outcome.attempts = error.attempts;
      if (res.headersSent || !(error instanceof GatewayError) || error.status === 499) {
        res.destroy();
        return;
      }
      res.writeHead(error.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: error.message, code: error.code }));
    });
  });
  return { server, outcome };
}

/** Upstream servers and pools for a test file, released after each of its tests (call at module scope). */
export function testResources(): {
  readonly upstream: (handler: (req: IncomingMessage, res: ServerResponse) => void) => Promise<{ server: Server; port: number }>;
  readonly poolsFor: (...services: Service[]) => UpstreamPools;
  readonly defer: (cleanup: () => Promise<void>) => void;
} {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    upstream: async (handler) => {
      const server = createServer(handler);
      const port = await listen(server);
      cleanups.push(() => close(server));
      return { server, port };
    },
    poolsFor: (...services) => {
      const pools = UpstreamPools.create(configWith(services), { trustedCaPems: [] });
      cleanups.push(() => pools.destroy());
      return pools;
    },
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
  };
}
