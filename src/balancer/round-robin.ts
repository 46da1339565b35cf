/**
 * Weighted round-robin over an upstream's targets, with the distribution of Kong's
 * `kong/runloop/balancer/round_robin.lua`:
 * - the weights are divided by their greatest common divisor and each target gets that many slots
 *   on a wheel (100/50/0 → 2, 1 and no slot), so one turn of the wheel picks each target exactly in
 *   proportion to its weight, and a weight of 0 is never picked;
 * - a pick moves a pointer to the next slot whose target is usable, wrapping around, and gives up
 *   only when a whole turn finds none; skipped slots are not made up later, so over one turn the
 *   usable targets keep their proportions among themselves.
 *
 * Where the slots go differs. Kong shuffles the wheel at random each time it is built (and starts
 * the pointer at its first slot), so the order is interleaved only by chance; here each target's
 * slots are spread evenly over the wheel, so the order is interleaved by construction and fixed by
 * the weights (100/50 → a b a), and it is the start slot that is random unless given. That random
 * start does what Kong's per-worker shuffle does for traffic: balancers built at the same time do
 * not all send their first requests to the same target.
 */

import type { Balancer, BalancerTarget } from './balancer.js';

export type { BalancerTarget } from './balancer.js';

export interface RoundRobinOptions {
  /** The first slot examined (any integer, taken modulo the wheel size); random when absent. */
  readonly start?: number;
}

/** A target's weight, as Kong's `targets` schema bounds it (`kong/db/schema/entities/targets.lua`). */
const MAX_WEIGHT = 65535;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export class RoundRobinBalancer implements Balancer {
  /** Targets with a weight above 0, in the order given; the wheel holds indexes into this list. */
  readonly #targets: readonly BalancerTarget[];
  /** Slot → target index: one turn of the wheel is one cycle of picks. */
  readonly #wheel: Uint32Array;
  /** The slots of target t, ascending, are `#slots[#firstSlot[t]]` up to `#slots[#firstSlot[t + 1]]`. */
  readonly #slots: Uint32Array;
  readonly #firstSlot: Uint32Array;
  /** The next slot to examine. */
  #pointer: number;

  constructor(targets: readonly BalancerTarget[], options: RoundRobinOptions = {}) {
    for (const target of targets) {
      if (!Number.isInteger(target.weight) || target.weight < 0 || target.weight > MAX_WEIGHT) {
        throw new RangeError(`target ${target.id}: weight must be an integer from 0 to ${MAX_WEIGHT}, not ${target.weight}`);
      }
    }
    this.#targets = targets.filter((target) => target.weight > 0);
    const divisor = this.#targets.reduce((d, target) => gcd(d, target.weight), 0);
    const points = this.#targets.map((target) => target.weight / divisor);
    this.#wheel = spreadWheel(points);
    this.#firstSlot = new Uint32Array(points.length + 1);
    for (let t = 0; t < points.length; t++) this.#firstSlot[t + 1] = this.#firstSlot[t]! + points[t]!;
    this.#slots = new Uint32Array(this.#wheel.length);
    const filled = this.#firstSlot.slice(0, -1);
    for (let slot = 0; slot < this.#wheel.length; slot++) this.#slots[filled[this.#wheel[slot]!]!++] = slot;

    const size = this.#wheel.length;
    const start = options.start ?? Math.floor(Math.random() * size);
    if (!Number.isSafeInteger(start)) throw new RangeError(`start must be an integer, not ${start}`);
    this.#pointer = size === 0 ? 0 : ((start % size) + size) % size;
  }

  /** Slots on the wheel: the number of picks in one cycle when every target is usable. */
  get wheelSize(): number {
    return this.#wheel.length;
  }

  /**
   * Next target for a request, skipping ids for which `usable(id)` is false (unhealthy, or already
   * tried in this request); null when none is usable. `hash` is ignored, as Kong's round-robin ignores it.
   */
  pick(usable?: (id: string) => boolean, _hash?: string | null): BalancerTarget | null {
    const size = this.#wheel.length;
    if (size === 0) return null;
    // The hot path: walk the wheel from the pointer. Slots are spread, so when most weight is usable
    // this stops within a slot or two. The walk is cut at one slot per target: the wheel can hold up
    // to 65535 slots per target, and an upstream whose targets are all down must not cost that many
    // calls to `usable` on every request.
    const targets = this.#targets;
    let slot = this.#pointer;
    for (let step = 0; step < targets.length; step++) {
      const target = targets[this.#wheel[slot]!]!;
      slot = slot + 1 === size ? 0 : slot + 1;
      if (usable === undefined || usable(target.id)) {
        this.#pointer = slot;
        return target;
      }
    }
    if (targets.length === size) return null; // that walk was a whole turn
    return this.#pickAfterSkips(slot, usable);
  }

  /** Round-robin keeps no count of requests (nor does Kong's). */
  started(_id: string): void {}

  /** Nor of their latency. */
  finished(_id: string, _latencyMs: number | null): void {}

  /**
   * The result of walking on from `from` slot by slot, in one pass over the targets: each usable
   * target's next slot is found by binary search, and the nearest one wins.
   */
  #pickAfterSkips(from: number, usable: ((id: string) => boolean) | undefined): BalancerTarget | null {
    const size = this.#wheel.length;
    let best = -1;
    let bestDistance = size;
    for (let t = 0; t < this.#targets.length; t++) {
      if (usable !== undefined && !usable(this.#targets[t]!.id)) continue;
      const first = this.#firstSlot[t]!;
      const end = this.#firstSlot[t + 1]!;
      let lo = first;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.#slots[mid]! < from) lo = mid + 1;
        else hi = mid;
      }
      const next = this.#slots[lo === end ? first : lo]!; // none at or after `from`: wrap around
      const distance = next >= from ? next - from : next + size - from;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = next;
      }
    }
    if (best < 0) return null;
    this.#pointer = best + 1 === size ? 0 : best + 1;
    return this.#targets[this.#wheel[best]!]!;
  }
}

/**
 * A wheel on which target t has `points[t]` slots, spread evenly: the k-th slot of t sits at
 * (k + ½) / points[t] of the way round, and the slots are laid out in that order (ties to the
 * earlier target). Built by merging the targets' sequences with a binary heap, O(W log N).
 */
function spreadWheel(points: readonly number[]): Uint32Array {
  const total = points.reduce((sum, p) => sum + p, 0);
  const wheel = new Uint32Array(total);
  const taken = new Uint32Array(points.length); // slots of each target laid out so far
  // Is the next slot of a before that of b? Compares (2·taken[a] + 1) / (2·points[a]) with the same
  // for b by cross-multiplying, exact in doubles (at most 2·65535·65535).
  const before = (a: number, b: number): boolean => {
    const left = (2 * taken[a]! + 1) * points[b]!;
    const right = (2 * taken[b]! + 1) * points[a]!;
    return left < right || (left === right && a < b);
  };
  const heap = points.map((_, t) => t);
  const siftDown = (from: number): void => {
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < heap.length && before(heap[l]!, heap[least]!)) least = l;
      if (r < heap.length && before(heap[r]!, heap[least]!)) least = r;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  };
  for (let i = (heap.length >>> 1) - 1; i >= 0; i--) siftDown(i);
  for (let slot = 0; slot < total; slot++) {
    const t = heap[0]!;
    wheel[slot] = t;
    taken[t]!++;
    if (taken[t] === points[t]) {
      const last = heap.pop()!;
      if (heap.length > 0) heap[0] = last;
    }
    siftDown(0);
  }
  return wheel;
}
