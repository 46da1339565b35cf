/**
 * Kong's plugin queue (kong/tools/queue.lua) for encoded log entries: batches of up to
 * `maxBatchSize`, a batch sent once it is full or `maxCoalescingDelayMs` after its first entry,
 * a failed batch retried with exponential backoff (initial delay doubled up to `maxRetryDelayMs`)
 * until `maxRetryTimeMs` has passed, then dropped. Bounded: at `maxEntries` (or `maxBytes`) the
 * oldest entry is dropped to make room, as Kong's queue does, and every drop is reported.
 * `concurrencyLimit` 1 sends one batch at a time; -1 sends each batch as soon as it is ready.
 */

export interface BatchQueueOptions {
  readonly maxBatchSize: number;
  readonly maxCoalescingDelayMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number | null;
  /** -1: no retries. */
  readonly maxRetryTimeMs: number;
  readonly initialRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly concurrencyLimit: 1 | -1;
  /** Sends one batch; rejects on failure (the batch is then retried). */
  readonly send: (batch: readonly string[]) => Promise<void>;
  /** Entries lost, and why. */
  readonly dropped: (count: number, reason: DropReason, error?: unknown) => void;
  /** A send failed and will be retried (for a throttled log line). */
  readonly failed?: (error: unknown, attempt: number) => void;
  readonly now?: () => number;
}

export type DropReason = 'queue_full' | 'too_large' | 'retries_exhausted' | 'closed';

/** A delay that `wake()` cuts short. */
class Sleeper {
  #timer: NodeJS.Timeout | null = null;
  #resolve: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.wake(), Math.max(0, ms));
    });
  }

  wake(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const resolve = this.#resolve;
    this.#resolve = null;
    resolve?.();
  }
}

export class BatchQueue {
  readonly #o: BatchQueueOptions;
  readonly #now: () => number;
  #entries: string[] = [];
  /** Index of the oldest entry still queued (entries before it were taken; compacted now and then). */
  #head = 0;
  #bytes = 0;
  #running: Promise<void> | null = null;
  readonly #coalescing = new Sleeper();
  readonly #retrying = new Set<Sleeper>();
  readonly #inFlight = new Set<Promise<void>>();
  #closing = false;

  constructor(options: BatchQueueOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Entries waiting (not yet taken into a batch). */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Queues one entry; never throws, never waits. */
  enqueue(entry: string): void {
    if (this.#closing) {
      this.#o.dropped(1, 'closed');
      return;
    }
    const max = this.#o.maxBytes;
    if (max !== null && entry.length > max) {
      this.#o.dropped(1, 'too_large');
      return;
    }
    let dropped = 0;
    while (this.size >= this.#o.maxEntries || (max !== null && this.#bytes + entry.length > max && this.size > 0)) {
      this.#bytes -= this.#entries[this.#head]!.length;
      this.#head++;
      dropped++;
    }
    if (dropped > 0) this.#o.dropped(dropped, 'queue_full');
    this.#entries.push(entry);
    this.#bytes += entry.length;
    if (this.size >= this.#o.maxBatchSize) this.#coalescing.wake();
    this.#running ??= this.#run();
  }

  /**
   * Sends what is queued without waiting for a batch to fill, each batch tried once more at most
   * (a retiring configuration or a stopping gateway cannot wait out max_retry_time), and resolves
   * when nothing is left; what cannot be sent is dropped and reported.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#coalescing.wake();
    for (const sleeper of this.#retrying) sleeper.wake();
    await this.#running;
    await Promise.all([...this.#inFlight]);
  }

  async #run(): Promise<void> {
    // A turn first: `#running` must hold this promise before the loop can end and clear it.
    await Promise.resolve();
    while (this.size > 0) {
      if (this.#o.maxBatchSize > 1 && !this.#closing && this.size < this.#o.maxBatchSize) {
        // Coalesce: wait for a full batch or the delay since this batch's first entry.
        await this.#coalescing.sleep(this.#o.maxCoalescingDelayMs);
      }
      const batch = this.#take();
      if (this.#o.concurrencyLimit === 1) await this.#deliver(batch);
      else {
        const sending = this.#deliver(batch).finally(() => this.#inFlight.delete(sending));
        this.#inFlight.add(sending);
      }
    }
    this.#running = null;
  }

  #take(): string[] {
    const end = Math.min(this.#entries.length, this.#head + this.#o.maxBatchSize);
    const batch = this.#entries.slice(this.#head, end);
    this.#head = end;
    for (const entry of batch) this.#bytes -= entry.length;
    if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  async #deliver(batch: readonly string[]): Promise<void> {
    const started = this.#now();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#o.send(batch);
        return;
      } catch (error) {
        const outOfTime = this.#o.maxRetryTimeMs < 0 || this.#now() - started > this.#o.maxRetryTimeMs;
        if (outOfTime || (this.#closing && attempt >= 1)) {
          this.#o.dropped(batch.length, outOfTime ? 'retries_exhausted' : 'closed', error);
          return;
        }
        this.#o.failed?.(error, attempt + 1);
        if (this.#closing) continue;
        const sleeper = new Sleeper();
        this.#retrying.add(sleeper);
        await sleeper.sleep(Math.min(this.#o.maxRetryDelayMs, 2 ** attempt * this.#o.initialRetryDelayMs));
        this.#retrying.delete(sleeper);
      }
    }
  }
}
