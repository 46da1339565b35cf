/**
 * Least connections over an upstream's targets, as Kong's `kong/runloop/balancer/least_connections.lua`:
 * - each target sits in a binary min-heap keyed by (connections + 1) / weight (`insertAddr`,
 *   `updateConnectionCount`); the `+ 1` makes the heaviest target win on an idle upstream, and
 *   spreads requests in proportion to weight while they last (weights 20 and 50 → 20 and 50 of 70
 *   requests that are all still open);
 * - a pick is the top of the heap. Ties are broken by where the entries sit in the heap, which is the
 *   history of its operations, so the heap here is Kong's (Tieske's `binaryheap.minUnique`, the one
 *   Kong uses), operation for operation: insert at the bottom and bubble up, update in place then
 *   bubble up and sink down, pop by moving the last entry to the top, all with a strict `<`, the left
 *   child first. The same targets in the same order and the same calls give the same picks as Kong;
 * - a target `usable` rejects is handled as Kong handles one already tried by the request
 *   (`handle.failedAddresses` in `getPeer`): popped off the top, and once a usable one is found,
 *   pushed back in the order popped (each at the bottom, bubbling up);
 * - `started` counts a request (Kong counts it in `getPeer` when it hands out the address) and
 *   `finished` takes it off (Kong's `release`, called from the log phase, and before a retry picks).
 *
 * Not reproduced:
 * - Kong takes an unhealthy target out of the heap and rebuilds the heap whenever health changes
 *   (`setAddressStatus` → `afterHostUpdate`). Here health is `usable`, asked on every pick, so an
 *   unhealthy target stays in the heap and is popped and pushed back like a tried one. The pick is
 *   the same least-loaded usable target; only the order among targets of equal load may differ from
 *   Kong's after a health change;
 * - when every target has been tried, Kong's retry starts over at the top of the heap; this answers
 *   null, and the caller may pick again with only health in `usable` to do as Kong does;
 * - a target of weight 0 sits in Kong's heap at (c + 1) / 0 = ∞, and Kong hands it out once every
 *   other one is tried. It sits in this heap the same way (so that the other entries sit where they sit
 *   in Kong's), but is never picked.
 */

import { type Balancer, type BalancerTarget, indexTargets } from './balancer.js';

export class LeastConnectionsBalancer implements Balancer {
  readonly #targets: readonly BalancerTarget[];
  readonly #byId: Map<string, number>;
  /** Requests started and not finished, per target. */
  readonly #connections: Float64Array;
  // The heap, 1-based as in Lua: #values[pos] is the key of the target #payloads[pos], and
  // #reverse[target] its position (0 when not in the heap).
  readonly #values: Float64Array;
  readonly #payloads: Uint32Array;
  readonly #reverse: Uint32Array;
  #size = 0;
  /** Targets popped during a pick, to push back. */
  readonly #popped: Uint32Array;

  constructor(targets: readonly BalancerTarget[]) {
    this.#byId = indexTargets(targets);
    this.#targets = targets;
    const n = targets.length;
    this.#connections = new Float64Array(n);
    this.#values = new Float64Array(n + 1);
    this.#payloads = new Uint32Array(n + 1);
    this.#reverse = new Uint32Array(n);
    this.#popped = new Uint32Array(n);
    // afterHostUpdate: every target inserted in order, with (0 + 1) / weight.
    for (let t = 0; t < n; t++) this.#insert(this.#key(t), t);
  }

  /** Requests counted as open on `id` (0 for an unknown id). */
  connections(id: string): number {
    const t = this.#byId.get(id);
    return t === undefined ? 0 : this.#connections[t]!;
  }

  pick(usable?: (id: string) => boolean, _hash?: string | null): BalancerTarget | null {
    let popped = 0;
    let found = -1;
    while (this.#size > 0) {
      const t = this.#payloads[1]!;
      if (this.#values[1] === Infinity) break; // only targets of weight 0 are left
      if (usable === undefined || usable(this.#targets[t]!.id)) {
        found = t;
        break;
      }
      this.#popped[popped++] = t;
      this.#remove(1);
    }
    for (let i = 0; i < popped; i++) {
      const t = this.#popped[i]!;
      this.#insert(this.#key(t), t);
    }
    return found < 0 ? null : this.#targets[found]!;
  }

  started(id: string): void {
    this.#add(id, 1);
  }

  finished(id: string, _latencyMs: number | null): void {
    this.#add(id, -1);
  }

  #add(id: string, delta: number): void {
    const t = this.#byId.get(id);
    if (t === undefined) return;
    // Kong's count never goes below 0 because each release follows a getPeer; a finished() without
    // its started() is not allowed to make a target look better than idle.
    this.#connections[t] = Math.max(0, this.#connections[t]! + delta);
    this.#update(this.#reverse[t]!, this.#key(t));
  }

  #key(t: number): number {
    return (this.#connections[t]! + 1) / this.#targets[t]!.weight;
  }

  // binaryheap.lua, with its 1-based positions.

  #swap(a: number, b: number): void {
    const pa = this.#payloads[a]!;
    const pb = this.#payloads[b]!;
    this.#reverse[pa] = b;
    this.#reverse[pb] = a;
    this.#payloads[a] = pb;
    this.#payloads[b] = pa;
    const va = this.#values[a]!;
    this.#values[a] = this.#values[b]!;
    this.#values[b] = va;
  }

  #bubbleUp(from: number): void {
    const values = this.#values;
    let pos = from;
    while (pos > 1) {
      const parent = pos >>> 1;
      if (!(values[pos]! < values[parent]!)) break;
      this.#swap(parent, pos);
      pos = parent;
    }
  }

  #sinkDown(from: number): void {
    const values = this.#values;
    const last = this.#size;
    let pos = from;
    for (;;) {
      let min = pos;
      const child = 2 * pos;
      for (let c = child; c <= child + 1; c++) if (c <= last && values[c]! < values[min]!) min = c;
      if (min === pos) return;
      this.#swap(pos, min);
      pos = min;
    }
  }

  #insert(value: number, t: number): void {
    const pos = ++this.#size;
    this.#reverse[t] = pos;
    this.#payloads[pos] = t;
    this.#values[pos] = value;
    this.#bubbleUp(pos);
  }

  #remove(pos: number): void {
    const last = this.#size;
    if (pos < last) {
      this.#swap(pos, last);
      this.#erase(last);
      this.#bubbleUp(pos);
      this.#sinkDown(pos);
    } else if (pos === last) {
      this.#erase(last);
    }
  }

  #erase(pos: number): void {
    this.#reverse[this.#payloads[pos]!] = 0;
    this.#size--;
  }

  #update(pos: number, value: number): void {
    if (pos === 0) return; // not in the heap
    this.#values[pos] = value;
    if (pos > 1) this.#bubbleUp(pos);
    if (pos < this.#size) this.#sinkDown(pos);
  }
}
