/**
 * State a node shares beyond one configuration and one process: the replay store, the gateway's
 * own MAC key, the health of upstream targets and the rate-limiting counters. Built once per process by whoever starts the gateway (one process, or a
 * worker talking to its primary) and handed to every plugin instance through its environment.
 */
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { UpstreamHealth } from '../balancer/health/upstream-health.js';
import { KongMetrics } from '../metrics/kong-metrics.js';
import { MemoryRateCounters, type RateCounters } from './rate-counters.js';
import { MemoryReplayCache, type ReplayCache } from './replay-cache.js';

export interface NodeServices {
  /** Single-use marks (DPoP proof `jti`s), shared by every worker of the node. */
  readonly replayCache: ReplayCache;
  /** The gateway's key for stateless DPoP nonces: the same on every worker and on nodes given the same key file. */
  readonly nonceKey: Uint8Array;
  /** The health of upstream targets, shared by the node's workers (through the primary). */
  readonly health: UpstreamHealth;
  /** Rate-limiting counters of the `local` policy, shared by every worker of the node. */
  readonly rateCounters: RateCounters;
  /**
   * Counters shared by every node of the cluster (the rate-limiting `cluster` policy), on the node's
   * `--redis-url`; null without one.
   */
  readonly clusterRateCounters: RateCounters | null;
  /** Kong's Prometheus series (the prometheus plugin), in the registry `/metrics` serves. */
  readonly kongMetrics: KongMetrics;
}

/** Services for a gateway in one process: an in-memory replay store, and `nonceKey` or a random key (Kong's metrics in a registry of their own: nobody scrapes it). */
export function localNodeServices(options: { nonceKey?: Uint8Array; replayCacheEntries?: number } = {}): NodeServices {
  const health = new UpstreamHealth();
  return { replayCache: new MemoryReplayCache(options.replayCacheEntries), nonceKey: options.nonceKey ?? randomBytes(32), health, rateCounters: new MemoryRateCounters(), clusterRateCounters: null, kongMetrics: new KongMetrics(new Registry(), () => health.states()) };
}
