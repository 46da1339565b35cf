import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BalancerTarget } from './balancer.js';
import { LatencyBalancer } from './latency.js';

const targets = (weights: readonly number[]): BalancerTarget[] => weights.map((weight, i) => ({ id: `t${i}`, weight }));

/** A balancer on a clock that only moves when told to (milliseconds). */
function clocked(weights: readonly number[]): { b: LatencyBalancer; at: (ms: number) => void } {
  let time = 0;
  const b = new LatencyBalancer(targets(weights), { now: () => time });
  return { b, at: (ms) => void (time = ms) };
}

function close(actual: number | null, expected: number, message?: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${actual} ≠ ${expected} ${message ?? ''}`);
}

describe('LatencyBalancer', () => {
  it('starts every target at 0 and sends everything to one until a response comes back', () => {
    const { b } = clocked([100, 100, 100]);
    for (const id of ['t0', 't1', 't2']) assert.equal(b.score(id), 0);
    for (let i = 0; i < 10; i++) {
      const t = b.pick()!;
      assert.equal(t.id, 't0');
      b.started(t.id); // open requests do not count
    }
  });

  it('weighs a sample by the time since the last one: 1 − e^(−Δt / 10 s)', () => {
    const { b, at } = clocked([1, 1]);
    at(10_000);
    b.finished('t0', 100);
    close(b.score('t0'), 100 * (1 - Math.exp(-1)));
    // A second sample at the same instant has no weight at all.
    b.finished('t0', 5000);
    close(b.score('t0'), 100 * (1 - Math.exp(-1)));
    // 5 s later: the EWMA has decayed by e^(−0.5), then takes the new sample with weight 1 − e^(−0.5).
    at(15_000);
    const decayed = 100 * (1 - Math.exp(-1)) * Math.exp(-0.5);
    close(b.score('t0'), decayed);
    b.finished('t0', 40);
    close(b.score('t0'), decayed + 40 * (1 - Math.exp(-0.5)));
  });

  it('picks the target with the lowest latency (Kong’s spec: 70 of 70)', () => {
    const { b, at } = clocked([20, 20]);
    // Two samples each, 10 ms apart: 0.1 + 0.1 s and 0.2 + 0.2 s.
    at(5);
    b.finished('t0', 200);
    b.finished('t1', 400);
    at(15);
    b.finished('t0', 200);
    b.finished('t1', 400);
    for (let i = 0; i < 70; i++) assert.equal(b.pick()?.id, 't0');
  });

  it('moves on from a target once its response was slow (Kong’s spec: one each)', () => {
    const { b, at } = clocked([20, 20]);
    const first = b.pick()!;
    at(10);
    b.finished(first.id, 20_000);
    const second = b.pick()!;
    assert.notEqual(second.id, first.id);
  });

  it('divides the decayed EWMA by the weight', () => {
    const { b, at } = clocked([10, 30]);
    at(1000);
    b.finished('t0', 100);
    b.finished('t1', 200); // twice as slow, three times the weight
    close(b.score('t0'), (100 * (1 - Math.exp(-0.1))) / 10);
    close(b.score('t1'), (200 * (1 - Math.exp(-0.1))) / 30);
    assert.equal(b.pick()?.id, 't1');
  });

  it('lets a slow target decay back into favour while a busy one keeps being measured', () => {
    const { b, at } = clocked([1, 1]);
    at(1000);
    b.finished('t1', 1000); // one slow response
    let time = 1000;
    let sawSlow = -1;
    for (let i = 0; i < 2000 && sawSlow < 0; i++) {
      time += 50;
      at(time);
      const t = b.pick()!;
      if (t.id === 't1') sawSlow = time;
      else b.finished('t0', 50); // t0 answers in 50 ms, every 50 ms
    }
    // t0 converges on 50; t1's 1000 · (1 − e^(−0.1)) ≈ 95.2 decays below t0's score after a few seconds.
    assert.ok(sawSlow > 1000, 'the slow target is picked again');
    assert.ok(sawSlow < 1000 + 60_000, `only after ${sawSlow} ms`);
    const t1At = 1000 * (1 - Math.exp(-0.1)) * Math.exp(-(sawSlow - 1000) / 10_000);
    assert.ok(t1At < 50 + 1e-9, `t1 was back at ${t1At}`);
  });

  it('records a failure (no latency) as a 0 ms sample, as Kong does when it cannot read the time', () => {
    const { b, at } = clocked([1, 1]);
    at(10_000);
    b.finished('t0', 300);
    b.finished('t1', 300);
    at(20_000);
    b.finished('t0', null);
    close(b.score('t0'), 300 * (1 - Math.exp(-1)) * Math.exp(-1)); // the same as a sample of 0
    close(b.score('t1'), 300 * (1 - Math.exp(-1)) * Math.exp(-1)); // the same as no sample
    b.finished('t1', 100);
    assert.equal(b.pick()?.id, 't0');
  });

  it('skips unusable targets, never picks weight 0, and answers null when nothing is usable', () => {
    const { b, at } = clocked([1, 0, 1, 1]);
    at(1000);
    b.finished('t0', 10);
    b.finished('t2', 20);
    b.finished('t3', 30);
    assert.equal(b.pick()?.id, 't0'); // t1 (weight 0, EWMA 0) would score 0 / 0 in Kong
    assert.equal(b.pick((id) => id !== 't0')?.id, 't2');
    assert.equal(b.pick((id) => id === 't3')?.id, 't3');
    assert.equal(b.pick((id) => id === 't1'), null);
    assert.equal(b.pick(() => false), null);
    assert.equal(new LatencyBalancer([]).pick(), null);
  });

  it('asks usable only about targets that would improve the pick', () => {
    const { b, at } = clocked([1, 1, 1, 1]);
    at(1000);
    for (const [id, ms] of [['t0', 10], ['t1', 40], ['t2', 5], ['t3', 20]] as const) b.finished(id, ms);
    const asked: string[] = [];
    assert.equal(b.pick((id) => (asked.push(id), true))?.id, 't2');
    assert.deepEqual(asked, ['t0', 't2']);
  });

  it('drops the EWMA of a target marked unavailable, and restarts it at the mean when it is back', () => {
    const { b, at } = clocked([1, 1, 1]);
    at(10_000);
    b.finished('t0', 100);
    b.finished('t1', 300);
    b.finished('t2', 1);
    b.setAvailable('t2', false);
    assert.equal(b.score('t2'), null);
    assert.notEqual(b.pick()?.id, 't2');
    at(20_000);
    b.setAvailable('t2', true);
    // Kong's slow start: the mean of the stored EWMAs of the available targets, 0 for t2 itself.
    const stored = [100 * (1 - Math.exp(-1)), 300 * (1 - Math.exp(-1)), 0];
    close(b.score('t2'), (stored[0]! + stored[1]! + stored[2]!) / 3); // touched now: no decay yet
    close(b.score('t0'), stored[0]! * Math.exp(-1));
    assert.equal(b.pick()?.id, 't0');
    // A sample for a target without an EWMA starts it at that sample.
    b.setAvailable('t1', false);
    b.finished('t1', 42);
    close(b.score('t1'), 42);
    b.setAvailable('t1', false); // already so: nothing changes
    close(b.score('t1'), 42);
  });

  it('uses performance.now() by default, ignores unknown ids and the hash, refuses bad weights', () => {
    const b = new LatencyBalancer(targets([1, 1]));
    b.finished('nope', 10);
    b.setAvailable('nope', false);
    assert.equal(b.score('nope'), null);
    assert.equal(b.pick(undefined, 'h')?.id, 't0');
    b.finished('t0', 10);
    assert.ok(b.score('t0')! >= 0);
    assert.throws(() => new LatencyBalancer(targets([-1])), RangeError);
  });
});
