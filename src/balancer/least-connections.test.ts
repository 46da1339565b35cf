import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BalancerTarget } from './balancer.js';
import { LeastConnectionsBalancer } from './least-connections.js';

const targets = (weights: readonly number[]): BalancerTarget[] => weights.map((weight, i) => ({ id: `t${i}`, weight }));

/** n requests that stay open: each pick is counted as started and never finished. */
function openPicks(balancer: LeastConnectionsBalancer, n: number): string[] {
  return Array.from({ length: n }, () => {
    const target = balancer.pick();
    assert.ok(target !== null);
    balancer.started(target.id);
    return target.id;
  });
}

function counts(ids: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = (out[id] ?? 0) + 1;
  return out;
}

describe('LeastConnectionsBalancer', () => {
  it('honours weights while requests stay open (Kong’s spec: 20 and 50 of 70)', () => {
    assert.deepEqual(counts(openPicks(new LeastConnectionsBalancer(targets([20, 50])), 70)), { t0: 20, t1: 50 });
    assert.deepEqual(counts(openPicks(new LeastConnectionsBalancer(targets([1, 2, 3])), 60)), { t0: 10, t1: 20, t2: 30 });
  });

  it('picks the heaviest target first on an idle upstream', () => {
    // (0 + 1) / 50 < (0 + 1) / 20: without Kong's + 1 every idle target would tie at 0.
    assert.equal(new LeastConnectionsBalancer(targets([20, 50])).pick()?.id, 't1');
    assert.equal(new LeastConnectionsBalancer(targets([5, 5, 9, 1])).pick()?.id, 't2');
  });

  it('breaks ties as Kong’s heap does', () => {
    // Three targets of weight 100, inserted in order: all keys 0.01, no swap (the heap compares with
    // a strict <), heap [t0 t1 t2]. Each pick raises the top's key and sinks it below the smaller child,
    // the left one on a tie, never below an equal one:
    //   t0 → .02 sinks below t1 → [t1 t0 t2];  t1 → .02 sinks below t2 (.01) → [t2 t0 t1];
    //   t2 → .02, children .02 .02: stays → t2 again → .03 sinks below t0 → [t0 t2 t1];
    //   t0 → .03 sinks below t1 (.02) → [t1 t2 t0];  t1 → .03: stays → t1 again → .04 → [t2 t1 t0];
    //   t2 → .04 sinks below t0 (.03) → [t0 t1 t2];  t0 → .04 stays → t0 → .05 → [t1 t0 t2]; …
    // The same sequence as Kong's least_connections.lua gives (run under LuaJIT with binaryheap 0.4).
    const picks = openPicks(new LeastConnectionsBalancer(targets([100, 100, 100])), 12);
    assert.deepEqual(picks.join(' '), 't0 t1 t2 t2 t0 t1 t1 t2 t0 t0 t1 t2');
    assert.deepEqual(openPicks(new LeastConnectionsBalancer(targets([20, 50])), 14).join(' '), 't1 t1 t0 t1 t1 t1 t0 t1 t1 t0 t1 t1 t1 t0');
  });

  it('sends new requests to the target whose requests finished', () => {
    const b = new LeastConnectionsBalancer(targets([10, 10, 10]));
    openPicks(b, 6);
    assert.deepEqual([b.connections('t0'), b.connections('t1'), b.connections('t2')], [2, 2, 2]);
    b.finished('t1', 12);
    b.finished('t1', null);
    assert.equal(b.connections('t1'), 0);
    assert.deepEqual(openPicks(b, 2), ['t1', 't1']);
    assert.deepEqual([b.connections('t0'), b.connections('t1'), b.connections('t2')], [2, 2, 2]);
  });

  it('skips unusable targets as Kong skips tried ones, and puts them back', () => {
    // The sequence of Kong's spec harness: 4 targets of weight 10, three requests open on t0 t1 t3;
    // the third fails and retries (Kong releases t3, then pops it as tried) → t2; fails again → t0
    // (t2 and t3 tried, t0 and t1 at one request each, t0 on top); the first request ends → a new
    // one gets t3. Kong gives t0 t1 t3, t2, t0, t3 for these calls.
    const b = new LeastConnectionsBalancer(targets([10, 10, 10, 10]));
    assert.deepEqual(openPicks(b, 3), ['t0', 't1', 't3']);
    const tried = new Set(['t3']);
    b.finished('t3', null);
    const retry = b.pick((id) => !tried.has(id))!;
    assert.equal(retry.id, 't2');
    b.started(retry.id);
    tried.add(retry.id);
    b.finished(retry.id, null);
    const again = b.pick((id) => !tried.has(id))!;
    assert.equal(again.id, 't0');
    b.started(again.id);
    b.finished('t0', 5); // the first request ends
    assert.equal(b.pick()?.id, 't3');
  });

  it('picks the least loaded usable target whatever is unusable', () => {
    const b = new LeastConnectionsBalancer(targets([1, 2, 3, 4, 5]));
    let state = 7;
    const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    const open = [0, 0, 0, 0, 0];
    for (let n = 0; n < 500; n++) {
      const down = new Set(['t0', 't1', 't2', 't3', 't4'].filter(() => random() < 0.4));
      const t = b.pick((id) => !down.has(id));
      const scores = [0, 1, 2, 3, 4].filter((i) => !down.has(`t${i}`)).map((i) => (open[i]! + 1) / (i + 1));
      if (scores.length === 0) {
        assert.equal(t, null);
        continue;
      }
      assert.ok(t !== null);
      const i = Number(t.id.slice(1));
      assert.equal((open[i]! + 1) / (i + 1), Math.min(...scores));
      if (random() < 0.6) {
        b.started(t.id);
        open[i]!++;
      }
      const j = Math.floor(random() * 5);
      if (random() < 0.3 && open[j]! > 0) {
        b.finished(`t${j}`, null);
        open[j]!--;
      }
    }
  });

  it('answers null when nothing is usable, and never picks a target of weight 0', () => {
    const b = new LeastConnectionsBalancer(targets([0, 10, 0]));
    assert.equal(b.pick()?.id, 't1');
    assert.equal(b.pick((id) => id !== 't1'), null);
    assert.equal(b.pick(() => false), null);
    assert.equal(new LeastConnectionsBalancer(targets([0])).pick(), null);
    assert.equal(new LeastConnectionsBalancer([]).pick(), null);
    // Still consistent afterwards.
    assert.deepEqual(openPicks(b, 3), ['t1', 't1', 't1']);
  });

  it('ignores unknown ids and does not count below zero', () => {
    const b = new LeastConnectionsBalancer(targets([10, 10]));
    b.started('nope');
    b.finished('nope', null);
    b.finished('t0', null);
    assert.equal(b.connections('t0'), 0);
    assert.equal(b.connections('nope'), 0);
    assert.deepEqual(openPicks(b, 2), ['t0', 't1']);
  });

  it('returns the target objects it was given, ignores the hash, refuses bad weights', () => {
    const list = targets([3]);
    assert.equal(new LeastConnectionsBalancer(list).pick(undefined, 'h'), list[0]);
    assert.throws(() => new LeastConnectionsBalancer(targets([1.5])), RangeError);
    assert.throws(() => new LeastConnectionsBalancer([{ id: 'a', weight: 1 }, { id: 'a', weight: 1 }]), RangeError);
  });
});
