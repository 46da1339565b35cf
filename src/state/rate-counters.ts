/**
 * Request counters of fixed windows, for rate limiting: the node-local store (Kong's `local`
 * policy, a shared dict of the node's workers). Each take is atomic over its windows, so a limit L
 * lets exactly L requests through however many arrive at once: Kong reads, then increments in a
 * timer, and lets more through under concurrency (Kong/kong#2629).
 */

/**
 * One window a request counts against: its counter's key, its limit, when the window ends (ms),
 * and the counter's time to live as Kong sets it in a shared store (the period's length in seconds).
 */
export interface CounterWindow {
  readonly key: string;
  readonly limit: number;
  readonly endsAtMs: number;
  readonly ttlSeconds: number;
}

/** The node's counters as a rate-limiting plugin uses them (the primary's store, or a worker's link to it). */
export interface RateCounters {
  /**
   * The usage of each window before this request, which is counted. Whether a request over a
   * limit is counted too is the store's policy, as Kong's: `local` does not count it (this class),
   * `redis` does (an INCR per request).
   */
  take(windows: readonly CounterWindow[]): Promise<readonly number[]>;
}

interface Counter {
  count: number;
  readonly endsAtMs: number;
}

/** Counters that outlive no window; memory stays bounded by `maxCounters` (oldest dropped first, as an LRU dict would). */
export class MemoryRateCounters implements RateCounters {
  readonly #counters = new Map<string, Counter>();
  readonly #maxCounters: number;
  readonly #now: () => number;
  #nextSweepMs = 0;

  constructor(options: { maxCounters?: number; now?: () => number } = {}) {
    this.#maxCounters = options.maxCounters ?? 1_000_000;
    this.#now = options.now ?? Date.now;
  }

  take(windows: readonly CounterWindow[]): Promise<readonly number[]> {
    return Promise.resolve(this.takeNow(windows));
  }

  /** `take`, synchronously (the primary answers its workers with it); a counter here ends with its window, no TTL needed. */
  takeNow(windows: ReadonlyArray<Omit<CounterWindow, 'ttlSeconds'>>): number[] {
    const now = this.#now();
    this.#sweep(now);
    const counters = windows.map((w) => {
      const counter = this.#counters.get(w.key);
      return counter !== undefined && counter.endsAtMs > now ? counter : null;
    });
    const usage = counters.map((c) => c?.count ?? 0);
    if (windows.some((w, i) => usage[i]! >= w.limit)) return usage;
    windows.forEach((w, i) => {
      const counter = counters[i];
      if (counter !== null && counter !== undefined) counter.count += 1;
      else this.#insert(w.key, { count: 1, endsAtMs: w.endsAtMs });
    });
    return usage;
  }

  /** How many counters are held (for tests and the metric). */
  get size(): number {
    return this.#counters.size;
  }

  #insert(key: string, counter: Counter): void {
    this.#counters.delete(key);
    if (this.#counters.size >= this.#maxCounters) {
      const oldest = this.#counters.keys().next();
      if (oldest.done !== true) this.#counters.delete(oldest.value);
    }
    this.#counters.set(key, counter);
  }

  /** Drops ended windows, at most once a second (a full pass is O(n)). */
  #sweep(now: number): void {
    if (now < this.#nextSweepMs) return;
    this.#nextSweepMs = now + 1000;
    for (const [key, counter] of this.#counters) if (counter.endsAtMs <= now) this.#counters.delete(key);
  }
}
