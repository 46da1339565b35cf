/**
 * The health of an upstream's targets, as Kong 3.x (`kong/api/routes/upstreams.lua`,
 * `kong/db/dao/targets.lua` `page_for_upstream_with_health`, `balancer/healthcheckers.lua`):
 *
 *   GET  /upstreams/{u}/health                         200 { data: [target + health + data], next, node_id }
 *   GET  /upstreams/{u}/health?balancer_health=1       200 { data: { health, balancer_health, id, details }, next, node_id }
 *   POST /upstreams/{u}/targets/{target or id}[/{address}]/healthy|unhealthy   204 (forces the state, Kong's post_health;
 *        a target is one address here, so `{address}` must be the target's own `ip:port`)
 *
 * `health` is HEALTHY, UNHEALTHY or HEALTHCHECKS_OFF (checks off, or a weight of 0). `data.last`
 * is Portcullis's addition: the last probe or observation of the target, so a target that stays
 * down can be explained.
 */
import type { UpstreamHealth } from '../balancer/health/upstream-health.js';
import { healthchecksOn, meetsThreshold, stateOf } from '../balancer/health/upstream-health.js';
import type { Config, Target, Upstream } from '../config/types.js';
import { formatTargetAddress, parseTargetAddress } from '../config/target-address.js';
import { AdminError } from './admin-error.js';
import { findEntity, KINDS } from './entity-kinds.js';
import type { Answer } from './entity-routes.js';
import { methodNotAllowed } from './entity-routes.js';
import { paginate } from './pagination.js';
import { findTarget, present } from './target-routes.js';

function notFound(): AdminError {
  return new AdminError('not found', 'Not found');
}

export class UpstreamHealthRoutes {
  readonly #health: UpstreamHealth;
  readonly #current: () => Config;
  readonly #nodeId: string;

  constructor(health: UpstreamHealth, current: () => Config, nodeId: string) {
    this.#health = health;
    this.#current = current;
    this.#nodeId = nodeId;
  }

  /** `/upstreams/{u}/health`. */
  health(method: string, upstreamKey: string, query: URLSearchParams, path: string): Answer {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed();
    const config = this.#current();
    const upstream = this.#upstream(config, upstreamKey);
    const targets = config.targets.filter((t) => t.upstream === upstream.id);
    if (query.get('balancer_health') === '1') {
      return { status: 200, body: { data: this.#balancer(upstream, targets), next: null, node_id: this.#nodeId } };
    }
    const page = paginate(targets, query, path);
    return { status: 200, body: { ...page, data: page.data.map((t) => this.#withHealth(upstream, t)), node_id: this.#nodeId } };
  }

  /** `POST /upstreams/{u}/targets/{t}/healthy|unhealthy`. */
  set(method: string, upstreamKey: string, targetKey: string, verdict: 'healthy' | 'unhealthy', address: string | null): Answer {
    if (method !== 'POST') throw methodNotAllowed();
    const config = this.#current();
    const upstream = this.#upstream(config, upstreamKey);
    const target = findTarget(config.targets.filter((t) => t.upstream === upstream.id), targetKey);
    if (target === undefined) throw notFound();
    if (address !== null && formatTargetAddress(address) !== target.target) throw notFound();
    this.#health.handle(upstream, target.target).set(verdict === 'healthy', 'manual');
    return { status: 204 };
  }

  #upstream(config: Config, key: string): Upstream {
    const found = findEntity(config, KINDS.upstreams, key) as unknown as Upstream | null;
    if (found === null) throw notFound();
    return found;
  }

  #state(upstream: Upstream, target: Target): { health: string; last: unknown } {
    const handle = this.#health.find(upstream.name, target.target);
    if (target.weight === 0 || !healthchecksOn(upstream.healthchecks)) return { health: 'HEALTHCHECKS_OFF', last: handle?.state.last ?? null };
    return { health: handle === undefined ? 'HEALTHY' : stateOf(handle), last: handle?.state.last ?? null };
  }

  #withHealth(upstream: Upstream, target: Target): Record<string, unknown> {
    const { health, last } = this.#state(upstream, target);
    const address = parseTargetAddress(target.target);
    return {
      ...present(target),
      health,
      data: {
        addresses: address === null ? [] : [{ ip: address.host, port: address.port, health, weight: target.weight }],
        weight: { total: target.weight, available: health === 'UNHEALTHY' ? 0 : target.weight, unavailable: health === 'UNHEALTHY' ? target.weight : 0 },
        last,
      },
    };
  }

  #balancer(upstream: Upstream, targets: readonly Target[]): Record<string, unknown> {
    let total = 0;
    let available = 0;
    for (const target of targets) {
      total += target.weight;
      if (this.#state(upstream, target).health !== 'UNHEALTHY') available += target.weight;
    }
    const threshold = upstream.healthchecks.threshold;
    const healthy = meetsThreshold(available, total, threshold);
    const balancerHealth = healthy ? 'HEALTHY' : 'UNHEALTHY';
    return {
      health: healthchecksOn(upstream.healthchecks) ? balancerHealth : 'HEALTHCHECKS_OFF',
      balancer_health: balancerHealth,
      id: upstream.id,
      details: { healthy, weight: { total, available, unavailable: total - available }, healthThreshold: threshold },
    };
  }
}
