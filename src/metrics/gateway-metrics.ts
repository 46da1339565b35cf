/**
 * The gateway's Prometheus metrics, fed through `GatewayObserver` and scraped at the admin
 * `GET /metrics`. A dedicated Registry (not prom-client's global one) so that tests and several
 * gateways in one process do not share counters.
 *
 * Labels are bounded: route and service names come from the configuration, status as a class
 * (`2xx`), reason codes from closed sets, and `BoundedLabel` caps each in case that ever stops
 * being true. The hot path (`requestFinished`) counts into a `RequestSeries` per (service, route),
 * found in a Map; prom-client reads the series only when scraped (request-series.ts).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AccessRecord } from '../server/access-log.js';
import type { GatewayObserver } from '../server/observer.js';
import type { TargetState } from '../balancer/health/upstream-health.js';
import { BoundedLabel } from './bounded-labels.js';
import { KongMetrics } from './kong-metrics.js';
import { RequestSeries, SeriesHistogram, seriesRequestCounter, statusClassIndex, STATUS_CLASSES } from './request-series.js';

/** What the config gauges read at scrape time. */
export interface ConfigInfo {
  readonly version: number;
  readonly loadedAt: Date;
  readonly hash: string;
}

export interface GatewayMetricsOptions {
  /** The live configuration's version, load time and hash, read when scraped. */
  readonly config: () => ConfigInfo;
  /** Distinct values kept per label before `other` (default 1000). */
  readonly labelLimit?: number;
  /** Also collect process and Node.js runtime metrics (default true). */
  readonly processMetrics?: boolean;
  /** The health of upstream targets, read when scraped. */
  readonly targetHealth?: () => ReadonlyArray<{ readonly upstream: string; readonly target: string; readonly state: TargetState }>;
}

const TARGET_STATES: readonly TargetState[] = ['HEALTHY', 'UNHEALTHY', 'HEALTHCHECKS_OFF'];

// Milliseconds; from sub-millisecond gateway overhead to minute-long upstream calls.
const LATENCY_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];

export class GatewayMetrics implements GatewayObserver {
  readonly registry = new Registry();
  /** Kong's series for the prometheus plugin, in the same registry (exported while one is configured). */
  readonly kong: KongMetrics;
  readonly #upstreamErrors: Counter<'service' | 'kind'>;
  readonly #auth: Counter<'plugin' | 'outcome' | 'reason'>;
  readonly #connections: Gauge;
  readonly #handshakes: Counter<'client_certificate' | 'resumed'>;
  /** By service, then route (two Map lookups: no key string per request). */
  readonly #series = new Map<string, Map<string, RequestSeries>>();
  readonly #names: BoundedLabel;
  readonly #reasons: BoundedLabel;

  constructor(options: GatewayMetricsOptions) {
    const registers = [this.registry];
    const limit = options.labelLimit ?? 1000;
    this.#names = new BoundedLabel(limit);
    this.#reasons = new BoundedLabel(Math.min(limit, 200));
    const series = (): Iterable<RequestSeries> => this.#allSeries();
    seriesRequestCounter({ name: 'portcullis_http_requests_total', help: 'Requests answered, by service, route and status class', registers, series });
    new SeriesHistogram({ name: 'portcullis_request_latency_ms', help: 'Total time from request to last response byte, ms', buckets: LATENCY_BUCKETS, registers, series, pick: (s) => s.total });
    new SeriesHistogram({ name: 'portcullis_upstream_latency_ms', help: 'Time spent waiting for and streaming from the upstream, ms', buckets: LATENCY_BUCKETS, registers, series, pick: (s) => s.upstream });
    new SeriesHistogram({ name: 'portcullis_gateway_latency_ms', help: 'Time spent in the gateway itself (total minus upstream), ms', buckets: LATENCY_BUCKETS, registers, series, pick: (s) => s.gateway });
    this.#upstreamErrors = new Counter({ name: 'portcullis_upstream_errors_total', help: 'Failures talking to upstreams, by kind', labelNames: ['service', 'kind'], registers });
    this.#auth = new Counter({ name: 'portcullis_auth_outcomes_total', help: 'Authentication outcomes by plugin and reason code', labelNames: ['plugin', 'outcome', 'reason'], registers });
    this.#connections = new Gauge({ name: 'portcullis_open_connections', help: 'Client connections open on proxy listeners', registers });
    this.#handshakes = new Counter({ name: 'portcullis_tls_handshakes_total', help: 'TLS handshakes on proxy listeners', labelNames: ['client_certificate', 'resumed'], registers });
    new Gauge({
      name: 'portcullis_config_version',
      // With --workers the primary sums the workers' metrics; for these the newest worker speaks.
      aggregator: 'max',
      help: 'Version of the live configuration (1 at start, +1 per change)',
      registers,
      collect() {
        this.set(options.config().version);
      },
    });
    new Gauge({
      name: 'portcullis_config_last_reload_timestamp_seconds',
      // With --workers the primary sums the workers' metrics; for these the newest worker speaks.
      aggregator: 'max',
      help: 'When the live configuration was loaded, Unix time',
      registers,
      collect() {
        this.set(options.config().loadedAt.getTime() / 1000);
      },
    });
    new Gauge({
      name: 'portcullis_config_info',
      // With --workers the primary sums the workers' metrics; for these the newest worker speaks.
      aggregator: 'max',
      help: 'Always 1; the label carries the hash of the live configuration',
      labelNames: ['configuration_hash'],
      registers,
      collect() {
        this.reset();
        this.set({ configuration_hash: options.config().hash }, 1);
      },
    });
    const targetHealth = options.targetHealth;
    this.kong = new KongMetrics(this.registry, targetHealth);
    if (targetHealth !== undefined) {
      new Gauge({
        name: 'portcullis_upstream_target_health',
        // Kong's kong_upstream_target_health: 1 for the target's state, 0 for the others. With
        // --workers every worker follows the node's state, so the largest value is the node's.
        aggregator: 'max',
        help: 'Health of each upstream target: 1 for its current state (healthy, unhealthy, healthchecks_off)',
        labelNames: ['upstream', 'target', 'state'],
        registers,
        collect() {
          this.reset();
          for (const t of targetHealth()) {
            for (const state of TARGET_STATES) this.set({ upstream: t.upstream, target: t.target, state: state.toLowerCase() }, state === t.state ? 1 : 0);
          }
        },
      });
    }
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  requestFinished(record: Readonly<AccessRecord>): void {
    const service = this.#names.of(record.service ?? '');
    const route = this.#names.of(record.route ?? '');
    const series = this.#seriesFor(service, route);
    series.requests[statusClassIndex(record.status)]! += 1;
    series.total.observe(record.latency_ms.total);
    series.gateway.observe(record.latency_ms.gateway);
    if (record.latency_ms.upstream !== null) series.upstream.observe(record.latency_ms.upstream);
    const kind = upstreamFailureKind(record.reason);
    if (kind !== null) this.#upstreamErrors.inc({ service, kind: this.#reasons.of(kind) });
    const auth = record.auth;
    if (auth !== null) this.#auth.inc({ plugin: this.#names.of(auth.plugin), outcome: auth.outcome, reason: this.#reasons.of(auth.reason) });
  }

  tlsHandshake(info: { readonly clientCertificate: boolean; readonly resumed: boolean }): void {
    this.#handshakes.inc({ client_certificate: String(info.clientCertificate), resumed: String(info.resumed) });
  }

  connection(delta: 1 | -1): void {
    this.#connections.inc(delta);
  }

  /** The text exposition, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #seriesFor(service: string, route: string): RequestSeries {
    let routes = this.#series.get(service);
    if (routes === undefined) this.#series.set(service, (routes = new Map<string, RequestSeries>()));
    let series = routes.get(route);
    if (series === undefined) routes.set(route, (series = new RequestSeries(service, route, LATENCY_BUCKETS)));
    return series;
  }

  *#allSeries(): Iterable<RequestSeries> {
    for (const routes of this.#series.values()) yield* routes.values();
  }
}

/** `2xx` … `5xx`; 499 (client went away) and anything odd keep their class digit. */
export function statusClass(status: number): string {
  return STATUS_CLASSES[statusClassIndex(status)]!;
}

/** `upstream_timeout` → `timeout`; null for reasons that are not upstream failures. */
export function upstreamFailureKind(reason: string | null): string | null {
  if (reason === null || !reason.startsWith('upstream_')) return null;
  return reason.slice('upstream_'.length);
}
