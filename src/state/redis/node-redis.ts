/**
 * The shared state a node keeps on its `--redis-url`: the DPoP replay cache (every node sees each
 * `jti` once) and the counters of the rate-limiting `cluster` policy. Each process that serves the
 * proxy (the one process, or each worker) has its own client; Redis makes them one store.
 */
import type { Registry } from 'prom-client';
import { RedisMetrics } from '../../metrics/cluster-metrics.js';
import type { Logger } from '../../util/logger.js';
import { FallbackReplayCache } from '../fallback-replay-cache.js';
import type { RateCounters } from '../rate-counters.js';
import type { ReplayCache } from '../replay-cache.js';
import { RedisReplayCache } from './redis-replay-cache.js';
import type { RedisSettings } from './redis-settings.js';
import { SharedRedis } from './shared-redis.js';
import { incrementWindows } from './window-scripts.js';
import { defaultCaPems } from '../../util/default-trust.js';

export interface NodeRedis {
  readonly replayCache: ReplayCache;
  readonly clusterRateCounters: RateCounters;
  close(): void;
}

/**
 * The node's Redis-backed services; `localReplayCache` is the node's own cache, used when Redis
 * fails and the settings say `local`. `registry`: where the Redis series go (this process's metrics).
 */
export function nodeRedis(settings: RedisSettings, options: { readonly localReplayCache: ReplayCache; readonly logger: Logger; readonly registry: Registry; readonly trustedCaPems: readonly string[] }): NodeRedis {
  // The gauge reads the client's state when scraped, after the client exists.
  const metrics: RedisMetrics = new RedisMetrics(options.registry, (): boolean => redis.reachable);
  const redis: SharedRedis = new SharedRedis({
    settings,
    tlsOptions: { ca: [...defaultCaPems(), ...options.trustedCaPems] },
    logger: options.logger,
    purpose: 'shared state',
    observer: metrics,
  });
  const onRedis = new RedisReplayCache(redis);
  return {
    replayCache: settings.replayFallback === 'local' ? new FallbackReplayCache(onRedis, options.localReplayCache, options.logger) : onRedis,
    clusterRateCounters: { take: (windows) => incrementWindows(redis, windows) },
    close: () => redis.close(),
  };
}
