import type { Balancer, BalancerTarget } from './balancer.js';
import { ConsistentHashingBalancer } from './consistent-hashing.js';
import { LatencyBalancer } from './latency.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { RoundRobinBalancer } from './round-robin.js';

/** Kong's `upstreams.algorithm` values. */
export type BalancerAlgorithm = 'round-robin' | 'consistent-hashing' | 'least-connections' | 'latency';

export const BALANCER_ALGORITHMS: readonly BalancerAlgorithm[] = ['round-robin', 'consistent-hashing', 'least-connections', 'latency'];

export interface CreateBalancerOptions {
  /** The upstream's `slots`: the consistent-hashing ring's size (the others ignore it, as Kong's do). */
  readonly slots: number;
  /** Round-robin's first slot (random when absent). */
  readonly start?: number;
  /** The latency balancer's clock, in milliseconds (default `performance.now()`). */
  readonly now?: () => number;
}

/**
 * The balancer for an upstream's `algorithm`, over all its targets (those of weight 0 included: they
 * are never picked, but consistent hashing counts them as Kong does). Give the targets in Kong's order
 * (`created_at`, then id): least-connections breaks ties by it, and round-robin and latency use it.
 */
export function createBalancer(algorithm: BalancerAlgorithm, targets: readonly BalancerTarget[], options: CreateBalancerOptions): Balancer {
  switch (algorithm) {
    case 'round-robin':
      return new RoundRobinBalancer(targets, options.start === undefined ? {} : { start: options.start });
    case 'consistent-hashing':
      return new ConsistentHashingBalancer(targets, { slots: options.slots });
    case 'least-connections':
      return new LeastConnectionsBalancer(targets);
    case 'latency':
      return new LatencyBalancer(targets, options.now === undefined ? {} : { now: options.now });
    default:
      throw new RangeError(`unknown balancer algorithm ${String(algorithm)}`);
  }
}
