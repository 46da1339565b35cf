/**
 * Kong's Prometheus series (kong/plugins/prometheus/exporter.lua), counted for the prometheus
 * plugin and exposed beside Portcullis's own metrics, in the same registry, so `GET /metrics` and
 * the workers' aggregation (prom-client's cluster registry, a sum per series) serve both.
 *
 * Owned by the node, not by a plugin instance: counts survive configuration changes, as Kong's
 * shared dict does. The series are in the registry only while a prometheus plugin is configured
 * (Kong exports its per-request metrics only then). A request costs a WeakMap lookup (its route
 * object) and a few number increments; prom-client reads the counts only when scraped, as
 * request-series.ts does for Portcullis's own metrics.
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { Route, Service } from '../config/types.js';
import type { TargetState } from '../balancer/health/upstream-health.js';
import { BoundedLabel } from './bounded-labels.js';
import { LatencyCounts, SeriesHistogram } from './request-series.js';

/** Kong's buckets, ms (exporter.lua). */
export const KONG_LATENCY_BUCKETS: readonly number[] = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000];
export const UPSTREAM_LATENCY_BUCKETS: readonly number[] = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000];

/** Kong OSS has one workspace, `default`; its name is the label. */
const WORKSPACE = 'default';

/** Everything Kong counts for one (service, route). */
export class KongRouteSeries {
  readonly labels: { readonly service: string; readonly route: string; readonly workspace: string };
  readonly kong = new LatencyCounts(KONG_LATENCY_BUCKETS);
  readonly upstream = new LatencyCounts(UPSTREAM_LATENCY_BUCKETS);
  readonly request = new LatencyCounts(UPSTREAM_LATENCY_BUCKETS);
  /** By consumer label, then `status * 2 + (from the service ? 1 : 0)`: one number key, no string per request. */
  readonly statuses = new Map<string, Map<number, number>>();
  /** By consumer label: [ingress, egress] bytes. */
  readonly bandwidth = new Map<string, Float64Array>();

  constructor(service: string, route: string) {
    this.labels = { service, route, workspace: WORKSPACE };
  }

  countStatus(status: number, fromService: boolean, consumer: string): void {
    let codes = this.statuses.get(consumer);
    if (codes === undefined) this.statuses.set(consumer, (codes = new Map<number, number>()));
    const key = status * 2 + (fromService ? 1 : 0);
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }

  addBandwidth(consumer: string, ingress: number, egress: number): void {
    let bytes = this.bandwidth.get(consumer);
    if (bytes === undefined) this.bandwidth.set(consumer, (bytes = new Float64Array(2)));
    bytes[0]! += ingress;
    bytes[1]! += egress;
  }
}

export interface TargetHealthState {
  readonly upstream: string;
  readonly target: string;
  readonly state: TargetState;
}

/** Kong's states of kong_upstream_target_health (dns_error: Portcullis resolves per connection, so never set). */
const HEALTH_STATES = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'] as const;

export class KongMetrics {
  readonly #registry: Registry;
  readonly #byRoute = new WeakMap<Route, KongRouteSeries>();
  /** By service label, then route label: a new configuration's route objects find their old counts. */
  readonly #byName = new Map<string, Map<string, KongRouteSeries>>();
  readonly #consumers = new BoundedLabel(1000);
  readonly #requestMetrics: readonly Metric[];
  readonly #healthMetric: Metric;
  readonly #logDrops: Counter<'plugin' | 'reason'>;
  #live = 0;
  #liveWithHealth = 0;

  constructor(registry: Registry, targetHealth: () => readonly TargetHealthState[] = () => []) {
    this.#registry = registry;
    const series = (): Iterable<KongRouteSeries> => this.#allSeries();
    const labelNames = ['service', 'route', 'workspace'];
    const status = new Counter({
      name: 'kong_http_requests_total',
      help: 'HTTP status codes per consumer/service/route in Kong',
      labelNames: ['service', 'route', 'code', 'source', 'workspace', 'consumer'],
      registers: [],
      collect() {
        this.reset();
        for (const s of series()) {
          for (const [consumer, codes] of s.statuses) {
            for (const [key, count] of codes) {
              // Kong's label order (exporter.lua), which the exposition keeps.
              this.inc({ service: s.labels.service, route: s.labels.route, code: String(key >> 1), source: (key & 1) === 1 ? 'service' : 'kong', workspace: s.labels.workspace, consumer }, count);
            }
          }
        }
      },
    });
    const bandwidth = new Counter({
      name: 'kong_bandwidth_bytes',
      help: 'Total bandwidth (ingress/egress) throughput in bytes',
      labelNames: ['service', 'route', 'direction', 'workspace', 'consumer'],
      registers: [],
      collect() {
        this.reset();
        for (const s of series()) {
          for (const [consumer, bytes] of s.bandwidth) {
            const { service, route, workspace } = s.labels;
            if (bytes[0]! > 0) this.inc({ service, route, direction: 'ingress', workspace, consumer }, bytes[0]);
            if (bytes[1]! > 0) this.inc({ service, route, direction: 'egress', workspace, consumer }, bytes[1]);
          }
        }
      },
    });
    this.#requestMetrics = [
      status,
      new SeriesHistogram<KongRouteSeries>({ name: 'kong_kong_latency_ms', help: 'Latency added by Kong and enabled plugins for each service/route in Kong', buckets: KONG_LATENCY_BUCKETS, registers: [], series, pick: (s) => s.kong, labelNames }),
      new SeriesHistogram<KongRouteSeries>({ name: 'kong_upstream_latency_ms', help: 'Latency added by upstream response for each service/route in Kong', buckets: UPSTREAM_LATENCY_BUCKETS, registers: [], series, pick: (s) => s.upstream, labelNames }),
      new SeriesHistogram<KongRouteSeries>({ name: 'kong_request_latency_ms', help: 'Total latency incurred during requests for each service/route in Kong', buckets: UPSTREAM_LATENCY_BUCKETS, registers: [], series, pick: (s) => s.request, labelNames }),
      bandwidth,
      new Gauge({
        name: 'kong_datastore_reachable',
        help: 'Datastore reachable from Kong, 0 is unreachable',
        // Portcullis serves its configuration from memory (Kong's DB-less mode, where this is always 1).
        aggregator: 'max',
        registers: [],
        collect() {
          this.set(1);
        },
      }),
      // Kong's count of the metric library's own failures; Portcullis's counting cannot fail, so it stays 0.
      new Counter({ name: 'kong_nginx_metric_errors_total', help: 'Number of nginx-lua-prometheus errors', registers: [] }),
    ];
    // Portcullis's own, always exported: log entries a logging plugin had to give up on.
    this.#logDrops = new Counter({ name: 'portcullis_log_entries_dropped_total', help: 'Log entries dropped by file-log and http-log, by plugin and reason (queue_full, retries_exhausted, write_failed, …)', labelNames: ['plugin', 'reason'], registers: [registry] });
    this.#healthMetric = new Gauge({
      name: 'kong_upstream_target_health',
      help: 'Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
      labelNames: ['upstream', 'target', 'address', 'state', 'subsystem'],
      // Every worker follows the node's health (through the primary): the largest value is the node's.
      aggregator: 'max',
      registers: [],
      collect() {
        this.reset();
        for (const t of targetHealth()) {
          const state = t.state.toLowerCase();
          // The address is the target's host:port: Portcullis resolves names per connection, not per target.
          for (const s of HEALTH_STATES) this.set({ upstream: t.upstream, target: t.target, address: t.target, state: s, subsystem: 'http' }, s === state ? 1 : 0);
        }
      },
    });
  }

  /**
   * A prometheus plugin instance went live: Kong's series are exported while one is (the health
   * gauge while one asks for it, a global property as in Kong). The returned function releases it.
   */
  attach(options: { readonly upstreamHealth: boolean }): () => void {
    if (this.#live++ === 0) for (const metric of this.#requestMetrics) this.#registry.registerMetric(metric);
    if (options.upstreamHealth && this.#liveWithHealth++ === 0) this.#registry.registerMetric(this.#healthMetric);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#live === 0) for (const metric of this.#requestMetrics) this.#registry.removeSingleMetric(nameOf(metric));
      if (options.upstreamHealth && --this.#liveWithHealth === 0) this.#registry.removeSingleMetric(nameOf(this.#healthMetric));
    };
  }

  /** The series of a route (Kong's labels: the service's name or host, the route's name or id). */
  seriesFor(route: Route, service: Service | null): KongRouteSeries {
    const known = this.#byRoute.get(route);
    if (known !== undefined) return known;
    const serviceLabel = service === null ? '' : (service.name ?? service.host);
    const routeLabel = route.name ?? route.id;
    let routes = this.#byName.get(serviceLabel);
    if (routes === undefined) this.#byName.set(serviceLabel, (routes = new Map<string, KongRouteSeries>()));
    let series = routes.get(routeLabel);
    if (series === undefined) routes.set(routeLabel, (series = new KongRouteSeries(serviceLabel, routeLabel)));
    this.#byRoute.set(route, series);
    return series;
  }

  /** `count` entries a logging plugin dropped (a full queue, a collector down past max_retry_time, a failed write). */
  logEntriesDropped(plugin: 'http-log' | 'file-log', reason: string, count: number): void {
    this.#logDrops.inc({ plugin, reason }, count);
  }

  /** A consumer's label value, bounded (past 1000 distinct usernames: `other`). */
  consumerLabel(username: string): string {
    return this.#consumers.of(username);
  }

  *#allSeries(): Iterable<KongRouteSeries> {
    for (const routes of this.#byName.values()) yield* routes.values();
  }
}

/** Every prom-client metric has its name at run time; the Histogram type leaves it out. */
function nameOf(metric: Metric): string {
  return (metric as unknown as { readonly name: string }).name;
}
