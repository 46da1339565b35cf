/**
 * `--redis-url` beyond one server, against real ones (Kong OSS has neither; its users ask): a
 * master watched by a Sentinel, which fails over to the replica when the master dies — the replay
 * cache follows the new master by itself; and a three-node Redis Cluster, where a request's windows
 * live in different slots (one atomic call per window) and marks spread over the nodes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { NodeRedis } from '../../src/state/redis/node-redis.js';
import { eventually } from '../helpers/eventually.js';
import { nodeRedisOn } from '../helpers/node-redis.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const MASTER = 'portcullis';

const open = (url: string): NodeRedis => nodeRedisOn(url);

/** A claim, or false while the client cannot answer (reconnecting, failing over). */
const claimed = (node: NodeRedis, key: string): Promise<string | false> => node.replayCache.claim(key, Date.now(), Date.now() + 60_000).catch(() => false);

describe('Redis Sentinel', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let sentinel: RedisServer;
  let node: NodeRedis;

  before(async () => {
    // A replica's first sync waits 5 s by default for more replicas to share it; this one is alone.
    master = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    const probe = new Redis({ port: replica.port, host: '127.0.0.1' });
    await eventually('the replica in sync', async () => (await probe.info('replication')).includes('master_link_status:up'), 10_000, 50);
    probe.disconnect();
    sentinel = await startRedisServer({
      config: () => `sentinel monitor ${MASTER} 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds ${MASTER} 1000\nsentinel failover-timeout ${MASTER} 5000\n`,
      args: ['--sentinel'],
      ready: '+monitor master',
    });
    node = open(`redis-sentinel://127.0.0.1:${sentinel.port}/${MASTER}`);
  });
  after(async () => {
    node?.close();
    await Promise.allSettled([sentinel?.stop(), replica?.stop(), master?.stop()]);
  });

  it('claims marks on the master the Sentinel names, and on the replica it promotes when the master dies', async () => {
    assert.equal(await node.replayCache.claim('before', Date.now(), Date.now() + 60_000), 'fresh');
    const onMaster = new Redis({ port: master.port, host: '127.0.0.1' });
    const onReplica = new Redis({ port: replica.port, host: '127.0.0.1' });
    try {
      assert.equal(await onMaster.exists('portcullis:dpop:before'), 1, 'written to the master');
      // The replica knows the mark before the failover (replicated), so it stays a replay after.
      await eventually('the mark replicated', async () => (await onReplica.exists('portcullis:dpop:before')) === 1);
      onMaster.disconnect();

      await master.stop();
      await eventually('the replica promoted and used', async () => (await claimed(node, `after-${Date.now()}`)) === 'fresh', 20_000, 100);
      assert.equal((await onReplica.role())[0], 'master');
      assert.equal(await node.replayCache.claim('before', Date.now(), Date.now() + 60_000), 'replayed');
    } finally {
      onMaster.disconnect();
      onReplica.disconnect();
    }
  });
});

describe('Redis Cluster', () => {
  const servers: RedisServer[] = [];
  let node: NodeRedis;
  let other: NodeRedis;

  before(async () => {
    for (let i = 0; i < 3; i++) servers.push(await startRedisServer({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] }));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-yes'], { encoding: 'utf8' });
    assert.equal(created.status, 0, created.stdout + created.stderr);
    const probe = new Redis({ port: servers[0]!.port, host: '127.0.0.1' });
    await eventually('the cluster up', async () => String(await probe.cluster('INFO')).includes('cluster_state:ok'), 10_000, 100);
    probe.disconnect();
    node = open(`redis-cluster://127.0.0.1:${servers[0]!.port}`);
    other = open(`redis-cluster://127.0.0.1:${servers[1]!.port},127.0.0.1:${servers[2]!.port}`);
  });
  after(async () => {
    node?.close();
    other?.close();
    await Promise.allSettled(servers.map((s) => s.stop()));
  });

  it('claims each mark once across clients, with marks spread over the nodes', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `mark-${i}`);
    for (const key of keys) assert.equal(await node.replayCache.claim(key, Date.now(), Date.now() + 60_000), 'fresh');
    for (const key of keys) assert.equal(await other.replayCache.claim(key, Date.now(), Date.now() + 60_000), 'replayed');
    const held = await Promise.all(servers.map(async (s) => {
      const direct = new Redis({ port: s.port, host: '127.0.0.1' });
      const size = await direct.dbsize();
      direct.disconnect();
      return size;
    }));
    assert.ok(held.filter((n) => n > 0).length >= 2, `marks on several nodes: ${held.join(', ')}`);
  });

  it('counts a request in windows of different slots, exactly, from two clients', async () => {
    const at = Date.now();
    const windows = [
      { key: `rl:second:${at}`, limit: 100, endsAtMs: at + 1000, ttlSeconds: 1 },
      { key: `rl:minute:${at}`, limit: 100, endsAtMs: at + 60_000, ttlSeconds: 60 },
      { key: `rl:hour:${at}`, limit: 100, endsAtMs: at + 3_600_000, ttlSeconds: 3600 },
    ];
    const used = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? node : other).clusterRateCounters.take(windows)));
    for (let w = 0; w < windows.length; w++) assert.deepEqual(used.map((u) => u[w]).sort((x, y) => x! - y!), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
