/**
 * Single-use marks for values that may be accepted once within a validity window (DPoP proof
 * `jti`s, RFC 9449 §11.1). An interface, so that the store can move: one process keeps them in
 * memory, the workers of a node ask their primary (`ipc-replay-cache.ts`), and the multi-node
 * store will put them on Redis.
 */
import { SlotHeap } from './slot-heap.js';

/** What claiming a mark found. */
export type ClaimResult =
  /** Not seen before: recorded, the caller may accept. */
  | 'fresh'
  /** Seen before and still within its window: a replay. */
  | 'replayed'
  /**
   * Created at or before the newest unexpired mark the store had to drop (it was full of
   * unexpired marks): it may be a replay of a dropped one, so it is refused, never guessed at.
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

/** Default bound of a node's in-memory replay store, in marks (about 140 bytes each with its key). */
export const DEFAULT_REPLAY_CACHE_ENTRIES = 1_000_000;

/** Expired marks reclaimed per claim besides the one a full store needs: the backlog drains without a long pause. */
const SWEEP_BUDGET = 8;
/** Slots allocated at first; the arrays double up to the capacity as marks arrive. */
const INITIAL_SLOTS = 1024;

/**
 * The in-memory store, bounded to `capacity` marks. Each mark is in two heaps: by expiry, so
 * that expired marks are reclaimed wherever they were inserted (a few per claim, and always
 * before anything unexpired is dropped), and by creation time. When the store is full of
 * unexpired marks, the earliest-created one is dropped — or the new mark is not kept, when it is
 * no later than all of them — and that creation time becomes a floor: anything created at or
 * before it could be a replay of a dropped mark, so it answers `beyond_capacity`. A replay carries
 * its original's creation time, so it never passes as fresh. Under a flood the accepted window
 * shrinks instead of letting a replay through; dropping the earliest-created mark raises the floor
 * the least, and marks already under the floor go first at no cost.
 */
export class MemoryReplayCache implements ReplayCache {
  readonly #capacity: number;
  readonly #now: () => number;
  /** key → slot */
  readonly #slots = new Map<string, number>();
  /** slot → key, to forget a mark found through a heap */
  readonly #keys: Array<string | undefined> = [];
  /** Slots released by forgotten marks. */
  readonly #free: number[] = [];
  /** Slots ever handed out (the free ones included); never above the capacity. */
  #used = 0;
  #allocated: number;
  readonly #byExpiry: SlotHeap;
  readonly #byCreation: SlotHeap;
  #floor = Number.NEGATIVE_INFINITY;

  constructor(capacity: number = DEFAULT_REPLAY_CACHE_ENTRIES, now: () => number = Date.now) {
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > 2 ** 31 - 1) throw new TypeError(`replay cache capacity must be a positive integer (at most 2^31 - 1), got ${capacity}`);
    this.#capacity = capacity;
    this.#now = now;
    this.#allocated = Math.min(capacity, INITIAL_SLOTS);
    this.#byExpiry = new SlotHeap(this.#allocated);
    this.#byCreation = new SlotHeap(this.#allocated);
  }

  /** Marks currently held (tests, metrics). */
  get size(): number {
    return this.#slots.size;
  }

  claim(key: string, createdAtMs: number, expiresAtMs: number): Promise<ClaimResult> {
    return Promise.resolve(this.claimNow(key, createdAtMs, expiresAtMs));
  }

  /** The synchronous form, for the primary answering its workers. */
  claimNow(key: string, createdAtMs: number, expiresAtMs: number): ClaimResult {
    const now = this.#now();
    for (let budget = SWEEP_BUDGET; budget > 0 && this.#reclaimExpired(now); budget--);
    const existing = this.#slots.get(key);
    if (existing !== undefined && this.#byExpiry.priorityOf(existing) > now) return 'replayed';
    // Times that are not numbers can be neither ordered nor expired: refused, never guessed at
    // (callers pass finite times; throwing here would take down a primary answering its workers).
    if (createdAtMs <= this.#floor || Number.isNaN(createdAtMs) || Number.isNaN(expiresAtMs)) return 'beyond_capacity';
    // An expired mark of the same key gives way to the new window.
    if (existing !== undefined) this.#forget(existing);
    // A window that has already ended needs no mark: it counts as expired, the caller refuses it anyway.
    if (expiresAtMs <= now) return 'fresh';
    if (this.#slots.size >= this.#capacity && !this.#reclaimExpired(now)) {
      // Full of unexpired marks: drop the earliest-created, which may be the new one.
      const oldest = this.#byCreation.peek();
      const oldestCreated = this.#byCreation.priorityOf(oldest);
      if (createdAtMs <= oldestCreated) {
        this.#floor = Math.max(this.#floor, createdAtMs);
        return 'fresh';
      }
      this.#forget(oldest);
      this.#floor = Math.max(this.#floor, oldestCreated);
    }
    const slot = this.#slot();
    this.#keys[slot] = key;
    this.#slots.set(key, slot);
    this.#byExpiry.push(slot, expiresAtMs);
    this.#byCreation.push(slot, createdAtMs);
    return 'fresh';
  }

  /** Forgets the soonest-expiring mark if it has expired; says whether it did. */
  #reclaimExpired(now: number): boolean {
    if (this.#byExpiry.size === 0) return false;
    const slot = this.#byExpiry.peek();
    if (this.#byExpiry.priorityOf(slot) > now) return false;
    this.#forget(slot);
    return true;
  }

  #forget(slot: number): void {
    this.#slots.delete(this.#keys[slot]!);
    this.#keys[slot] = undefined;
    this.#byExpiry.remove(slot);
    this.#byCreation.remove(slot);
    this.#free.push(slot);
  }

  #slot(): number {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    if (this.#used === this.#allocated) {
      this.#allocated = Math.min(this.#capacity, this.#allocated * 2);
      this.#byExpiry.grow(this.#allocated);
      this.#byCreation.grow(this.#allocated);
    }
    return this.#used++;
  }
}
