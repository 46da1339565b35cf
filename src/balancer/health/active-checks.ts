/**
 * Active health checks: for every upstream whose `healthchecks.active` has an interval, probes its
 * targets on timers, healthy ones every `healthy.interval` seconds and unhealthy ones every
 * `unhealthy.interval` (0 = not probed in that state), at most `concurrency` at once, and records
 * each outcome with the active thresholds. A round still running when its timer fires again is not
 * doubled. `apply` keeps the checker of an upstream whose checks and targets did not change (its
 * rhythm and the targets' health go on), restarts the changed ones, and stops those of upstreams
 * that left the configuration (Kong's checks stuck after a reload: kong-breadth.md §6 #7).
 */
import type { Config, Upstream } from '../../config/types.js';
import { parseTargetAddress } from '../../config/target-address.js';
import { defaultTrustWith } from '../../util/default-trust.js';
import { probe, type ProbeSettings } from './probe.js';
import type { HealthThresholds } from './target-health.js';
import type { TargetHandle, UpstreamHealth } from './upstream-health.js';

export interface ActiveCheckOptions {
  /** `--trusted-certificate` anchors, on top of the default store, for https probes. */
  readonly trustedCaPems: readonly string[];
}

interface ProbedTarget {
  readonly handle: TargetHandle;
  readonly settings: ProbeSettings;
}

class UpstreamChecker {
  readonly #targets: readonly ProbedTarget[];
  readonly #thresholds: HealthThresholds;
  readonly #concurrency: number;
  readonly #timers: NodeJS.Timeout[] = [];
  /** Whether a round over the healthy (index 1) or unhealthy (index 0) targets is under way. */
  readonly #running = [false, false];
  readonly #abort = new AbortController();

  constructor(upstream: Upstream, targets: readonly ProbedTarget[]) {
    const active = upstream.healthchecks.active;
    this.#targets = targets;
    this.#concurrency = active.concurrency;
    this.#thresholds = { successes: active.healthy.successes, tcp_failures: active.unhealthy.tcp_failures, timeouts: active.unhealthy.timeouts, http_failures: active.unhealthy.http_failures };
    for (const healthy of [true, false]) {
      const seconds = healthy ? active.healthy.interval : active.unhealthy.interval;
      if (seconds <= 0) continue;
      const timer = setInterval(() => void this.#round(healthy), seconds * 1000);
      timer.unref();
      this.#timers.push(timer);
    }
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#abort.abort();
  }

  /** Probes every target currently in the given state. */
  async #round(healthy: boolean): Promise<void> {
    const lane = healthy ? 1 : 0;
    if (this.#running[lane] === true) return;
    this.#running[lane] = true;
    try {
      const due = this.#targets.filter((t) => t.handle.healthy === healthy);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < due.length && !this.#abort.signal.aborted) {
          const target = due[next++]!;
          const outcome = await probe(target.settings, this.#abort.signal);
          if (!this.#abort.signal.aborted) target.handle.record(outcome, this.#thresholds, 'active');
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, due.length) }, worker));
    } finally {
      this.#running[lane] = false;
    }
  }
}

export class ActiveHealthChecks {
  readonly #health: UpstreamHealth;
  /** Trust anchors of https probes, built once: the default store plus `--trusted-certificate`. */
  readonly #ca: readonly string[] | undefined;
  /** By upstream name: the checker and what it was built from. */
  readonly #checkers = new Map<string, { readonly key: string; readonly checker: UpstreamChecker }>();

  constructor(health: UpstreamHealth, options: ActiveCheckOptions) {
    this.#health = health;
    this.#ca = defaultTrustWith(options.trustedCaPems);
  }

  /** The configuration `config` went live: start, keep, restart or stop each upstream's checker. */
  apply(config: Config): void {
    const wanted = new Set<string>();
    for (const upstream of config.upstreams) {
      const active = upstream.healthchecks.active;
      if (active.healthy.interval <= 0 && active.unhealthy.interval <= 0) continue;
      const targets = config.targets.filter((t) => t.upstream === upstream.id && t.weight > 0);
      const clientCertificate = upstream.client_certificate === null ? undefined : config.certificates.find((c) => c.id === upstream.client_certificate);
      const key = JSON.stringify([active, upstream.host_header, clientCertificate?.id ?? null, targets.map((t) => t.target)]);
      wanted.add(upstream.name);
      if (this.#checkers.get(upstream.name)?.key === key) continue;
      this.#checkers.get(upstream.name)?.checker.stop();
      const probed = targets.flatMap((t): ProbedTarget[] => {
        const address = parseTargetAddress(t.target);
        if (address === null || address.port === null) return [];
        const settings = this.#settingsFor(upstream, address.host, address.port, clientCertificate);
        return [{ handle: this.#health.handle(upstream, t.target), settings }];
      });
      this.#checkers.set(upstream.name, { key, checker: new UpstreamChecker(upstream, probed) });
    }
    for (const [name, { checker }] of this.#checkers) {
      if (wanted.has(name)) continue;
      checker.stop();
      this.#checkers.delete(name);
    }
  }

  /** Stops every checker (shutdown). */
  close(): void {
    for (const { checker } of this.#checkers.values()) checker.stop();
    this.#checkers.clear();
  }

  #settingsFor(upstream: Upstream, host: string, port: number, clientCertificate: { cert: string; key: string } | undefined): ProbeSettings {
    const active = upstream.healthchecks.active;
    const type = active.type === 'tcp' ? 'tcp' : active.type === 'https' ? 'https' : 'http';
    return {
      type,
      host,
      port,
      timeoutMs: active.timeout * 1000,
      httpPath: active.http_path,
      // Kong's probe sends the upstream's host_header or the target's host, without a port.
      hostHeader: upstream.host_header ?? (host.includes(':') ? `[${host}]` : host),
      headers: active.headers,
      httpsSni: active.https_sni,
      verifyCertificate: active.https_verify_certificate,
      ca: this.#ca,
      clientCertificate: clientCertificate === undefined ? undefined : { cert: clientCertificate.cert, key: clientCertificate.key },
      healthyStatuses: active.healthy.http_statuses,
      unhealthyStatuses: active.unhealthy.http_statuses,
    };
  }
}
