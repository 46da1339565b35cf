import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BalancerTarget, RoundRobinBalancer } from './round-robin.js';

const targets = (weights: Record<string, number>): BalancerTarget[] => Object.entries(weights).map(([id, weight]) => ({ id, weight }));

function picks(balancer: RoundRobinBalancer, n: number, usable?: (id: string) => boolean): (string | null)[] {
  return Array.from({ length: n }, () => balancer.pick(usable)?.id ?? null);
}

function counts(ids: readonly (string | null)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[String(id)] = (out[String(id)] ?? 0) + 1;
  return out;
}

/** mulberry32: a small seeded generator, so the randomised cases are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RoundRobinBalancer', () => {
  it('builds the smallest wheel: weights divided by their gcd, weight 0 left off', () => {
    assert.equal(new RoundRobinBalancer(targets({ a: 100, b: 50, c: 0 })).wheelSize, 3);
    assert.equal(new RoundRobinBalancer(targets({ a: 100, b: 99 })).wheelSize, 199);
    assert.equal(new RoundRobinBalancer(targets({ a: 7 })).wheelSize, 1);
  });

  it('picks 100/50/0 as 2:1:0 over every cycle, from any start', () => {
    for (let start = 0; start < 3; start++) {
      const balancer = new RoundRobinBalancer(targets({ a: 100, b: 50, c: 0 }), { start });
      for (let cycle = 0; cycle < 4; cycle++) assert.deepEqual(counts(picks(balancer, 3)), { a: 2, b: 1 }, `start ${start}`);
    }
  });

  it('interleaves the picks instead of running each target in a block', () => {
    assert.deepEqual(picks(new RoundRobinBalancer(targets({ a: 100, b: 50 }), { start: 0 }), 6), ['a', 'b', 'a', 'a', 'b', 'a']);
    assert.deepEqual(picks(new RoundRobinBalancer(targets({ a: 3, b: 2 }), { start: 0 }), 5), ['a', 'b', 'a', 'b', 'a']);
    assert.deepEqual(picks(new RoundRobinBalancer(targets({ a: 1, b: 1, c: 1 }), { start: 0 }), 6), ['a', 'b', 'c', 'a', 'b', 'c']);
    // 7:3 — the lighter target never comes twice in a row, the heavier at most three times.
    const seq = picks(new RoundRobinBalancer(targets({ a: 70, b: 30 }), { start: 0 }), 20).join('');
    assert.doesNotMatch(seq, /bb|aaaa/);
    assert.deepEqual(counts([...seq.slice(0, 10)]), { a: 7, b: 3 });
  });

  it('takes the start modulo the wheel, negative ones too', () => {
    const from = (start: number) => picks(new RoundRobinBalancer(targets({ a: 1, b: 1, c: 1 }), { start }), 3).join('');
    assert.equal(from(1), 'bca');
    assert.equal(from(4), 'bca');
    assert.equal(from(-1), 'cab');
  });

  it('starts at a random slot when no start is given', () => {
    const firsts = new Set(Array.from({ length: 64 }, () => new RoundRobinBalancer(targets({ a: 1, b: 1 })).pick()?.id));
    assert.deepEqual([...firsts].sort(), ['a', 'b']);
  });

  it('skips an unusable target and keeps the proportions of the others', () => {
    const balancer = new RoundRobinBalancer(targets({ a: 100, b: 50, c: 25, d: 0 }), { start: 2 });
    const usable = (id: string) => id !== 'b';
    // Without b, one cycle is 4 + 1 picks: a four times, c once, on every cycle.
    for (let cycle = 0; cycle < 5; cycle++) assert.deepEqual(counts(picks(balancer, 5, usable)), { a: 4, c: 1 });
  });

  it('skips what this request already tried', () => {
    const balancer = new RoundRobinBalancer(targets({ a: 1, b: 1, c: 1 }), { start: 0 });
    const tried = new Set<string>();
    for (let attempt = 0; attempt < 3; attempt++) tried.add(balancer.pick((id) => !tried.has(id))!.id);
    assert.deepEqual([...tried].sort(), ['a', 'b', 'c']);
    assert.equal(balancer.pick((id) => !tried.has(id)), null);
  });

  it('answers null when no target with a weight is usable, and never picks weight 0', () => {
    const balancer = new RoundRobinBalancer(targets({ a: 100, b: 50, z: 0 }), { start: 0 });
    assert.equal(balancer.pick(() => false), null);
    assert.equal(balancer.pick((id) => id === 'z'), null);
    assert.equal(new RoundRobinBalancer(targets({ z: 0 })).pick(), null);
    assert.equal(new RoundRobinBalancer([]).pick(), null);
    assert.equal(new RoundRobinBalancer([]).wheelSize, 0);
    // Still usable afterwards: a null pick leaves the pointer where it was.
    assert.deepEqual(picks(balancer, 3), ['a', 'b', 'a']);
  });

  it('always picks a single target while it is usable', () => {
    const balancer = new RoundRobinBalancer(targets({ only: 10 }));
    assert.deepEqual(picks(balancer, 3), ['only', 'only', 'only']);
    assert.equal(balancer.pick(() => false), null);
  });

  it('returns the target objects it was given', () => {
    const list = targets({ a: 1 });
    assert.equal(new RoundRobinBalancer(list).pick(), list[0]);
  });

  it('bounds the calls to usable on a large wheel: all down, or only a light target up', () => {
    let calls = 0;
    const balancer = new RoundRobinBalancer(targets({ a: 65535, b: 65534, c: 1 }), { start: 0 });
    assert.equal(balancer.wheelSize, 131070);
    assert.equal(balancer.pick(() => (calls++, false)), null);
    assert.ok(calls <= 6, `${calls} calls`);
    calls = 0;
    assert.equal(balancer.pick((id) => (calls++, id === 'c'))?.id, 'c');
    assert.ok(calls <= 6, `${calls} calls`);
  });

  it('picks as a slot-by-slot walk of the wheel would, whatever is usable on each pick', () => {
    const random = seeded(42);
    for (let round = 0; round < 200; round++) {
      const list = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => ({ id: `t${i}`, weight: Math.floor(random() * 12) }));
      const start = Math.floor(random() * 1000);
      const balancer = new RoundRobinBalancer(list, { start });
      const size = balancer.wheelSize;
      // The wheel, read back by picking once around with everything usable.
      const wheel = picks(new RoundRobinBalancer(list, { start }), size);
      let pointer = 0;
      const walk = (usable: (id: string) => boolean): string | null => {
        for (let step = 0; step < size; step++) {
          const id = wheel[(pointer + step) % size] ?? null;
          if (id !== null && usable(id)) {
            pointer = (pointer + step + 1) % size;
            return id;
          }
        }
        return null;
      };
      for (let n = 0; n < 30; n++) {
        const down = new Set(list.filter(() => random() < 0.5).map((t) => t.id));
        const usable = (id: string) => !down.has(id);
        assert.equal(balancer.pick(usable)?.id ?? null, walk(usable), `round ${round}, pick ${n}`);
      }
    }
  });

  it('refuses weights Kong refuses', () => {
    for (const weight of [-1, 1.5, 65536, Number.NaN]) assert.throws(() => new RoundRobinBalancer([{ id: 'a', weight }]), RangeError, String(weight));
    assert.throws(() => new RoundRobinBalancer(targets({ a: 1 }), { start: 0.5 }), RangeError);
  });
});
