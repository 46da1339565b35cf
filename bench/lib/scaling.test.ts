import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countCpus, scalingPlan, workerCounts } from './scaling.js';

describe('bench: --workers scaling plan (BENCH_CPUS)', () => {
  it('counts taskset CPU lists and refuses anything else', () => {
    assert.equal(countCpus('0'), 1);
    assert.equal(countCpus('0-3,6'), 5);
    assert.throws(() => countCpus('0-'), /not a CPU list/);
    assert.throws(() => countCpus('3-1'), /ends before it starts/);
  });

  it('runs 1, 2, 4… workers up to the gateway cores, and the core count itself', () => {
    assert.deepEqual(workerCounts(1), [1]);
    assert.deepEqual(workerCounts(4), [1, 2, 4]);
    assert.deepEqual(workerCounts(6), [1, 2, 4, 6]);
  });

  it('splits the machine in halves when unset; on 2 cores one worker, and says why', () => {
    const two = scalingPlan(undefined, 2);
    assert.equal(two.gatewayCpus, '0');
    assert.equal(two.loadCpus, '1');
    assert.deepEqual(two.workerCounts, [1]);
    assert.match(two.why ?? '', /2 cores.*second worker would share/);
    const eight = scalingPlan(undefined, 8);
    assert.equal(eight.gatewayCpus, '0-3');
    assert.equal(eight.loadCpus, '4-7');
    assert.deepEqual(eight.workerCounts, [1, 2, 4]);
    assert.equal(eight.why, null);
  });

  it('takes <gateway>/<load> from BENCH_CPUS', () => {
    const plan = scalingPlan('0-7/8-11', 16);
    assert.equal(plan.gatewayCores, 8);
    assert.equal(plan.loadCores, 4);
    assert.deepEqual(plan.workerCounts, [1, 2, 4, 8]);
    assert.throws(() => scalingPlan('0-3', 8), /<gateway cpus>\/<load cpus>/);
  });
});
