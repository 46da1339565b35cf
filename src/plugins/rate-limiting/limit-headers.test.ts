import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge } from './limit-headers.js';

// 12:00:30.400 UTC: 30 s into the minute, 1830 s into the hour.
const NOW = Date.parse('2024-05-01T12:30:30.400Z');

describe("rate-limiting verdict and headers (Kong's handler.lua arithmetic)", () => {
  it('passes with every window left, this request counted: the tightest window in RateLimit-*', () => {
    const verdict = judge(
      [
        { period: 'minute', limit: 5, used: 2 },
        { period: 'hour', limit: 100, used: 2 },
      ],
      NOW,
      false,
    );
    assert.equal(verdict.stopped, false);
    assert.deepEqual(verdict.headers, {
      'x-ratelimit-limit-minute': '5',
      'x-ratelimit-remaining-minute': '2',
      'x-ratelimit-limit-hour': '100',
      'x-ratelimit-remaining-hour': '97',
      'ratelimit-limit': '5',
      'ratelimit-remaining': '2',
      'ratelimit-reset': '30',
    });
  });

  it('on a tie of remaining requests, describes the longer window', () => {
    const verdict = judge(
      [
        { period: 'second', limit: 3, used: 0 },
        { period: 'minute', limit: 10, used: 7 },
      ],
      NOW,
      false,
    );
    assert.equal(verdict.headers['ratelimit-limit'], '10');
    assert.equal(verdict.headers['ratelimit-reset'], '30');
  });

  it('stops when a window has nothing left: Retry-After is its reset, and the other windows are not decremented (Kong)', () => {
    const verdict = judge(
      [
        { period: 'minute', limit: 5, used: 5 },
        { period: 'hour', limit: 100, used: 50 },
      ],
      NOW,
      false,
    );
    assert.equal(verdict.stopped, true);
    assert.deepEqual(verdict.headers, {
      'x-ratelimit-limit-minute': '5',
      'x-ratelimit-remaining-minute': '0',
      'x-ratelimit-limit-hour': '100',
      'x-ratelimit-remaining-hour': '50',
      'ratelimit-limit': '5',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '30',
      'retry-after': '30',
    });
  });

  it('never shows a negative remaining (redis counts refused requests too), and hide_client_headers sends none', () => {
    const over = judge([{ period: 'minute', limit: 2, used: 9 }], NOW, false);
    assert.equal(over.headers['x-ratelimit-remaining-minute'], '0');
    const hidden = judge([{ period: 'minute', limit: 2, used: 9 }], NOW, true);
    assert.deepEqual(hidden, { stopped: true, headers: {} });
  });
});
