/**
 * One ioredis client (a server, a Sentinel-watched master or a Redis Cluster) with what every use
 * of it needs: a hard deadline on each call, failing at once while disconnected (no offline queue:
 * requests must not pile up behind a Redis that is gone), reconnecting by itself, and the facts
 * `/metrics` shows (reachable, call latency).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../../util/logger.js';
import { logThrottle } from '../../util/log-throttle.js';
import type { RedisEndpoint, RedisSettings } from './redis-settings.js';

export type RedisClient = Redis | Cluster;

/** What a client reports of its calls (the node's metrics). */
export interface RedisCallObserver {
  call(seconds: number, ok: boolean): void;
}

/** Where and how to connect: the node's `--redis-url` settings, or a plugin's `redis` record mapped onto them. */
export interface SharedRedisOptions {
  readonly settings: Pick<RedisSettings, 'topology' | 'tls' | 'username' | 'password' | 'timeoutMs' | 'display'>;
  /** TLS options beyond the defaults (CAs, servername, verification). */
  readonly tlsOptions?: ConnectionOptions;
  readonly logger: Logger;
  /** Logged with each (throttled) failure: who uses this Redis. */
  readonly purpose: string;
  readonly observer?: RedisCallObserver;
}

const LOG_INTERVAL_MS = 10_000;

function commonOptions(options: SharedRedisOptions): RedisOptions {
  const s = options.settings;
  return {
    username: s.username ?? undefined,
    password: s.password ?? undefined,
    connectTimeout: s.timeoutMs,
    commandTimeout: s.timeoutMs,
    maxRetriesPerRequest: 0,
    // Calls made in one turn of the event loop (the requests a burst of reads brought) go out in
    // one write: a call per proxied request would otherwise be a syscall per request (measured on
    // loopback with 64 claims in flight: 7.8–8.8 µs of client CPU per SET NX without, 6.3–7.1 with).
    enableAutoPipelining: true,
    tls: s.tls ? (options.tlsOptions ?? {}) : undefined,
  };
}

// Reconnect soon, and keep trying: what lives in Redis comes back by itself with it.
const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 1000);

function createClient(options: SharedRedisOptions): RedisClient {
  const t = options.settings.topology;
  const common = commonOptions(options);
  switch (t.kind) {
    case 'standalone':
      return new Redis({ ...common, host: t.endpoint.host, port: t.endpoint.port, db: t.db, enableOfflineQueue: false, retryStrategy });
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: t.sentinels.map((e: RedisEndpoint) => ({ host: e.host, port: e.port })),
        name: t.master,
        db: t.db,
        sentinelPassword: t.sentinelPassword ?? undefined,
        sentinelTLS: options.settings.tls ? (options.tlsOptions ?? {}) : undefined,
        enableTLSForSentinelMode: options.settings.tls,
        enableOfflineQueue: false,
        retryStrategy,
        sentinelRetryStrategy: retryStrategy,
      });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        redisOptions: { ...common, enableAutoPipelining: false },
        enableOfflineQueue: false,
        // Not on a Redis Cluster: ioredis refuses an automatic pipeline whose keys span slots
        // ("All keys in the pipeline should belong to the same slots allocation group").
        enableAutoPipelining: false,
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: options.settings.timeoutMs,
      };
      return new Cluster(t.seeds.map((e) => ({ host: e.host, port: e.port })), clusterOptions);
    }
  }
}

export class SharedRedis {
  readonly client: RedisClient;
  readonly display: string;
  readonly #timeoutMs: number;
  readonly #observer: RedisCallObserver | undefined;
  readonly #ready: Promise<void>;
  #everReady = false;
  #reachable = false;

  constructor(options: SharedRedisOptions) {
    this.display = options.settings.display;
    this.#timeoutMs = options.settings.timeoutMs;
    this.#observer = options.observer;
    this.client = createClient(options);
    const logDue = logThrottle(LOG_INTERVAL_MS);
    this.client.on('error', (error: Error) => {
      this.#reachable = false;
      // ioredis reports every failed reconnect; once in a while is enough (no password is in these messages).
      if (logDue()) options.logger.warn({ redis: this.display, err: error.message }, `${options.purpose}: Redis unavailable`);
    });
    this.client.on('close', () => (this.#reachable = false));
    this.client.on('ready', () => (this.#reachable = true));
    this.#ready = new Promise<void>((resolve) => this.client.once('ready', () => resolve()));
    void this.#ready.then(() => (this.#everReady = true));
  }

  /** Whether the last thing heard from Redis was good (connected, and the last call answered). */
  get reachable(): boolean {
    return this.#reachable;
  }

  /**
   * Runs `call` within the deadline. Before the first connection the call waits for it (up to the
   * deadline); after that a disconnected client fails at once.
   */
  async run<T>(call: (client: RedisClient) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      if (!this.#everReady) await Promise.race([this.#ready, deadline(this.#timeoutMs)]);
      const result = await call(this.client);
      this.#reachable = true;
      this.#observer?.call((performance.now() - started) / 1000, true);
      return result;
    } catch (error) {
      this.#reachable = false;
      this.#observer?.call((performance.now() - started) / 1000, false);
      throw error;
    }
  }

  close(): void {
    this.client.disconnect();
  }
}

function deadline(ms: number): Promise<never> {
  return new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`Redis did not connect within ${ms} ms`)), ms).unref());
}
