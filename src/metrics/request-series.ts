/**
 * Per-request metrics counted in place and folded into prom-client only when scraped.
 *
 * prom-client's own `observe()`/`inc()` allocate per call (a closure, a label/value pair, a label
 * hash string) even through `labels()` children: with three latency histograms and a counter per
 * request that was ~880 bytes of garbage per request (sampling heap profile, scenario 1). Here a
 * request is a few number increments in objects made once per (service, route); the histograms
 * and the counter read them at scrape time, so the exposition (names, labels, buckets, the
 * workers' aggregation) is prom-client's, unchanged.
 */
import { Counter, Histogram, type CounterConfiguration, type HistogramConfiguration } from 'prom-client';

/** A histogram's counts per bucket (not cumulative; the last slot is +Inf), its sum and count. */
export class LatencyCounts {
  readonly #bounds: readonly number[];
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.buckets = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.buckets[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

/** Status classes a request is counted under, in the order of `RequestSeries.requests`. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;

/** Index into `STATUS_CLASSES`: `2xx` … `5xx`; 499 (client went away) keeps its class digit. */
export function statusClassIndex(status: number): number {
  return status >= 100 && status <= 599 ? Math.floor(status / 100) - 1 : STATUS_CLASSES.length - 1;
}

/** Everything counted for one (service, route). */
export class RequestSeries {
  readonly labels: { readonly service: string; readonly route: string };
  /** Requests per status class, indexed as `STATUS_CLASSES`. */
  readonly requests = new Float64Array(STATUS_CLASSES.length);
  readonly total: LatencyCounts;
  readonly upstream: LatencyCounts;
  readonly gateway: LatencyCounts;

  constructor(service: string, route: string, bounds: readonly number[]) {
    this.labels = { service, route };
    this.total = new LatencyCounts(bounds);
    this.upstream = new LatencyCounts(bounds);
    this.gateway = new LatencyCounts(bounds);
  }
}

/** Something counted under fixed label values (a `RequestSeries`, a Kong series). */
export interface LabelledSeries {
  readonly labels: Readonly<Record<string, string>>;
}
/** What prom-client's Histogram.get() resolves to. */
type HistogramSnapshot = Awaited<ReturnType<Histogram<string>['get']>>;
/** One exposed value; `le` is a label prom-client's types leave out of a histogram's own names. */
interface SnapshotValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A prom-client Histogram whose values are read from `RequestSeries` when scraped. Both of
 * prom-client's read paths are answered: `get()` (JSON, which the workers' aggregation uses) and
 * `getForPromString()` (the text exposition), with the same values.
 */
export class SeriesHistogram<S extends LabelledSeries = RequestSeries> extends Histogram<string> {
  readonly #series: () => Iterable<S>;
  readonly #pick: (series: S) => LatencyCounts;
  readonly #bounds: readonly number[];
  readonly #name: string;
  readonly #help: string;

  constructor(options: { name: string; help: string; buckets: readonly number[]; registers: HistogramConfiguration<string>['registers']; series: () => Iterable<S>; pick: (series: S) => LatencyCounts; labelNames?: readonly string[] }) {
    super({ name: options.name, help: options.help, labelNames: [...(options.labelNames ?? ['service', 'route'])], buckets: [...options.buckets], registers: options.registers });
    this.#series = options.series;
    this.#pick = options.pick;
    this.#bounds = options.buckets;
    this.#name = options.name;
    this.#help = options.help;
  }

  override get(): Promise<HistogramSnapshot> {
    return Promise.resolve(this.#snapshot());
  }

  /** prom-client's text exposition reads this when it exists (it does on Histogram). */
  getForPromString(): Promise<HistogramSnapshot> {
    return Promise.resolve(this.#snapshot());
  }

  #snapshot(): HistogramSnapshot {
    const values: SnapshotValue[] = [];
    const bucketName = `${this.#name}_bucket`;
    for (const series of this.#series()) {
      const counts = this.#pick(series);
      if (counts.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += counts.buckets[i]!;
        values.push({ labels: { le: this.#bounds[i]!, ...series.labels }, value: cumulative, metricName: bucketName });
      }
      values.push({ labels: { le: '+Inf', ...series.labels }, value: counts.count, metricName: bucketName });
      values.push({ labels: { ...series.labels }, value: counts.sum, metricName: `${this.#name}_sum` });
      values.push({ labels: { ...series.labels }, value: counts.count, metricName: `${this.#name}_count` });
    }
    // aggregator 'sum' (prom-client's default): the workers' histograms add up.
    const snapshot = { name: this.#name, help: this.#help, type: 'histogram', values, aggregator: 'sum' };
    return snapshot as unknown as HistogramSnapshot;
  }
}

/** The requests counter, set from the series' status-class counts at scrape time. */
export function seriesRequestCounter(options: { name: string; help: string; registers: CounterConfiguration<string>['registers']; series: () => Iterable<RequestSeries> }): Counter<'service' | 'route' | 'status_class'> {
  return new Counter({
    name: options.name,
    help: options.help,
    labelNames: ['service', 'route', 'status_class'],
    registers: options.registers,
    collect() {
      this.reset();
      for (const series of options.series()) {
        for (let i = 0; i < STATUS_CLASSES.length; i++) {
          const count = series.requests[i]!;
          if (count > 0) this.inc({ ...series.labels, status_class: STATUS_CLASSES[i]! }, count);
        }
      }
    },
  });
}
