/**
 * The node's shared Redis (`--redis-url`) against a real redis-server: the DPoP replay cache seen
 * from two clients (two nodes) marks a proof once, with the proof's window as TTL; calls keep
 * their deadline when Redis is gone; the `local` fallback checks proofs in the node's own cache
 * meanwhile; everything comes back with Redis, and /metrics' facts follow it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import type { NodeRedis } from '../../src/state/redis/node-redis.js';
import { REPLAY_KEY_PREFIX } from '../../src/state/redis/redis-replay-cache.js';
import { MemoryReplayCache } from '../../src/state/replay-cache.js';
import { portcullis } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { closedPort } from '../helpers/ports.js';
import { nodeRedisOn } from '../helpers/node-redis.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';


async function gauge(registry: Registry, name: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value;
}

describe('shared Redis: replay cache and cluster counters', () => {
  let redis: RedisServer;
  const opened: NodeRedis[] = [];
  const open = (fallback: 'closed' | 'local', registry = new Registry(), local = new MemoryReplayCache()): NodeRedis => {
    const node = nodeRedisOn(redis.url, { fallback, timeoutMs: 300, registry, local });
    opened.push(node);
    return node;
  };

  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    for (const node of opened) node.close();
    await redis.stop();
  });

  it('a mark claimed through one node is a replay through another, and expires with the proof', async () => {
    const a = open('closed');
    const b = open('closed');
    const now = Date.now();
    assert.equal(await a.replayCache.claim('k1', now, now + 60_000), 'fresh');
    assert.equal(await b.replayCache.claim('k1', now, now + 60_000), 'replayed');
    assert.equal(await a.replayCache.claim('k1', now, now + 60_000), 'replayed');
    assert.equal(await b.replayCache.claim('k2', now, now + 60_000), 'fresh');
    const client = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      const ttl = await client.pttl(`${REPLAY_KEY_PREFIX}k1`);
      assert.ok(ttl > 55_000 && ttl <= 60_000, `TTL ${ttl} ms: the proof's window`);
    } finally {
      client.disconnect();
    }
  });

  it('concurrent claims of one mark from several nodes: exactly one is fresh', async () => {
    const nodes = [open('closed'), open('closed'), open('closed')];
    const now = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => nodes[i % 3]!.replayCache.claim('race', now, now + 10_000)));
    assert.equal(answers.filter((a) => a === 'fresh').length, 1);
    assert.equal(answers.filter((a) => a === 'replayed').length, 29);
  });

  it('cluster counters count every node’s requests in one window', async () => {
    const nodes = [open('closed'), open('closed')];
    const window = { key: `test:${Date.now()}`, limit: 5, endsAtMs: Date.now() + 60_000, ttlSeconds: 60 };
    const used = await Promise.all(Array.from({ length: 8 }, (_, i) => nodes[i % 2]!.clusterRateCounters.take([window])));
    assert.deepEqual(used.map((u) => u[0]).sort((x, y) => x! - y!), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('Redis gone: closed rejects within the deadline, local checks in the node’s cache; both recover; metrics follow', async () => {
    const closedRegistry = new Registry();
    const closed = open('closed', closedRegistry);
    const local = new MemoryReplayCache();
    const withFallback = open('local', new Registry(), local);
    const now = Date.now();
    assert.equal(await closed.replayCache.claim('before', now, now + 60_000), 'fresh');
    assert.equal(await gauge(closedRegistry, 'portcullis_redis_reachable'), 1);

    await redis.stop();
    const asked = Date.now();
    await assert.rejects(closed.replayCache.claim('during', now, now + 60_000));
    assert.ok(Date.now() - asked < 2000, 'refused within the deadline, not after a pile-up');
    await assert.rejects(closed.clusterRateCounters.take([{ key: 'c', limit: 1, endsAtMs: now + 1000, ttlSeconds: 1 }]));
    assert.equal(await gauge(closedRegistry, 'portcullis_redis_reachable'), 0);
    const failed = /^portcullis_redis_call_duration_seconds_count\{outcome="failed"\} (\d+)$/m.exec(await closedRegistry.metrics());
    assert.ok(Number(failed?.[1] ?? 0) >= 2, 'failed calls are counted');

    // The fallback: fresh proofs pass, a replay to this node is still caught, in the node's own cache.
    assert.equal(await withFallback.replayCache.claim('during', now, now + 60_000), 'fresh');
    assert.equal(await withFallback.replayCache.claim('during', now, now + 60_000), 'replayed');
    assert.equal(await local.claim('during', now, now + 60_000), 'replayed', 'the mark is in the local cache');

    await redis.start();
    // Claims fail until the client has reconnected by itself.
    const answers = (claim: Promise<string>): Promise<string | false> => claim.catch(() => false);
    await eventually('the replay cache on Redis again', async () => (await answers(closed.replayCache.claim(`after-${Date.now()}`, now, now + 60_000))) === 'fresh');
    assert.equal(await gauge(closedRegistry, 'portcullis_redis_reachable'), 1);
    // Back on Redis, the fallback node uses it again: a mark claimed there is seen by the other node.
    await eventually('the fallback node on Redis again', async () => {
      const key = `shared-${Date.now()}`;
      return (await withFallback.replayCache.claim(key, now, now + 60_000)) === 'fresh' && (await answers(closed.replayCache.claim(key, now, now + 60_000))) === 'replayed';
    });
  });
});

describe('Redis settings and a Redis never reached', () => {
  it('refuses bad Redis settings at start in one line naming the flag, never echoing a password', async () => {
    const scheme = await portcullis(['start', '--redis-url', 'http://app:hunter2@cache.internal']);
    assert.equal(scheme.code, 1);
    assert.match(scheme.stderr, /--redis-url: .* does not start with one of redis:\/\//);
    assert.doesNotMatch(scheme.stderr, /hunter2/);
    const fallback = await portcullis(['start', '--redis-url', 'redis://127.0.0.1', '--replay-cache-fallback', 'open']);
    assert.equal(fallback.code, 1);
    assert.match(fallback.stderr, /--replay-cache-fallback must be closed or local, not 'open'/);
  });

  it('a Redis that never answered fails each call at the deadline, not later; the local fallback answers meanwhile', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const closed = nodeRedisOn(url, { fallback: 'closed', timeoutMs: 200 });
    const local = nodeRedisOn(url, { fallback: 'local', timeoutMs: 200 });
    try {
      const asked = Date.now();
      await assert.rejects(closed.replayCache.claim('k', asked, asked + 60_000), /did not connect within 200 ms|ECONNREFUSED|Connection is closed|Stream isn't writeable/);
      assert.ok(Date.now() - asked < 1500, `rejected after ${Date.now() - asked} ms`);
      assert.equal(await local.replayCache.claim('k', asked, asked + 60_000), 'fresh');
      assert.equal(await local.replayCache.claim('k', asked, asked + 60_000), 'replayed');
    } finally {
      closed.close();
      local.close();
    }
  });
});
