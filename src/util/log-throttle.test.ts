import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logThrottle } from './log-throttle.js';

describe('logThrottle', () => {
  it('says yes the first time, then once per interval', () => {
    let now = 1000;
    const due = logThrottle(10_000, () => now);
    assert.deepEqual([due(), due()], [true, false]);
    now += 9_999;
    assert.equal(due(), false);
    now += 1;
    assert.deepEqual([due(), due()], [true, false]);
  });
});
