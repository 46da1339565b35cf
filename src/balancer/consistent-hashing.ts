/**
 * Consistent hashing over an upstream's targets, built and walked as Kong's
 * `kong/runloop/balancer/consistent_hashing.lua` does, so that the same targets (keys and weights),
 * `slots` and value to hash pick the same target as Kong.
 *
 * The ring ("continuum", `afterHostUpdate`):
 * - it has `slots` positions, 1 to `slots`, or 1000 when `slots` is below 1000 (`new`: the size is
 *   kept only from MIN_CONTINUUM_SIZE = 1000 to 2^32, else DEFAULT_CONTINUUM_SIZE = 1000);
 * - a target of weight w gets floor(w / W · n · 160) points, W being the sum of all weights and n the
 *   number of targets, those of weight 0 included, and at least one point when w > 0
 *   (SERVER_POINTS = 160: equal weights give 160 points each, whatever n);
 * - its i-th point is at xxhash32("<ip>:<:port> <i>") mod slots + 1, for i = 1, 2, …: Kong builds the
 *   string as `ip .. ":" .. (":" .. port) .. " " .. i`, so the key `10.0.0.1:8000` hashes
 *   `10.0.0.1::8000 1`, `10.0.0.1::8000 2`, … (the double colon is Kong's);
 * - targets are placed in order of host (byte order), then port (numerically). A point landing on a
 *   taken position is dropped and the target gets one more point instead (`entries + 1`), so the
 *   targets placed first keep their positions;
 * - should a target need more than `slots` tries (more points asked for than the ring can hold, e.g.
 *   too many targets for 1000 slots), Kong logs "consistent hashing balancer requires more entries"
 *   and keeps the ring it had, empty for a new balancer: every pick then finds no target. So does
 *   this one (`complete` is false).
 *
 * A pick (`getPeer`): the value to hash gives position h = xxhash32(value) mod slots + 1; the target is
 * the owner of the first point at or below h, walking down (h, h − 1, …, 1, then slots, slots − 1, …)
 * past the points of unusable targets. Kong's walk stops when it comes back to h + 1, so position h + 1
 * itself is never examined: a request whose only usable point sits right above h finds no target.
 * This walk does the same (it only visits positions that hold points, and asks `usable` once per
 * target). When h is the last position and no point is usable Kong's walk never ends (in practice its
 * balancer reports itself unhealthy before walking); this one answers null. A request without a value
 * to hash is hashed as the empty string, as Kong's balancer does (`get_value_to_hash(upstream, ctx)
 * or ""`, `kong/runloop/balancer/init.lua`), so all such requests go to the same target. The value is
 * hashed as UTF-8; Kong hashes the bytes nginx holds, so a value read from raw bytes (a header, a
 * cookie) should be decoded as UTF-8, not latin1, to hash the same (invalid UTF-8 cannot be matched).
 *
 * Kong's ring holds addresses: a target named by a host name has one per DNS record, each of the
 * target's weight, while n still counts targets. Here each BalancerTarget is one address (the
 * gateway resolves names elsewhere), so the ring matches Kong's for targets given by IP address.
 */

import { type Balancer, type BalancerTarget, indexTargets } from './balancer.js';
import { xxhash32String } from './xxhash32.js';

export interface ConsistentHashingOptions {
  /** The upstream's `slots` (Kong's default 10000): the ring's size, 1000 when below 1000. */
  readonly slots: number;
}

const MIN_CONTINUUM_SIZE = 1000;
const DEFAULT_CONTINUUM_SIZE = 1000;
const MAX_CONTINUUM_SIZE = 2 ** 32;
const SERVER_POINTS = 160;

/** A key split as Kong's address is: host (`ip`) and port, the port absent when the key has none. */
function splitKey(key: string): { host: string; port: number | null } {
  const match = /^(.*):(\d+)$/.exec(key);
  return match === null ? { host: key, port: null } : { host: match[1]!, port: Number(match[2]) };
}

export class ConsistentHashingBalancer implements Balancer {
  readonly #targets: readonly BalancerTarget[];
  readonly #byId: Map<string, number>;
  /** The ring's size: positions 1 to `#size`. */
  readonly #size: number;
  /** The positions that hold a point, ascending, and the index of the target owning each. */
  readonly #positions: Uint32Array;
  readonly #owners: Uint32Array;
  /** Targets that own at least one point. */
  readonly #owning: number;
  /** `#seen[t] === #pickNumber`: target t was found unusable during the current pick. */
  readonly #seen: Uint32Array;
  #pickNumber = 0;
  /** False when Kong would have given up building the ring (it is then empty). */
  readonly complete: boolean;

  constructor(targets: readonly BalancerTarget[], options: ConsistentHashingOptions) {
    this.#byId = indexTargets(targets);
    const { slots } = options;
    if (!Number.isSafeInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, not ${slots}`);
    this.#targets = targets;
    const size = slots >= MIN_CONTINUUM_SIZE && slots <= MAX_CONTINUUM_SIZE ? slots : DEFAULT_CONTINUUM_SIZE;
    this.#size = size;
    this.#seen = new Uint32Array(targets.length);

    const keys = targets.map((target) => splitKey(target.key ?? target.id));
    const seenKeys = new Set<string>();
    for (const [t, target] of targets.entries()) {
      const k = `${keys[t]!.host}\u0000${keys[t]!.port}`;
      if (seenKeys.has(k)) throw new RangeError(`target ${target.id}: key ${target.key ?? target.id} is given twice`);
      seenKeys.add(k);
    }
    // sort_hosts_and_addresses: by name (Lua's `<` on strings compares bytes), then by port number.
    const order = targets.map((_, t) => t);
    order.sort((a, b) => {
      const ka = keys[a]!;
      const kb = keys[b]!;
      if (ka.host !== kb.host) return ka.host < kb.host ? -1 : 1;
      return (ka.port ?? -1) - (kb.port ?? -1);
    });

    // afterHostUpdate, line by line. Lua numbers are doubles, so the floor below rounds as Kong's does.
    const continuum = new Int32Array(size + 1).fill(-1);
    const totalWeight = targets.reduce((sum, target) => sum + target.weight, 0);
    const targetsCount = targets.length;
    let complete = true;
    let taken = 0;
    build: for (const t of order) {
      const weight = targets[t]!.weight;
      const addrProp = weight / totalWeight;
      let entries = Math.floor(addrProp * targetsCount * SERVER_POINTS);
      if (weight > 0 && entries === 0) entries = 1;
      const { host, port } = keys[t]!;
      const prefix = `${host}:${port === null ? '' : `:${port}`} `;
      let i = 1;
      while (i <= entries) {
        const index = (xxhash32String(prefix + i) % size) + 1;
        if (continuum[index] === -1) {
          continuum[index] = t;
          taken++;
        } else {
          entries++; // "move the problem forward"
        }
        i++;
        if (i > size) {
          complete = false;
          break build;
        }
      }
    }
    this.complete = complete;
    if (!complete) taken = 0;
    this.#positions = new Uint32Array(taken);
    this.#owners = new Uint32Array(taken);
    const owning = new Set<number>();
    for (let position = 1, n = 0; n < taken; position++) {
      const owner = continuum[position]!;
      if (owner === -1) continue;
      this.#positions[n] = position;
      this.#owners[n++] = owner;
      owning.add(owner);
    }
    this.#owning = owning.size;
  }

  /** Positions on the ring (Kong's continuum size). */
  get ringSize(): number {
    return this.#size;
  }

  /** How many points of the ring `id` owns (0 for an unknown id). */
  pointsOf(id: string): number {
    const t = this.#byId.get(id);
    if (t === undefined) return 0;
    let n = 0;
    for (const owner of this.#owners) if (owner === t) n++;
    return n;
  }

  /** The position on the ring a value to hash starts from, 1 to ringSize (Kong's `get_continuum_index`). */
  positionOf(hash: string | null | undefined): number {
    return (xxhash32String(hash ?? '') % this.#size) + 1;
  }

  pick(usable?: (id: string) => boolean, hash?: string | null): BalancerTarget | null {
    const positions = this.#positions;
    const count = positions.length;
    if (count === 0) return null;
    const h = this.positionOf(hash);
    // The last point at or below h; none: the walk wraps to the top of the ring first.
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (positions[mid]! <= h) lo = mid + 1;
      else hi = mid;
    }
    let n = lo === 0 ? count - 1 : lo - 1;
    const pickNumber = this.#nextPickNumber();
    let unusable = 0;
    for (let step = 0; step < count; step++) {
      if (positions[n] === h + 1) return null; // the position Kong's walk stops at, unexamined
      const t = this.#owners[n]!;
      if (this.#seen[t] !== pickNumber) {
        const target = this.#targets[t]!;
        if (usable === undefined || usable(target.id)) return target;
        this.#seen[t] = pickNumber;
        if (++unusable === this.#owning) return null;
      }
      n = n === 0 ? count - 1 : n - 1;
    }
    return null;
  }

  /** Consistent hashing keeps no count of requests (nor does Kong's). */
  started(_id: string): void {}

  /** Nor of their latency. */
  finished(_id: string, _latencyMs: number | null): void {}

  #nextPickNumber(): number {
    if (this.#pickNumber === 0xffffffff) {
      this.#seen.fill(0);
      this.#pickNumber = 0;
    }
    return ++this.#pickNumber;
  }
}
