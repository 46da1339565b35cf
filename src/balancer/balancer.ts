/**
 * What every load-balancing algorithm over an upstream's targets offers, so that the proxy can use
 * Kong's four (`upstreams.algorithm`) through one interface: round-robin, consistent-hashing,
 * least-connections and latency (`kong/runloop/balancer/balancers.lua` calls each one's `getPeer`
 * and `afterBalance` in the same way).
 */

export interface BalancerTarget {
  readonly id: string;
  /** 0 to 65535, as Kong's `targets` schema bounds it; a target of weight 0 is never picked. */
  readonly weight: number;
  /**
   * The target's address as Kong writes it, `host:port` (`10.0.0.1:8000`, `[::1]:8000`): the
   * consistent-hashing ring hashes it to place the target's points, so the same keys, weights and
   * slots give the same ring as Kong's. Defaults to `id`. The other algorithms ignore it.
   */
  readonly key?: string;
}

export interface Balancer {
  /**
   * Target for one attempt: skips ids for which `usable(id)` is false (unhealthy, already tried);
   * `hash` is the request's value to hash (consistent-hashing only; null/undefined → Kong's fallback:
   * behave as Kong does when there is no hash value). Null when nothing is usable.
   */
  pick(usable?: (id: string) => boolean, hash?: string | null): BalancerTarget | null;
  /** A request was sent to `id` (least-connections counts it). */
  started(id: string): void;
  /** The request to `id` finished; `latencyMs` from sending to the response head, or null when it failed (latency uses it). */
  finished(id: string, latencyMs: number | null): void;
}

/** A target's weight, as Kong's `targets` schema bounds it (`kong/db/schema/entities/targets.lua`). */
export const MAX_WEIGHT = 65535;

/** Throws unless every weight is one Kong accepts and every id is given once; returns id → index. */
export function indexTargets(targets: readonly BalancerTarget[]): Map<string, number> {
  const index = new Map<string, number>();
  for (const [i, target] of targets.entries()) {
    if (!Number.isInteger(target.weight) || target.weight < 0 || target.weight > MAX_WEIGHT) {
      throw new RangeError(`target ${target.id}: weight must be an integer from 0 to ${MAX_WEIGHT}, not ${target.weight}`);
    }
    if (index.has(target.id)) throw new RangeError(`target ${target.id} is given twice`);
    index.set(target.id, i);
  }
  return index;
}
