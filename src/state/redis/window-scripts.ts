/**
 * Kong's rate-limiting scripts on a Redis client: increment a request's windows (setting a new
 * key's TTL), and add a locally counted delta (sync_rate). Shared by the plugin's `redis` policy
 * (its own `redis` record) and the `cluster` policy (the node's `--redis-url`).
 */
import type { Result } from 'ioredis';
import type { CounterWindow } from '../rate-counters.js';
import type { RedisClient, SharedRedis } from './shared-redis.js';

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

declare module 'ioredis' {
  interface RedisCommander<Context> {
    portcullisRateIncrement(numKeys: number, ...keysThenTtls: Array<string | number>): Result<number[], Context>;
    portcullisRateAdd(key: string, delta: number, expireAt: number): Result<number, Context>;
  }
}

const defined = new WeakSet<RedisClient>();

/** The client with the scripts defined (EVALSHA, loading the script when Redis does not know it). */
export function withWindowScripts(client: RedisClient): RedisClient {
  if (defined.has(client)) return client;
  client.defineCommand('portcullisRateIncrement', { lua: INCREMENT_SCRIPT });
  client.defineCommand('portcullisRateAdd', { numberOfKeys: 1, lua: ADD_SCRIPT });
  defined.add(client);
  return client;
}

/**
 * Counts a request in each window and returns each window's usage before it. On one server all
 * windows move in one atomic script; a Redis Cluster keeps keys of different windows in different
 * slots, where one script cannot reach them all, so each window is its own atomic call there.
 */
export async function incrementWindows(redis: SharedRedis, windows: readonly CounterWindow[]): Promise<number[]> {
  return redis.run(async (client) => {
    const scripted = withWindowScripts(client);
    if (scripted.isCluster) {
      const each = await Promise.all(windows.map((w) => scripted.portcullisRateIncrement(1, w.key, w.ttlSeconds)));
      return each.map((used) => used[0] ?? 0);
    }
    return scripted.portcullisRateIncrement(windows.length, ...windows.map((w) => w.key), ...windows.map((w) => w.ttlSeconds));
  });
}

/** A window's requests counted locally since the last sync (sync_rate), to add in Redis. */
export interface WindowDelta {
  readonly key: string;
  readonly delta: number;
  readonly expireAtSeconds: number;
}

/** Adds each delta in one pipeline (one round trip; per node in a Redis Cluster); throws the first failure. */
export async function addDeltas(redis: SharedRedis, deltas: readonly WindowDelta[]): Promise<void> {
  await redis.run(async (client) => {
    const pipeline = withWindowScripts(client).pipeline();
    for (const d of deltas) pipeline.portcullisRateAdd(d.key, d.delta, d.expireAtSeconds);
    // exec() resolves with each command's error or result; the first error says why.
    const failed = (await pipeline.exec())?.find(([error]) => error !== null)?.[0];
    if (failed !== undefined && failed !== null) throw failed;
  });
}
