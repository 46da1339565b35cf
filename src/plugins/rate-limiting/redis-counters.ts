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
import { Redis, type RedisOptions, type Result } from 'ioredis';
import type { PluginEnvironment } from '../../pipeline/plugin.js';
import type { CounterWindow, RateCounters } from '../../state/rate-counters.js';
import { defaultCaPems } from '../../util/default-trust.js';
import { logThrottle } from '../../util/log-throttle.js';
import type { RateLimitingConfig, RedisConfig } from './schema.js';

/** INCR every key, setting its TTL when it is new; returns each key's value before (Kong's script, for all windows at once). */
const INCREMENT_SCRIPT = `
local used = {}
for i, key in ipairs(KEYS) do
  local value = redis.call("incr", key)
  if value == 1 then redis.call("expire", key, ARGV[i]) end
  used[i] = value - 1
end
return used`;

/** Adds a delta to a key, giving a new key its window's end as expiry (Kong's sync script). */
const ADD_SCRIPT = `
local exists = redis.call("exists", KEYS[1])
redis.call("incrby", KEYS[1], ARGV[1])
if exists == 0 then redis.call("expireat", KEYS[1], ARGV[2]) end
return 0`;

/** How often a Redis that stays unavailable is logged again. */
const LOG_INTERVAL_MS = 10_000;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    portcullisRateIncrement(numKeys: number, ...keysThenTtls: Array<string | number>): Result<number[], Context>;
    portcullisRateAdd(key: string, delta: number, expireAt: number): Result<number, Context>;
  }
}

interface SharedClient {
  readonly client: Redis;
  /** Settles when the client first connects (the first requests wait for it, up to the deadline). */
  readonly ready: Promise<void>;
  /** It connected once: from then on a disconnected client fails at once rather than waiting. */
  everReady: boolean;
  users: number;
}

/** One client per Redis endpoint and credentials, shared by the instances that name it (Kong's keepalive pool). */
const clients = new Map<string, SharedClient>();

function clientOptions(redis: RedisConfig, env: PluginEnvironment): RedisOptions {
  return {
    host: redis.host ?? undefined,
    port: redis.port,
    username: redis.username ?? undefined,
    password: redis.password ?? undefined,
    db: redis.database,
    connectTimeout: redis.timeout,
    commandTimeout: redis.timeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect soon, and keep trying: the counters come back by themselves with Redis.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    tls: redis.ssl
      ? { rejectUnauthorized: redis.ssl_verify, servername: redis.server_name ?? redis.host ?? undefined, ca: [...defaultCaPems(), ...env.trustedCaPems] }
      : undefined,
  };
}

function createClient(redis: RedisConfig, env: PluginEnvironment): SharedClient {
  const client = new Redis(clientOptions(redis, env));
  client.defineCommand('portcullisRateIncrement', { lua: INCREMENT_SCRIPT });
  client.defineCommand('portcullisRateAdd', { numberOfKeys: 1, lua: ADD_SCRIPT });
  const logDue = logThrottle(LOG_INTERVAL_MS);
  client.on('error', (error: Error) => {
    // ioredis reports every failed reconnect; once in a while is enough (no password is in these messages).
    if (!logDue()) return;
    env.logger.warn({ redis: `${redis.host ?? ''}:${redis.port}`, err: error.message }, 'rate-limiting: Redis unavailable');
  });
  const shared: SharedClient = { client, ready: new Promise<void>((resolve) => client.once('ready', () => resolve())), everReady: false, users: 0 };
  void shared.ready.then(() => (shared.everReady = true));
  return shared;
}

/** The shared client for `redis`, and how to give it back. */
function acquire(redis: RedisConfig, env: PluginEnvironment): { shared: SharedClient; release: () => void } {
  const id = JSON.stringify([redis.host, redis.port, redis.database, redis.username, redis.password, redis.ssl, redis.ssl_verify, redis.server_name, redis.timeout]);
  let shared = clients.get(id);
  if (shared === undefined) {
    shared = createClient(redis, env);
    clients.set(id, shared);
  }
  shared.users += 1;
  const held = shared;
  let released = false;
  return {
    shared: held,
    release: () => {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users > 0) return;
      clients.delete(id);
      held.client.disconnect();
    },
  };
}

function deadline(ms: number): Promise<never> {
  return new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`Redis did not connect within ${ms} ms`)), ms).unref());
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
  const { shared, release } = acquire(config.redis, env);
  const timeout = config.redis.timeout;

  const increment = async (windows: readonly CounterWindow[]): Promise<readonly number[]> => {
    if (!shared.everReady) await Promise.race([shared.ready, deadline(timeout)]);
    return shared.client.portcullisRateIncrement(windows.length, ...windows.map((w) => w.key), ...windows.map((w) => w.ttlSeconds));
  };

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
    const pipeline = shared.client.pipeline();
    for (const [key, w] of deltas) pipeline.portcullisRateAdd(key, w.delta, w.expireAtSeconds);
    try {
      // exec() resolves with each command's error or result; the first error says why.
      const failed = (await pipeline.exec())?.find(([error]) => error !== null)?.[0];
      if (failed !== undefined && failed !== null) throw failed;
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
