/** A node's Redis services on a test's Redis, as `portcullis start --redis-url URL` makes them, logging nothing. */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { nodeRedis, type NodeRedis } from '../../src/state/redis/node-redis.js';
import { redisSettings } from '../../src/state/redis/redis-settings.js';
import { MemoryReplayCache } from '../../src/state/replay-cache.js';

const silent = pino({ level: 'silent' });

export interface NodeRedisOptions {
  readonly fallback?: 'closed' | 'local';
  readonly timeoutMs?: number;
  /** Where the Redis series go (to read them); a registry of its own by default. */
  readonly registry?: Registry;
  /** The node's own cache (the `local` fallback). */
  readonly local?: MemoryReplayCache;
}

export function nodeRedisOn(url: string, options: NodeRedisOptions = {}): NodeRedis {
  const settings = redisSettings({ 'redis-url': url, 'redis-timeout': String(options.timeoutMs ?? 500), 'replay-cache-fallback': options.fallback ?? 'closed' });
  if (settings === null) throw new Error('no Redis URL');
  return nodeRedis(settings, { localReplayCache: options.local ?? new MemoryReplayCache(), logger: silent, registry: options.registry ?? new Registry(), trustedCaPems: [] });
}
