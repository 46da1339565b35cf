import type { Socket } from 'node:net';
import tls from 'node:tls';
import { Pool, buildConnector, type Dispatcher } from 'undici';
import { createBalancer, LatencyBalancer } from '../balancer/index.js';
import type { UpstreamHealth } from '../balancer/health/upstream-health.js';
import { parseTargetAddress } from '../config/target-address.js';
import type { Config, Service, Upstream } from '../config/types.js';
import { targetHostHeader } from '../balancer/host-header.js';
import { BalancedEndpoints, SingleEndpoint, type ServiceEndpoints, type UpstreamEndpoint } from './service-endpoints.js';
import {
  checkVerifyDepth,
  defaultConnectionsPerUpstream,
  defaultKeepAliveTimeoutMs,
  defaultPipelining,
  upstreamTargetOf,
  type UpstreamPoolOptions,
  type UpstreamTarget,
} from './upstream-target.js';

export type { UpstreamPoolOptions } from './upstream-target.js';

/**
 * The upstream connection pools of one configuration: one undici Pool per distinct target (origin,
 * connect timeout and TLS settings), built when the configuration loads. A service whose host names
 * an upstream gets a pool per target of that upstream, balanced (`service-endpoints.ts`). A new
 * configuration takes over the pools of identical targets from the previous one, so connections
 * stay warm across reloads; a pool taken over belongs to the new instance and is not closed by the
 * old one.
 */
export class UpstreamPools {
  readonly #byService = new Map<string, ServiceEndpoints>();
  /** Pools this instance must close; a successor removes the ones it takes over. */
  readonly #owned = new Map<string, Pool>();
  readonly #config: Config;
  readonly #options: UpstreamPoolOptions;
  readonly #upstreams: ReadonlyMap<string, Upstream>;
  readonly #health: UpstreamHealth | null;
  /** Health subscriptions of this configuration's balancers, ended with it. */
  readonly #unsubscribe: Array<() => void> = [];
  #closed = false;

  private constructor(config: Config, options: UpstreamPoolOptions, health: UpstreamHealth | null) {
    this.#config = config;
    this.#options = options;
    this.#health = health;
    // Host names are case-insensitive; a service's host names the upstream whatever the case.
    this.#upstreams = new Map(config.upstreams.map((u) => [u.name.toLowerCase(), u]));
  }

  /** Builds the pools of `config`, reusing `previous`'s pools for targets that did not change. */
  static create(config: Config, options: UpstreamPoolOptions, previous?: UpstreamPools, health: UpstreamHealth | null = null): UpstreamPools {
    validateOptions(options);
    const pools = new UpstreamPools(config, options, health);
    for (const service of config.services) pools.#add(service, previous);
    return pools;
  }

  /** Where a service's requests go: its own host, or the targets of the upstream its host names. */
  endpointsFor(service: Service): ServiceEndpoints {
    return this.#byService.get(service.id) ?? this.#add(service, undefined);
  }

  /** The dispatcher of a service that is not balanced (tests, and callers that need one connection pool). */
  dispatcherFor(service: Service): Dispatcher {
    const endpoint = this.endpointsFor(service).next(null, null);
    if (endpoint === null || endpoint.target !== null) throw new Error(`service ${service.id} is balanced over an upstream: use endpointsFor`);
    return endpoint.dispatcher;
  }

  /** The upstream a service's host names, or null. */
  upstreamOf(service: Service): Upstream | null {
    return this.#upstreams.get(service.host.toLowerCase()) ?? null;
  }

  /** Number of distinct pools this instance serves from (for tests and metrics). */
  get size(): number {
    return this.#owned.size;
  }

  /** Closes the pools this instance still owns, letting requests in flight finish first. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const stop of this.#unsubscribe.splice(0)) stop();
    const pools = [...this.#owned.values()];
    this.#owned.clear();
    await Promise.all(pools.filter((pool) => !pool.closed).map(async (pool) => pool.close()));
  }

  /** Ends every owned pool now, failing requests in flight (for shutdown deadlines). */
  async destroy(error?: Error): Promise<void> {
    this.#closed = true;
    for (const stop of this.#unsubscribe.splice(0)) stop();
    const pools = [...this.#owned.values()];
    this.#owned.clear();
    await Promise.all(pools.filter((pool) => !pool.destroyed).map(async (pool) => pool.destroy(error ?? null)));
  }

  #add(service: Service, previous: UpstreamPools | undefined): ServiceEndpoints {
    // A service outside the configuration (none should reach here) still gets a pool rather than a
    // failure, but a closed instance must not open new connections that nobody would close.
    if (this.#closed) throw new Error('UpstreamPools is closed');
    const upstream = this.upstreamOf(service);
    const endpoints =
      upstream === null
        ? new SingleEndpoint({ dispatcher: this.#pool(upstreamTargetOf(service, this.#config, this.#options), previous), servername: service.host, hostHeader: targetHostHeader(null, service.host, service.port, service.protocol), target: null, health: null })
        : this.#balanced(service, upstream, previous);
    this.#byService.set(service.id, endpoints);
    return endpoints;
  }

  #balanced(service: Service, upstream: Upstream, previous: UpstreamPools | undefined): ServiceEndpoints {
    // Every target in file order (Kong's created_at order): consistent hashing counts weight-0 ones too.
    const all = this.#config.targets.filter((t) => t.upstream === upstream.id);
    const targets = all.filter((t) => t.weight > 0);
    const weighted = targets.map((target): readonly [UpstreamEndpoint, number] => {
      const address = parseTargetAddress(target.target);
      if (address === null || address.port === null) throw new Error(`target ${target.id} has no host:port form: ${target.target}`);
      const hostHeader = targetHostHeader(upstream.host_header, address.host, address.port, service.protocol);
      // The SNI is the Host header's name (Kong: proxy_ssl_name $upstream_host), never an IP.
      const named = upstream.host_header === null ? address : parseTargetAddress(upstream.host_header);
      const servername = named !== null && named.kind === 'name' ? named.host : undefined;
      const pool = this.#pool(upstreamTargetOf(service, this.#config, this.#options, { host: address.host, port: address.port, servername, clientCertificate: upstream.client_certificate }), previous);
      return [{ dispatcher: pool, servername: address.host, hostHeader, target: target.id, health: this.#health?.handle(upstream, target.target) ?? null }, target.weight];
    });
    const balancer = createBalancer(upstream.algorithm, all.map((t) => ({ id: t.id, weight: t.weight, key: t.target })), { slots: upstream.slots });
    if (balancer instanceof LatencyBalancer) this.#followHealth(balancer, upstream, weighted.map(([endpoint]) => endpoint));
    return new BalancedEndpoints(balancer, weighted, upstream.healthchecks.threshold);
  }

  /**
   * Kong's latency balancer reacts to health changes (`setAddressStatus`): a target going down loses
   * its average, one coming back starts at the others' mean rather than at 0, so it is not flooded.
   */
  #followHealth(balancer: LatencyBalancer, upstream: Upstream, endpoints: readonly UpstreamEndpoint[]): void {
    const byHandle = new Map(endpoints.flatMap((e) => (e.health === null || e.target === null ? [] : [[e.health, e.target] as const])));
    for (const [handle, id] of byHandle) if (!handle.healthy) balancer.setAvailable(id, false);
    const stop = this.#health?.onChange((change) => {
      if (change.upstream !== upstream.name) return;
      const handle = this.#health?.find(change.upstream, change.target);
      const id = handle === undefined ? undefined : byHandle.get(handle);
      if (id !== undefined) balancer.setAvailable(id, change.healthy);
    });
    if (stop !== undefined) this.#unsubscribe.push(stop);
  }

  #pool(target: UpstreamTarget, previous: UpstreamPools | undefined): Pool {
    const pool = this.#owned.get(target.key) ?? (previous === undefined ? undefined : previous.#handOver(target.key)) ?? createPool(target, this.#options);
    this.#owned.set(target.key, pool);
    return pool;
  }

  /** Gives an open pool to a successor; this instance keeps using it but will no longer close it. */
  #handOver(key: string): Pool | undefined {
    const pool = this.#owned.get(key);
    if (pool === undefined || pool.closed || pool.destroyed) return undefined;
    this.#owned.delete(key);
    return pool;
  }
}

/** How each pool connects, for connections that leave the pool's HTTP (a WebSocket tunnel). */
const connectionOpeners = new WeakMap<Dispatcher, () => Promise<Socket>>();

function createPool(target: UpstreamTarget, options: UpstreamPoolOptions): Pool {
  const connector = connectorFor(target);
  const pool = new Pool(target.origin, {
    allowH2: target.http2 !== null,
    connections: options.connectionsPerUpstream ?? defaultConnectionsPerUpstream,
    pipelining: options.pipelining ?? defaultPipelining,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? defaultKeepAliveTimeoutMs,
    connect: connector,
  });
  const origin = new URL(target.origin);
  const connectOptions: buildConnector.Options = { hostname: origin.hostname, host: origin.host, protocol: origin.protocol, port: origin.port };
  connectionOpeners.set(pool, () => new Promise((resolve, reject) => connector(connectOptions, (error, socket) => (error === null ? resolve(socket) : reject(error)))));
  return pool;
}

/**
 * A new connection to an endpoint, made as its pool makes them (connect timeout, TLS settings, SNI,
 * client certificate), but owned by the caller: a WebSocket tunnel takes it out of HTTP for good.
 */
export function openUpstreamConnection(endpoint: UpstreamEndpoint): Promise<Socket> {
  const open = connectionOpeners.get(endpoint.dispatcher);
  if (open === undefined) return Promise.reject(new Error('this endpoint has no connection opener (not made by UpstreamPools)'));
  return open();
}

/**
 * undici derives SNI from each request's Host header, and drops a pool's connections whenever that
 * changes; with `preserve_host` that would send the client's host as SNI and churn connections.
 * The connector pins SNI to the service host (none for an IP), and the secure context is built once
 * per target rather than per connection (parsing a CA bundle is not free).
 */
function connectorFor(target: UpstreamTarget): buildConnector.connector {
  const settings = target.tls;
  // ALPN offers h2 only for gRPC services (undici's connector would offer it to every https upstream).
  const protocols = { allowH2: target.http2 !== null, preferH2: true, useH2c: target.http2 === 'h2c' };
  if (settings === null) return buildConnector({ timeout: target.connectTimeoutMs, ...protocols });
  const secureContext = tls.createSecureContext({
    ...(settings.ca === undefined ? {} : { ca: [...settings.ca] }),
    ...(settings.clientCert === undefined ? {} : { cert: settings.clientCert.cert, key: settings.clientCert.key }),
  });
  const depth = settings.verifyDepth;
  const connector = buildConnector({
    timeout: target.connectTimeoutMs,
    ...protocols,
    secureContext,
    rejectUnauthorized: settings.rejectUnauthorized,
    ...(depth === null || !settings.rejectUnauthorized
      ? {}
      : {
          checkServerIdentity: (hostname: string, cert: tls.PeerCertificate) =>
            tls.checkServerIdentity(hostname, cert) ?? checkVerifyDepth(cert, depth),
        }),
  });
  return (opts, callback) => {
    connector({ ...opts, servername: settings.servername }, callback);
  };
}

function validateOptions(options: UpstreamPoolOptions): void {
  const positive = (name: string, value: number | undefined): void => {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new TypeError(`UpstreamPools option ${name} must be a positive integer`);
    }
  };
  positive('connectionsPerUpstream', options.connectionsPerUpstream);
  positive('keepAliveTimeoutMs', options.keepAliveTimeoutMs);
  positive('pipelining', options.pipelining);
  if (!Array.isArray(options.trustedCaPems)) throw new TypeError('UpstreamPools option trustedCaPems must be an array');
}
