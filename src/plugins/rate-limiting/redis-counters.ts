/**
 * Rate-limiting counters in Redis (policy `redis`), on ioredis: Kong's keys and expiry, so Kong
 * and Portcullis nodes sharing a Redis count together. Every call has the hard deadline
 * `redis.timeout`, and a disconnected client fails at once (no offline queue), so `fault_tolerant`
 * decides within that deadline rather than after requests pile up.
 *
 * `sync_rate` -1: one EVAL per request increments every window atomically and returns the usage
 * before it (every request counted, refused ones too, as Kong). `sync_rate` > 0: a window is read
 * (and counted) from Redis the first time, then counted locally and the deltas flushed every
 * `sync_rate` seconds in one pipeline, after which the windows are read again.
 */
import type { PluginEnvironment } from '../../pipeline/plugin.js';
import type { RateCounters } from '../../state/rate-counters.js';
import { SharedRedis } from '../../state/redis/shared-redis.js';
import { addDeltas, incrementWindows } from '../../state/redis/window-scripts.js';
import { defaultCaPems } from '../../util/default-trust.js';
import { logThrottle } from '../../util/log-throttle.js';
import type { RateLimitingConfig, RedisConfig } from './schema.js';

/** How often a Redis that stays unavailable is logged again. */
const LOG_INTERVAL_MS = 10_000;

interface PooledClient {
  readonly redis: SharedRedis;
  users: number;
}

/** One client per Redis endpoint and credentials, shared by the instances that name it (Kong's keepalive pool). */
const clients = new Map<string, PooledClient>();

function createClient(redis: RedisConfig, env: PluginEnvironment): SharedRedis {
  const host = redis.host ?? '';
  return new SharedRedis({
    settings: {
      topology: { kind: 'standalone', endpoint: { host, port: redis.port }, db: redis.database },
      tls: redis.ssl,
      username: redis.username,
      password: redis.password,
      timeoutMs: redis.timeout,
      display: `${host}:${redis.port}`,
    },
    tlsOptions: { rejectUnauthorized: redis.ssl_verify, servername: redis.server_name ?? host, ca: [...defaultCaPems(), ...env.trustedCaPems] },
    logger: env.logger,
    purpose: 'rate-limiting',
  });
}

/** The shared client for `redis`, and how to give it back. */
function acquire(redis: RedisConfig, env: PluginEnvironment): { redis: SharedRedis; release: () => void } {
  const id = JSON.stringify([redis.host, redis.port, redis.database, redis.username, redis.password, redis.ssl, redis.ssl_verify, redis.server_name, redis.timeout]);
  let pooled = clients.get(id);
  if (pooled === undefined) {
    pooled = { redis: createClient(redis, env), users: 0 };
    clients.set(id, pooled);
  }
  pooled.users += 1;
  const held = pooled;
  let released = false;
  return {
    redis: held.redis,
    release: () => {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users > 0) return;
      clients.delete(id);
      held.redis.close();
    },
  };
}

interface LocalWindow {
  /** Usage read from Redis (which counted that request), plus the requests counted here since. */
  used: number;
  delta: number;
  readonly expireAtSeconds: number;
}

export type RedisRateCounters = RateCounters & { close(): Promise<void> };

/** The counters of one rate-limiting instance with policy `redis`. */
export function redisCounters(config: RateLimitingConfig, env: PluginEnvironment): RedisRateCounters {
  const { redis, release } = acquire(config.redis, env);
  const increment = (windows: Parameters<RateCounters['take']>[0]): Promise<readonly number[]> => incrementWindows(redis, windows);

  if (config.sync_rate === -1) {
    return {
      take: increment,
      close: () => {
        release();
        return Promise.resolve();
      },
    };
  }

  // sync_rate: the windows this instance counts locally until the next flush.
  let local = new Map<string, LocalWindow>();
  const syncLogDue = logThrottle(LOG_INTERVAL_MS);
  const flush = async (): Promise<void> => {
    const pending = local;
    local = new Map();
    const deltas = [...pending].filter(([, w]) => w.delta !== 0);
    if (deltas.length === 0) return;
    try {
      await addDeltas(redis, deltas.map(([key, w]) => ({ key, delta: w.delta, expireAtSeconds: w.expireAtSeconds })));
    } catch (error) {
      // Lost, as Kong loses them: the counts were only ever an approximation with sync_rate. A sync
      // every 20 ms to a Redis that is down must not write 50 lines a second.
      if (syncLogDue()) env.logger.warn({ err: error instanceof Error ? error.message : String(error), windows: deltas.length }, 'rate-limiting: could not sync counters to Redis');
    }
  };
  const timer = setInterval(() => void flush(), config.sync_rate * 1000);
  timer.unref();

  return {
    async take(windows) {
      const nowSeconds = Date.now() / 1000;
      const known = windows.map((w) => {
        const entry = local.get(w.key);
        return entry !== undefined && entry.expireAtSeconds > nowSeconds ? entry : undefined;
      });
      const unknown = windows.filter((_w, i) => known[i] === undefined);
      // Read (and count) what is not known here yet in one round trip.
      const read = unknown.length === 0 ? [] : await increment(unknown);
      let next = 0;
      return windows.map((w, i) => {
        const entry = known[i];
        if (entry !== undefined) {
          const used = entry.used + entry.delta;
          entry.delta += 1;
          return used;
        }
        const used = read[next++] ?? 0;
        local.set(w.key, { used: used + 1, delta: 0, expireAtSeconds: Math.ceil(w.endsAtMs / 1000) });
        return used;
      });
    },
    async close() {
      clearInterval(timer);
      await flush();
      release();
    },
  };
}
