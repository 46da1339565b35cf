import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryRateCounters, type CounterWindow } from './rate-counters.js';

const win = (key: string, limit: number, endsAtMs = 10_000): CounterWindow => ({ key, limit, endsAtMs, ttlSeconds: 60 });

describe('MemoryRateCounters (the local policy)', () => {
  it('returns the usage before each take and counts it in every window; a take over any limit counts nowhere', () => {
    let now = 0;
    const counters = new MemoryRateCounters({ now: () => now });
    const windows = [win('s', 2), win('m', 3)];
    assert.deepEqual(counters.takeNow(windows), [0, 0]);
    assert.deepEqual(counters.takeNow(windows), [1, 1]);
    assert.deepEqual(counters.takeNow(windows), [2, 2], 'the second window is full: refused, not counted');
    assert.deepEqual(counters.takeNow([win('m', 3)]), [2], 'm still has one left');
    now = 10_000;
    assert.deepEqual(counters.takeNow(windows), [0, 0], 'a window that ended counts from zero');
  });

  it('drops ended windows and stays within maxCounters, oldest first', () => {
    let now = 0;
    const counters = new MemoryRateCounters({ now: () => now, maxCounters: 2 });
    counters.takeNow([win('a', 5, 500)]);
    counters.takeNow([win('b', 5)]);
    counters.takeNow([win('c', 5)]);
    assert.equal(counters.size, 2);
    assert.deepEqual(counters.takeNow([win('a', 5, 500)]), [0], 'a was the oldest');
    now = 2000;
    counters.takeNow([win('d', 5, 5000)]);
    assert.ok(counters.size <= 2);
  });
});
