import tls from 'node:tls';
import { Pool, buildConnector, type Dispatcher } from 'undici';
import type { Config, Service } from '../config/types.js';
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
 * connect timeout and TLS settings), built when the configuration loads. A new configuration takes
 * over the pools of identical targets from the previous one, so connections stay warm across
 * reloads; a pool taken over belongs to the new instance and is not closed by the old one.
 */
export class UpstreamPools {
  readonly #byService = new Map<string, Pool>();
  /** Pools this instance must close; a successor removes the ones it takes over. */
  readonly #owned = new Map<string, Pool>();
  readonly #config: Config;
  readonly #options: UpstreamPoolOptions;
  #closed = false;

  private constructor(config: Config, options: UpstreamPoolOptions) {
    this.#config = config;
    this.#options = options;
  }

  /** Builds the pools of `config`, reusing `previous`'s pools for targets that did not change. */
  static create(config: Config, options: UpstreamPoolOptions, previous?: UpstreamPools): UpstreamPools {
    validateOptions(options);
    const pools = new UpstreamPools(config, options);
    for (const service of config.services) pools.#add(service, previous);
    return pools;
  }

  /** The dispatcher for a service's upstream. */
  dispatcherFor(service: Service): Dispatcher {
    const pool = this.#byService.get(service.id) ?? this.#add(service, undefined);
    return pool;
  }

  /** Number of distinct pools this instance serves from (for tests and metrics). */
  get size(): number {
    return new Set(this.#byService.values()).size;
  }

  /** Closes the pools this instance still owns, letting requests in flight finish first. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#owned.values()];
    this.#owned.clear();
    await Promise.all(pools.filter((pool) => !pool.closed).map(async (pool) => pool.close()));
  }

  /** Ends every owned pool now, failing requests in flight (for shutdown deadlines). */
  async destroy(error?: Error): Promise<void> {
    this.#closed = true;
    const pools = [...this.#owned.values()];
    this.#owned.clear();
    await Promise.all(pools.filter((pool) => !pool.destroyed).map(async (pool) => pool.destroy(error ?? null)));
  }

  #add(service: Service, previous: UpstreamPools | undefined): Pool {
    // A service outside the configuration (none should reach here) still gets a pool rather than a
    // failure, but a closed instance must not open new connections that nobody would close.
    if (this.#closed) throw new Error('UpstreamPools is closed');
    const target = upstreamTargetOf(service, this.#config, this.#options);
    const pool = this.#owned.get(target.key) ?? (previous === undefined ? undefined : previous.#handOver(target.key)) ?? createPool(target, this.#options);
    this.#owned.set(target.key, pool);
    this.#byService.set(service.id, pool);
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

function createPool(target: UpstreamTarget, options: UpstreamPoolOptions): Pool {
  return new Pool(target.origin, {
    connections: options.connectionsPerUpstream ?? defaultConnectionsPerUpstream,
    pipelining: options.pipelining ?? defaultPipelining,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? defaultKeepAliveTimeoutMs,
    connect: connectorFor(target),
  });
}

/**
 * undici derives SNI from each request's Host header, and drops a pool's connections whenever that
 * changes; with `preserve_host` that would send the client's host as SNI and churn connections.
 * The connector pins SNI to the service host (none for an IP), and the secure context is built once
 * per target rather than per connection (parsing a CA bundle is not free).
 */
function connectorFor(target: UpstreamTarget): buildConnector.connector {
  const settings = target.tls;
  if (settings === null) return buildConnector({ timeout: target.connectTimeoutMs });
  const secureContext = tls.createSecureContext({
    ...(settings.ca === undefined ? {} : { ca: [...settings.ca] }),
    ...(settings.clientCert === undefined ? {} : { cert: settings.clientCert.cert, key: settings.clientCert.key }),
  });
  const depth = settings.verifyDepth;
  const connector = buildConnector({
    timeout: target.connectTimeoutMs,
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
