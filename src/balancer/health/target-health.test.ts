import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TargetHealth, type HealthThresholds } from './target-health.js';

const thresholds: HealthThresholds = { successes: 2, tcp_failures: 2, timeouts: 3, http_failures: 1 };

describe('TargetHealth (Kong counter semantics)', () => {
  it('flips unhealthy when a failure counter reaches its threshold, and back after enough successes', () => {
    const health = new TargetHealth();
    assert.equal(health.record({ kind: 'tcp_failure', error: 'refused' }, thresholds, 'passive'), null);
    const down = health.record({ kind: 'tcp_failure', error: 'refused' }, thresholds, 'passive');
    assert.deepEqual(down, { healthy: false, source: 'passive', outcome: { kind: 'tcp_failure', error: 'refused' } });
    assert.equal(health.tcpFailures, 0, 'counters start afresh after a flip');
    assert.equal(health.record({ kind: 'success', status: 200 }, thresholds, 'active'), null);
    assert.equal(health.record({ kind: 'success', status: 200 }, thresholds, 'active')?.healthy, true);
  });

  it('a success clears the failure counters and a failure clears the successes', () => {
    const health = new TargetHealth();
    health.record({ kind: 'timeout' }, thresholds, 'active');
    health.record({ kind: 'timeout' }, thresholds, 'active');
    health.record({ kind: 'success', status: 200 }, thresholds, 'active');
    assert.equal(health.timeouts, 0);
    health.record({ kind: 'timeout' }, thresholds, 'active');
    health.record({ kind: 'timeout' }, thresholds, 'active');
    assert.equal(health.healthy, true, 'two timeouts after the success: not three in a row');
    assert.equal(health.record({ kind: 'timeout' }, thresholds, 'active')?.healthy, false);
    health.record({ kind: 'success', status: 200 }, thresholds, 'active');
    health.record({ kind: 'http_failure', status: 500 }, thresholds, 'active');
    assert.equal(health.successes, 0);
  });

  it('never flips on a counter whose threshold is 0, and ignores statuses in neither list but remembers them', () => {
    const health = new TargetHealth();
    const off: HealthThresholds = { successes: 0, tcp_failures: 0, timeouts: 0, http_failures: 0 };
    for (let i = 0; i < 10; i++) health.record({ kind: 'http_failure', status: 503 }, off, 'passive');
    assert.equal(health.healthy, true);
    health.record({ kind: 'ignored', status: 301 }, thresholds, 'active', 42);
    assert.deepEqual(health.last, { source: 'active', outcome: { kind: 'ignored', status: 301 }, at: 42 });
    assert.equal(health.httpFailures, 10, 'an ignored status changes no counter');
  });

  it('can be set by hand (Kong POST …/healthy|unhealthy), reporting only real changes', () => {
    const health = new TargetHealth();
    assert.equal(health.set(true), null);
    assert.deepEqual(health.set(false), { healthy: false, source: 'manual', outcome: null });
    assert.deepEqual(health.set(true, 'remote'), { healthy: true, source: 'remote', outcome: null });
  });
});
