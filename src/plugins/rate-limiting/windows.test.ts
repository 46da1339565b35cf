import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { counterKey, counterKeyPrefix, resetSeconds, windowOf } from './windows.js';

const at = (iso: string): number => Date.parse(iso);

describe('rate-limiting windows (Kong timestamp.lua, expiration.lua)', () => {
  it('aligns every window to the UTC calendar, ending where the next begins (a month of 31 days, a leap year)', () => {
    const now = at('2024-03-31T23:59:58.750Z');
    assert.deepEqual(windowOf('second', now), { startMs: at('2024-03-31T23:59:58Z'), endMs: at('2024-03-31T23:59:59Z') });
    assert.deepEqual(windowOf('minute', now), { startMs: at('2024-03-31T23:59:00Z'), endMs: at('2024-04-01T00:00:00Z') });
    assert.deepEqual(windowOf('hour', now), { startMs: at('2024-03-31T23:00:00Z'), endMs: at('2024-04-01T00:00:00Z') });
    assert.deepEqual(windowOf('day', now), { startMs: at('2024-03-31T00:00:00Z'), endMs: at('2024-04-01T00:00:00Z') });
    assert.deepEqual(windowOf('month', now), { startMs: at('2024-03-01T00:00:00Z'), endMs: at('2024-04-01T00:00:00Z') });
    assert.deepEqual(windowOf('year', now), { startMs: at('2024-01-01T00:00:00Z'), endMs: at('2025-01-01T00:00:00Z') });
    assert.deepEqual(windowOf('month', at('2024-02-29T12:00:00Z')), { startMs: at('2024-02-01T00:00:00Z'), endMs: at('2024-03-01T00:00:00Z') });
  });

  it("computes RateLimit-Reset as Kong: the period's length (a month is 30 days) less the whole seconds gone, at least 1", () => {
    assert.equal(resetSeconds('minute', at('2024-03-31T23:59:58.750Z')), 2, '60 - floor(58.75)');
    assert.equal(resetSeconds('second', at('2024-03-31T23:59:58.750Z')), 1);
    assert.equal(resetSeconds('hour', at('2024-03-31T23:00:00Z')), 3600);
    // 31 March: 30 days and 23:59:58 gone of Kong's 30-day month: it floors at 1.
    assert.equal(resetSeconds('month', at('2024-03-31T23:59:58Z')), 1);
    assert.equal(resetSeconds('month', at('2024-03-02T00:00:00Z')), 2592000 - 86400);
  });

  it("builds Kong's counter key from the instance's scope, the zero UUID standing for none", () => {
    const start = at('2024-03-31T23:59:00Z');
    assert.equal(counterKey(counterKeyPrefix({ route: null, service: null }), '10.0.0.1', 'minute', start), `ratelimit:00000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000:10.0.0.1:${start}:minute`);
    assert.equal(counterKey(counterKeyPrefix({ route: 'r', service: 's' }), 'c', 'second', 5), 'ratelimit:r:s:c:5:second');
  });
});
