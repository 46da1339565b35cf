/**
 * Single-use marks for values that may be accepted once within a validity window (DPoP proof
 * `jti`s, RFC 9449 §11.1). An interface, so that the store can move: one process keeps them in
 * memory, the workers of a node ask their primary (`ipc-replay-cache.ts`), and the multi-node
 * store will put them on Redis.
 */

/** What claiming a mark found. */
export type ClaimResult =
  /** Not seen before: recorded, the caller may accept. */
  | 'fresh'
  /** Seen before and still within its window: a replay. */
  | 'replayed'
  /**
   * Older than the oldest mark the store could still keep (it was full and dropped unexpired
   * marks): it may be a replay of a dropped one, so it is refused, never guessed at.
   */
  | 'beyond_capacity';

export interface ReplayCache {
  /**
   * Claims `key` (already hashed by the caller: a fixed-length string, never a secret).
   * `createdAtMs` is when the marked value was made (a proof's `iat` or its nonce time);
   * `expiresAtMs` the end of its window, after which the caller refuses it anyway.
   * Rejects when the store cannot be reached: the caller fails closed.
   */
  claim(key: string, createdAtMs: number, expiresAtMs: number): Promise<ClaimResult>;
}

/** Default bound of a node's in-memory replay store, in marks (about 120 bytes each). */
export const DEFAULT_REPLAY_CACHE_ENTRIES = 1_000_000;

interface Mark {
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * The in-memory store, bounded to `capacity` marks. Marks live in insertion order; expired ones
 * are swept from the front a few per claim. When the store is full the oldest mark is dropped and
 * its creation time becomes a floor: anything created at or before it could be a replay of a
 * dropped mark, so it answers `beyond_capacity`. Under a flood the accepted window shrinks instead
 * of letting a replay through.
 */
export class MemoryReplayCache implements ReplayCache {
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #marks = new Map<string, Mark>();
  #floor = Number.NEGATIVE_INFINITY;

  constructor(capacity: number = DEFAULT_REPLAY_CACHE_ENTRIES, now: () => number = Date.now) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new TypeError(`replay cache capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
    this.#now = now;
  }

  /** Marks currently held (tests, metrics). */
  get size(): number {
    return this.#marks.size;
  }

  claim(key: string, createdAtMs: number, expiresAtMs: number): Promise<ClaimResult> {
    return Promise.resolve(this.claimNow(key, createdAtMs, expiresAtMs));
  }

  /** The synchronous form, for the primary answering its workers. */
  claimNow(key: string, createdAtMs: number, expiresAtMs: number): ClaimResult {
    const now = this.#now();
    this.#sweep(now, 8);
    const existing = this.#marks.get(key);
    if (existing !== undefined && existing.expiresAt > now) return 'replayed';
    if (createdAtMs <= this.#floor) return 'beyond_capacity';
    // Re-inserting moves the key to the back: its sweep position follows its new window.
    if (existing !== undefined) this.#marks.delete(key);
    this.#marks.set(key, { createdAt: createdAtMs, expiresAt: expiresAtMs });
    if (this.#marks.size > this.#capacity) this.#dropOldest(now);
    return 'fresh';
  }

  #sweep(now: number, budget: number): void {
    for (const [key, mark] of this.#marks) {
      if (budget-- === 0 || mark.expiresAt > now) return;
      this.#marks.delete(key);
    }
  }

  #dropOldest(now: number): void {
    const first = this.#marks.entries().next();
    if (first.done === true) return;
    const [key, mark] = first.value;
    this.#marks.delete(key);
    if (mark.expiresAt > now) this.#floor = Math.max(this.#floor, mark.createdAt);
  }
}
