/**
 * The health of every target of a node, kept across configurations: a target is known by its
 * upstream's name and its address, so a reload that leaves both unchanged keeps its health (Kong
 * lost it, kong-breadth.md §6 #7), and a target that leaves the configuration is forgotten when the
 * next configuration goes live (`retain`).
 *
 * The proxy asks `TargetHandle.healthy` on every balanced pick and reports what real traffic showed
 * (passive checks); active probes (`active-checks.ts`) and the admin API report here too. Every
 * change is announced to `onChange` (the log, the metrics, and the workers of a node).
 */
import type { Healthchecks, Upstream } from '../../config/types.js';
import { TargetHealth, type HealthChange, type HealthOutcome, type HealthSource, type HealthThresholds } from './target-health.js';

export interface TargetChange extends HealthChange {
  readonly upstream: string;
  readonly target: string;
}

/** One target as the proxy sees it: whether it may be picked, and where traffic outcomes go. */
export class TargetHandle {
  readonly upstream: string;
  readonly target: string;
  readonly state: TargetHealth;
  #passive: HealthThresholds | null;
  #passiveStatuses: { readonly healthy: ReadonlySet<number>; readonly unhealthy: ReadonlySet<number> } | null;
  readonly #announce: (change: TargetChange) => void;

  constructor(upstream: string, target: string, announce: (change: TargetChange) => void) {
    this.upstream = upstream;
    this.target = target;
    this.state = new TargetHealth();
    this.#passive = null;
    this.#passiveStatuses = null;
    this.#announce = announce;
  }

  get healthy(): boolean {
    return this.state.healthy;
  }

  /** Whether proxied traffic is judged (any passive unhealthy threshold above 0). */
  get passive(): boolean {
    return this.#passive !== null;
  }

  /** Whether the target's upstream checks its health at all (Kong: HEALTHCHECKS_OFF otherwise). */
  checksOn = false;

  /** The upstream's passive settings, from the configuration that built this handle's balancer. */
  configure(checks: Healthchecks): void {
    this.checksOn = healthchecksOn(checks);
    const p = checks.passive;
    const on = p.unhealthy.tcp_failures > 0 || p.unhealthy.timeouts > 0 || p.unhealthy.http_failures > 0;
    this.#passive = on ? { successes: p.healthy.successes, tcp_failures: p.unhealthy.tcp_failures, timeouts: p.unhealthy.timeouts, http_failures: p.unhealthy.http_failures } : null;
    this.#passiveStatuses = on ? { healthy: new Set(p.healthy.http_statuses), unhealthy: new Set(p.unhealthy.http_statuses) } : null;
  }

  /** A response head from this target (passive check). */
  observeStatus(status: number): void {
    const statuses = this.#passiveStatuses;
    if (statuses === null) return;
    const outcome: HealthOutcome = statuses.healthy.has(status) ? { kind: 'success', status } : statuses.unhealthy.has(status) ? { kind: 'http_failure', status } : { kind: 'ignored', status };
    this.record(outcome, this.#passive!, 'passive');
  }

  /** A failure talking to this target (passive check). */
  observeFailure(kind: 'tcp_failure' | 'timeout', error: string): void {
    if (this.#passive === null) return;
    this.record(kind === 'timeout' ? { kind } : { kind, error }, this.#passive, 'passive');
  }

  record(outcome: HealthOutcome, thresholds: HealthThresholds, source: HealthSource): void {
    const change = this.state.record(outcome, thresholds, source);
    if (change !== null) this.#announce({ ...change, upstream: this.upstream, target: this.target });
  }

  set(healthy: boolean, source: HealthSource = 'manual'): void {
    const change = this.state.set(healthy, source);
    if (change !== null) this.#announce({ ...change, upstream: this.upstream, target: this.target });
  }
}

/** Whether an upstream uses health checks at all (Kong shows HEALTHCHECKS_OFF otherwise). */
export function healthchecksOn(checks: Healthchecks): boolean {
  const { active, passive } = checks;
  return active.healthy.interval > 0 || active.unhealthy.interval > 0 || passive.unhealthy.tcp_failures > 0 || passive.unhealthy.timeouts > 0 || passive.unhealthy.http_failures > 0;
}

/**
 * Kong's `healthchecks.threshold` (percent): whether enough of an upstream's weight is healthy for it
 * to take requests at all; an upstream with no healthy weight never does.
 */
export function meetsThreshold(healthyWeight: number, totalWeight: number, threshold: number): boolean {
  return healthyWeight > 0 && (healthyWeight / totalWeight) * 100 >= threshold;
}

export class UpstreamHealth {
  readonly #targets = new Map<string, TargetHandle>();
  readonly #listeners: Array<(change: TargetChange) => void> = [];

  /** Calls `listener` on every change of any target's health; returns what stops it. */
  onChange(listener: (change: TargetChange) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }

  /** The handle of a target of `upstream`, made on first use and kept while its upstream and address stay. */
  handle(upstream: Upstream, target: string): TargetHandle {
    const key = keyOf(upstream.name, target);
    let handle = this.#targets.get(key);
    if (handle === undefined) {
      handle = new TargetHandle(upstream.name, target, (change) => this.#announce(change));
      this.#targets.set(key, handle);
    }
    handle.configure(upstream.healthchecks);
    return handle;
  }

  /** The handle of a target already known, or undefined. */
  find(upstream: string, target: string): TargetHandle | undefined {
    return this.#targets.get(keyOf(upstream, target));
  }

  /** Forgets every target that is not in `live` (upstream name → target addresses): the configuration that just went live. */
  retain(live: ReadonlyMap<string, ReadonlySet<string>>): void {
    for (const [key, handle] of this.#targets) {
      if (live.get(handle.upstream)?.has(handle.target) !== true) this.#targets.delete(key);
    }
  }

  /** Every known target with its state as Kong names it in metrics and the health endpoint. */
  states(): Array<{ readonly upstream: string; readonly target: string; readonly state: TargetState }> {
    return [...this.#targets.values()].map((h) => ({ upstream: h.upstream, target: h.target, state: stateOf(h) }));
  }

  /** Every target known to be unhealthy now (for a worker that just started). */
  unhealthy(): Array<{ readonly upstream: string; readonly target: string }> {
    return [...this.#targets.values()].filter((h) => !h.healthy).map((h) => ({ upstream: h.upstream, target: h.target }));
  }

  #announce(change: TargetChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}

export type TargetState = 'HEALTHY' | 'UNHEALTHY' | 'HEALTHCHECKS_OFF';

/** Kong's name for a target's state: with checks off a target is always picked, whatever it did. */
export function stateOf(handle: TargetHandle): TargetState {
  if (!handle.checksOn && handle.healthy) return 'HEALTHCHECKS_OFF';
  return handle.healthy ? 'HEALTHY' : 'UNHEALTHY';
}

function keyOf(upstream: string, target: string): string {
  return `${upstream.toLowerCase()}\u0000${target}`;
}
