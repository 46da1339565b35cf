/**
 * The health of one target, with Kong's counter semantics (docs "Health checks and circuit
 * breakers", lua-resty-healthcheck): a success increments `successes` and clears the failure
 * counters; a TCP failure, a timeout or an unhealthy HTTP status increments its own counter and
 * clears `successes`. When a counter reaches its threshold the target flips: failures make a
 * healthy target unhealthy, successes make an unhealthy one healthy. A threshold of 0 never flips.
 *
 * Active probes and passive observations (real traffic) use the same counters with their own
 * thresholds. Passive checks cannot in practice bring a target back: an unhealthy target gets no
 * traffic to judge. A status in neither list changes no counter (Kong's behaviour, where it left
 * counters frozen without saying so): here the last result is kept and shown, so a target stuck
 * on such a status is visible in `/upstreams/{u}/health`.
 */

export type HealthOutcome =
  | { readonly kind: 'success'; readonly status: number | null }
  | { readonly kind: 'http_failure'; readonly status: number }
  | { readonly kind: 'tcp_failure'; readonly error: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'ignored'; readonly status: number };

/** Thresholds of one side (active or passive); 0 = that counter never flips the target. */
export interface HealthThresholds {
  readonly successes: number;
  readonly tcp_failures: number;
  readonly timeouts: number;
  readonly http_failures: number;
}

/** Who changed a target's health; `remote`: the node's primary said so (a worker follows it). */
export type HealthSource = 'active' | 'passive' | 'manual' | 'remote';

export interface HealthChange {
  readonly healthy: boolean;
  readonly source: HealthSource;
  /** The outcome that flipped it (none for a manual change). */
  readonly outcome: HealthOutcome | null;
}

export class TargetHealth {
  healthy = true;
  successes = 0;
  tcpFailures = 0;
  timeouts = 0;
  httpFailures = 0;
  /** What the last probe or observation was, for the health endpoint. */
  last: { readonly source: HealthSource; readonly outcome: HealthOutcome; readonly at: number } | null = null;

  /** Counts an outcome; returns the change when the target flipped, else null. */
  record(outcome: HealthOutcome, thresholds: HealthThresholds, source: HealthSource, now = Date.now()): HealthChange | null {
    this.last = { source, outcome, at: now };
    switch (outcome.kind) {
      case 'ignored':
        return null;
      case 'success':
        this.successes += 1;
        this.tcpFailures = this.timeouts = this.httpFailures = 0;
        return !this.healthy && reached(this.successes, thresholds.successes) ? this.#flip(true, source, outcome) : null;
      case 'tcp_failure':
        this.successes = 0;
        this.tcpFailures += 1;
        return this.healthy && reached(this.tcpFailures, thresholds.tcp_failures) ? this.#flip(false, source, outcome) : null;
      case 'timeout':
        this.successes = 0;
        this.timeouts += 1;
        return this.healthy && reached(this.timeouts, thresholds.timeouts) ? this.#flip(false, source, outcome) : null;
      case 'http_failure':
        this.successes = 0;
        this.httpFailures += 1;
        return this.healthy && reached(this.httpFailures, thresholds.http_failures) ? this.#flip(false, source, outcome) : null;
    }
  }

  /** Forces the state and starts the counters afresh (Kong's `POST …/healthy|unhealthy`, or another process's finding). */
  set(healthy: boolean, source: HealthSource = 'manual'): HealthChange | null {
    const changed = this.healthy !== healthy;
    this.#reset(healthy);
    return changed ? { healthy, source, outcome: null } : null;
  }

  #flip(healthy: boolean, source: HealthSource, outcome: HealthOutcome): HealthChange {
    this.#reset(healthy);
    return { healthy, source, outcome };
  }

  #reset(healthy: boolean): void {
    this.healthy = healthy;
    this.successes = this.tcpFailures = this.timeouts = this.httpFailures = 0;
  }
}

function reached(count: number, threshold: number): boolean {
  return threshold > 0 && count >= threshold;
}
