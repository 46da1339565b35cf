/**
 * Where each attempt of a request to a service goes. A plain service has one endpoint (its own
 * host and port); a service whose host names an upstream is balanced over that upstream's targets,
 * and a retry goes to a target this request has not tried yet where one exists (Kong's balancer
 * retries move along the ring the same way).
 */
import type { Dispatcher } from 'undici';
import type { Balancer } from '../balancer/index.js';
import { meetsThreshold, type TargetHandle } from '../balancer/health/upstream-health.js';

export interface UpstreamEndpoint {
  readonly dispatcher: Dispatcher;
  /** Passed to undici as `servername`: constant per pool, so undici never reconnects over it (see send.ts). */
  readonly servername: string;
  /** The Host header for this endpoint when the route does not preserve the client's. */
  readonly hostHeader: string;
  /** The target's id for a balanced service, null for a plain one. */
  readonly target: string | null;
  /** The target's health (picks skip it while unhealthy; traffic outcomes go to it), null for a plain service. */
  readonly health: TargetHandle | null;
}

export interface ServiceEndpoints {
  /**
   * The endpoint of the next attempt, given the targets this request already tried (null on the
   * first attempt: nothing is allocated for a request that is not retried). Null when no target
   * can take the request: the upstream has none with weight above 0 (Kong: 503).
   */
  next(tried: readonly string[] | null, hash: string | null): UpstreamEndpoint | null;
  /** A request went to `endpoint` (least-connections counts it). */
  started(endpoint: UpstreamEndpoint): void;
  /** It finished: `latencyMs` to the response head, null when the attempt failed (latency weighs it). */
  finished(endpoint: UpstreamEndpoint, latencyMs: number | null): void;
}

export class SingleEndpoint implements ServiceEndpoints {
  readonly #endpoint: UpstreamEndpoint;

  constructor(endpoint: UpstreamEndpoint) {
    this.#endpoint = endpoint;
  }

  next(): UpstreamEndpoint {
    return this.#endpoint;
  }

  started(): void {}

  finished(): void {}
}

export class BalancedEndpoints implements ServiceEndpoints {
  readonly #balancer: Balancer;
  readonly #endpoints: ReadonlyMap<string, UpstreamEndpoint>;
  /** Kong's `healthchecks.threshold`: percent of the weight that must be healthy, or nothing is picked. */
  readonly #threshold: number;
  /** Each target's endpoint with its weight (weight 0 ones have none: they take no traffic). */
  readonly #weights: ReadonlyArray<readonly [UpstreamEndpoint, number]>;
  readonly #totalWeight: number;
  /** Made once: the hot path allocates no closure. */
  readonly #healthy = (id: string): boolean => this.#endpoints.get(id)?.health?.healthy !== false;

  constructor(balancer: Balancer, weighted: ReadonlyArray<readonly [UpstreamEndpoint, number]>, threshold = 0) {
    this.#balancer = balancer;
    this.#endpoints = new Map(weighted.map(([endpoint]) => [endpoint.target ?? '', endpoint]));
    this.#threshold = threshold;
    this.#weights = weighted;
    this.#totalWeight = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  }

  next(tried: readonly string[] | null, hash: string | null): UpstreamEndpoint | null {
    if (this.#threshold > 0 && !meetsThreshold(this.#healthyWeight(), this.#totalWeight, this.#threshold)) return null;
    // A retry prefers a healthy target not tried yet; when every one was, a healthy one again.
    const healthy = this.#healthy;
    const picked = (tried === null ? null : this.#balancer.pick((id) => !tried.includes(id) && healthy(id), hash)) ?? this.#balancer.pick(healthy, hash);
    return picked === null ? null : (this.#endpoints.get(picked.id) ?? null);
  }

  started(endpoint: UpstreamEndpoint): void {
    if (endpoint.target !== null) this.#balancer.started(endpoint.target);
  }

  finished(endpoint: UpstreamEndpoint, latencyMs: number | null): void {
    if (endpoint.target !== null) this.#balancer.finished(endpoint.target, latencyMs);
  }

  #healthyWeight(): number {
    let healthy = 0;
    for (const [endpoint, weight] of this.#weights) if (endpoint.health?.healthy !== false) healthy += weight;
    return healthy;
  }
}
