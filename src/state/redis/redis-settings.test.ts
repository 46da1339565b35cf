import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRedisUrl, redisSettings } from './redis-settings.js';

describe('--redis-url', () => {
  it('reads one server, with its credentials, port and database, and shows it without the password', () => {
    const s = parseRedisUrl('redis://app:s%40cret@cache.internal:6380/2');
    assert.deepEqual(s.topology, { kind: 'standalone', endpoint: { host: 'cache.internal', port: 6380 }, db: 2 });
    assert.equal(s.username, 'app');
    assert.equal(s.password, 's@cret');
    assert.equal(s.tls, false);
    assert.equal(s.display, 'redis://app@cache.internal:6380/2');
    assert.doesNotMatch(s.display, /cret/);
  });

  it('defaults the port and database, takes a password without a user, and IPv6 in brackets', () => {
    const s = parseRedisUrl('rediss://:pw@[::1]');
    assert.deepEqual(s.topology, { kind: 'standalone', endpoint: { host: '::1', port: 6379 }, db: 0 });
    assert.equal(s.username, null);
    assert.equal(s.password, 'pw');
    assert.equal(s.tls, true);
    assert.equal(s.display, 'rediss://[::1]');
  });

  it('reads Sentinels, the master name and the Sentinels’ own password', () => {
    const s = parseRedisUrl('redis-sentinel://:pw@s1:26379,s2,s3:26380/mymaster/1?sentinel_password=sp');
    assert.deepEqual(s.topology, {
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26380 },
      ],
      master: 'mymaster',
      db: 1,
      sentinelPassword: 'sp',
    });
    assert.doesNotMatch(s.display, /sp|pw/);
  });

  it('reads Redis Cluster seeds', () => {
    const s = parseRedisUrl('rediss-cluster://n1:7000,n2:7001');
    assert.deepEqual(s.topology, { kind: 'cluster', seeds: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }] });
    assert.equal(s.tls, true);
  });

  it('refuses what it cannot use, saying why and never echoing a password', () => {
    const refusals: Array<[string, RegExp]> = [
      ['http://u:hunter2@h', /does not start with one of redis:\/\//],
      ['http://u:hun/ter2@h', /does not start with one of redis:\/\//],
      ['u:hunter2@h', /'…@h' does not start with one of redis:\/\//],
      ['redis://a,b', /names one server/],
      ['redis://h:0', /port '0' is not 1 to 65535/],
      ['redis://h:99999', /is not 1 to 65535/],
      ['redis://h/x', /database 'x' is not a number/],
      ['redis-sentinel://s1:26379', /needs the master's name/],
      ['redis-cluster://n1/3', /takes no path/],
      ['redis://', /'' is not host\[:port\]/],
    ];
    for (const [url, message] of refusals) {
      assert.throws(() => parseRedisUrl(url), (error: Error) => message.test(error.message) && !error.message.includes('hunter2') && !error.message.includes('ter2'), url);
    }
  });
});

describe('the Redis settings from flags', () => {
  it('is null without --redis-url: every node keeps its own state', () => {
    assert.equal(redisSettings({}), null);
    assert.equal(redisSettings({ 'redis-url': '' }), null);
  });

  it('defaults to a 500 ms deadline and failing closed; --redis-password wins over the URL’s', () => {
    const s = redisSettings({ 'redis-url': 'redis://:inurl@h', 'redis-password': 'fromflag' });
    assert.equal(s?.timeoutMs, 500);
    assert.equal(s.replayFallback, 'closed');
    assert.equal(s.password, 'fromflag');
    assert.equal(redisSettings({ 'redis-url': 'redis://h', 'redis-timeout': '50', 'replay-cache-fallback': 'local' })?.replayFallback, 'local');
  });

  it('refuses a deadline that is not a positive integer and an unknown fallback', () => {
    assert.throws(() => redisSettings({ 'redis-url': 'redis://h', 'redis-timeout': '0' }), /--redis-timeout must be a positive integer/);
    assert.throws(() => redisSettings({ 'redis-url': 'redis://h', 'redis-timeout': '1.5' }), /--redis-timeout/);
    assert.throws(() => redisSettings({ 'redis-url': 'redis://h', 'replay-cache-fallback': 'open' }), /must be closed or local, not 'open'/);
  });
});
