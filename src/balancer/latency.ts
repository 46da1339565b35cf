/**
 * The `latency` algorithm, as Kong's `kong/runloop/balancer/latency.lua` (an EWMA after Finagle's
 * PeakEwma, without its peak or its pending-request factor):
 * - each target has an EWMA of its round-trip times and the time it was last touched. A sample r
 *   taken Δt after the last touch moves it as ewma · w + r · (1 − w), w = e^(−Δt / 10 s)
 *   (`decay_ewma`, DECAY_TIME = 10): the weight of a new sample grows with the time since the last
 *   one, so a burst of samples moves the average no more than one sample after the same time would;
 * - a pick scores every target as its EWMA decayed to now, ewma · e^(−Δt / 10 s) (the same formula with
 *   r = 0, `get_or_update_ewma(self, address, 0, false)`), divided by its weight, and takes the lowest
 *   (`pick_and_score`). An idle target's score thus falls towards 0 and it gets traffic again.
 *   PICK_SET_SIZE = 2 reads like "two random choices", but Kong's `getPeer` scores all the candidates
 *   not yet tried (`k = filtered_addresses_num`), so the pick is the lowest score over all of them;
 * - open requests count for nothing (`started` does nothing): until a response comes back, every
 *   request goes to the same target;
 * - a new balancer starts every target at EWMA 0, touched now (`afterHostUpdate` gives each address
 *   without an EWMA the "slow start" value, the mean of the EWMAs of the available addresses, counting
 *   0 for those without one: 0 for a new balancer). Kong builds a new balancer whenever the
 *   upstream's targets change, so all history is dropped then, as it is here with a new instance;
 * - `finished` records `latencyMs` as the sample. Kong's sample is `upstream_connect_time +
 *   upstream_response_time` (to the response's last byte, the connect time counted twice), each read
 *   with `tonumber(...) or 0`, once per request (`afterBalance`, log phase) for its last try: a
 *   request that failed without a time (or was retried, which makes those variables lists that do
 *   not parse) records 0. `finished(id, null)` does the same: a sample of 0 ms, which draws traffic
 *   to a target that fails fast, as in Kong (it is health checks that take such a target out);
 *   `finished` for a target without an EWMA (after `setAvailable(id, false)`) starts it at the
 *   sample, as Kong's does (its `last_touched_at` is 0, so w = 0).
 * - `setAvailable` is Kong's reaction to a health change (`setAddressStatus` → `afterHostUpdate`): a
 *   target marked unavailable loses its EWMA and is not picked; when it is available again it starts
 *   at the slow-start mean above, not at 0, so that it is not flooded. Calling it is optional: a
 *   target that `usable` rejects is skipped all the same, but keeps its EWMA.
 *
 * Not reproduced: Kong walks its EWMA table with `pairs`, whose order is that of a hash of the
 * addresses' table pointers, so equal scores go to an unspecified target; here they go to the first in
 * the order given. A target of weight 0 is never picked (Kong's score for it is 0 / 0 = NaN until its
 * first sample, which makes it win whenever `pairs` puts it first). With a single available target
 * Kong hands it out even when it was already tried; here `usable` decides.
 */

import { type Balancer, type BalancerTarget, indexTargets } from './balancer.js';

export interface LatencyOptions {
  /** The clock, in milliseconds (default `performance.now()`). */
  readonly now?: () => number;
}

/** Kong's DECAY_TIME, 10 s, in milliseconds. */
export const DECAY_TIME_MS = 10_000;

function decay(ewma: number, lastTouchedAt: number, rtt: number, now: number): number {
  const td = now - lastTouchedAt;
  const weight = Math.exp(-(td > 0 ? td : 0) / DECAY_TIME_MS);
  return ewma * weight + rtt * (1.0 - weight);
}

export class LatencyBalancer implements Balancer {
  readonly #targets: readonly BalancerTarget[];
  readonly #byId: Map<string, number>;
  readonly #now: () => number;
  /** Kong's `ewma` and `ewma_last_touched_at` tables: `#present[t]` when target t has an entry. */
  readonly #ewma: Float64Array;
  readonly #touched: Float64Array;
  readonly #present: Uint8Array;
  /** Kong's `address.available`, as set by setAvailable. */
  readonly #available: Uint8Array;

  constructor(targets: readonly BalancerTarget[], options: LatencyOptions = {}) {
    this.#byId = indexTargets(targets);
    this.#targets = targets;
    this.#now = options.now ?? (() => performance.now());
    const n = targets.length;
    this.#ewma = new Float64Array(n);
    this.#touched = new Float64Array(n);
    this.#present = new Uint8Array(n);
    this.#available = new Uint8Array(n).fill(1);
    this.#afterHostUpdate();
  }

  /** A target's score now, its decayed EWMA (ms) divided by its weight; null when it has no EWMA. */
  score(id: string): number | null {
    const t = this.#byId.get(id);
    if (t === undefined || this.#present[t] === 0) return null;
    return decay(this.#ewma[t]!, this.#touched[t]!, 0, this.#now()) / this.#targets[t]!.weight;
  }

  pick(usable?: (id: string) => boolean, _hash?: string | null): BalancerTarget | null {
    const now = this.#now();
    let best = -1;
    let bestScore = 0;
    for (let t = 0; t < this.#targets.length; t++) {
      const target = this.#targets[t]!;
      if (this.#present[t] === 0 || target.weight === 0) continue;
      const score = decay(this.#ewma[t]!, this.#touched[t]!, 0, now) / target.weight;
      // Only a strictly better score can change the pick, so `usable` is asked only then.
      if (best >= 0 && !(score < bestScore)) continue;
      if (usable !== undefined && !usable(target.id)) continue;
      best = t;
      bestScore = score;
    }
    return best < 0 ? null : this.#targets[best]!;
  }

  /** Open requests do not count in Kong's latency balancer. */
  started(_id: string): void {}

  finished(id: string, latencyMs: number | null): void {
    const t = this.#byId.get(id);
    if (t === undefined) return;
    const rtt = latencyMs !== null && Number.isFinite(latencyMs) && latencyMs > 0 ? latencyMs : 0;
    const now = this.#now();
    this.#ewma[t] = this.#present[t] === 0 ? rtt : decay(this.#ewma[t]!, this.#touched[t]!, rtt, now);
    this.#touched[t] = now;
    this.#present[t] = 1;
  }

  /** A health change (optional, see above): unavailable drops the EWMA, available again starts it at the mean. */
  setAvailable(id: string, available: boolean): void {
    const t = this.#byId.get(id);
    if (t === undefined || (this.#available[t] === 1) === available) return;
    this.#available[t] = available ? 1 : 0;
    this.#afterHostUpdate();
  }

  /** Kong's `afterHostUpdate` with `calculate_slow_start_ewma`. */
  #afterHostUpdate(): void {
    const n = this.#targets.length;
    let total = 0;
    let count = 0;
    for (let t = 0; t < n; t++) {
      if (this.#available[t] === 0) {
        this.#present[t] = 0;
        continue;
      }
      total += this.#present[t] === 1 ? this.#ewma[t]! : 0;
      count++;
    }
    if (count === 0) return;
    const slowStart = total / count;
    const now = this.#now();
    for (let t = 0; t < n; t++) {
      if (this.#available[t] === 0 || this.#present[t] === 1) continue;
      this.#ewma[t] = slowStart;
      this.#touched[t] = now;
      this.#present[t] = 1;
    }
  }
}
