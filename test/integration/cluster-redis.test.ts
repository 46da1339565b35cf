/**
 * Three gateway nodes on one PostgreSQL (configuration) and one Redis (`--redis-url`: shared
 * short-lived state), each a real process, behind what a load balancer would do (the same Host to
 * every node): a route created through A is served by B and C within a second, writes to all
 * three land and dump the same from each; a DPoP proof used on node A is a replay on node B; a rate limit L across the three
 * nodes lets exactly L requests through with the `cluster` policy (the node's Redis) and with the
 * `redis` policy (the plugin's own record); then Redis is stopped under load: the replay cache fails
 * closed on the default nodes (401 dpop_replay_unavailable) and falls back to the node's own cache
 * on the node told to, rate limiting follows fault_tolerant, /metrics says so, and everything is
 * shared again once Redis is back.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as dpop from 'dpop';
import { request } from 'undici';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { admin } from '../helpers/admin.js';
import { portcullis } from '../helpers/cli.js';
import { dpopAccessToken } from '../helpers/dpop-token.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';
import { startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/** The host clients use: the load balancer's, the same on every node (DPoP's htu names it). */
const PUBLIC_HOST = 'api.example.test';
const LIMIT = 12;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

describe('three nodes on one PostgreSQL and one Redis', () => {
  let database: PostgresServer;
  let redis: RedisServer;
  let idp: TestIdp;
  let echo: EchoServer;
  let nodes: GatewayProcess[];
  let key: Awaited<ReturnType<typeof dpop.generateKeyPair>>;
  let token: string;

  const send = async (node: GatewayProcess, path: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await request(`${node.httpUrl}${path}`, { headers: { host: PUBLIC_HOST, ...headers } });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  };
  const proof = (path: string): Promise<string> => dpop.generateProof(key, `http://${PUBLIC_HOST}${path}`, 'GET', undefined, token);
  const withProof = (value: string): Record<string, string> => ({ authorization: `DPoP ${token}`, dpop: value });
  const metrics = async (node: GatewayProcess): Promise<string> => (await request(`${node.adminUrl}/metrics`)).body.text();
  const gauge = (text: string, name: string): number | undefined => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return match === null ? undefined : Number(match[1]);
  };
  /** Waits until the node logged the refusal with this reason (the access log carries it). */
  const refusedWith = (node: GatewayProcess, reason: string): Promise<Record<string, unknown>> =>
    node.waitForLog((l) => (l['access'] as { reason?: string } | undefined)?.reason === reason);

  before(async () => {
    [database, redis, idp, echo] = await Promise.all([startPostgresServer(), startRedisServer(), startTestIdp(), startEchoServer({ host: '127.0.0.1', port: 0 })]);
    const bootstrapped = await portcullis(['migrations', 'bootstrap', ...database.flags]);
    assert.equal(bootstrapped.code, 0, bootstrapped.stderr);
    const common = [...database.flags, '--redis-url', redis.url, '--redis-timeout', '300', '--trusted-certificate', idp.caPath];
    nodes = await Promise.all([
      startGatewayProcess({ args: common }),
      startGatewayProcess({ args: common }),
      startGatewayProcess({ args: [...common, '--replay-cache-fallback', 'local'] }),
    ]);
    // Counted per hour so that a minute's boundary in the middle of a test cannot reset a window.
    const limited = (name: string, config: string): string => `      - name: ${name}
        paths: ["/${name}"]
        plugins:
          - name: rate-limiting
            config: { hour: ${LIMIT}, limit_by: ip, ${config} }`;
    const file = join(await mkdtemp(join(tmpdir(), 'portcullis-cluster-redis-')), 'kong.yaml');
    await writeFile(
      file,
      `_format_version: "3.0"
services:
  - name: echo
    url: ${echo.url}/anything
    routes:
      - name: dpop
        paths: ["/dpop"]
        plugins:
          - name: openid-connect
            config: { issuer: "${idp.issuer}", auth_methods: [bearer], proof_of_possession_dpop: strict }
${limited('cluster', 'policy: cluster')}
${limited('redis', `policy: redis, redis: { host: 127.0.0.1, port: ${redis.port}, timeout: 300 }`)}
${limited('strict', 'policy: cluster, fault_tolerant: false')}
`,
    );
    const synced = await portcullis(['sync', file], { env: { PORTCULLIS_ADMIN_URL: nodes[0]!.adminUrl } });
    assert.equal(synced.code, 0, synced.stderr);
    for (const node of nodes) await eventually('every node serving the configuration', async () => (await send(node, '/dpop')).status === 401, 5000);
    key = await dpop.generateKeyPair('ES256');
    token = (await dpopAccessToken(idp, testIdpClientIds.dpop, key)).access_token;
  });
  after(async () => {
    await Promise.allSettled((nodes ?? []).map((node) => node.stop()));
    await Promise.allSettled([echo?.close(), idp?.close(), redis?.stop(), database?.stop()]);
  });

  it('serves on B and C within a second a route created through A; concurrent writes to all three land; dump is the same from each', async () => {
    const [a, b, c] = nodes as [GatewayProcess, GatewayProcess, GatewayProcess];
    const created = performance.now();
    const route = await admin(a.adminUrl, 'POST', '/services/echo/routes', { name: 'late', paths: ['/late'] });
    assert.equal(route.status, 201, route.text);
    const served = await Promise.all(
      [b, c].map(async (node) => {
        await eventually('the new route served', async () => (await send(node, '/late')).status === 200, 3000, 10);
        return performance.now() - created;
      }),
    );
    for (const ms of served) assert.ok(ms < 1000, `propagation took ${ms.toFixed(0)} ms`);
    const writes = await Promise.all(Array.from({ length: 15 }, (_, i) => admin(nodes[i % 3]!.adminUrl, 'POST', '/consumers', { username: `c-${i}` })));
    assert.deepEqual(writes.map((w) => w.status), Array.from({ length: 15 }, () => 201), writes.map((w) => w.text).join('\n'));
    const dump = async (node: GatewayProcess): Promise<string> => (await portcullis(['dump'], { env: { PORTCULLIS_ADMIN_URL: node.adminUrl } })).stdout;
    const expected = await eventually('every consumer on A', async () => {
      const text = await dump(a);
      return Array.from({ length: 15 }, (_, i) => `c-${i}`).every((name) => text.includes(`username: ${name}\n`)) && text;
    });
    for (const node of [b, c]) await eventually('the same dump from every node', async () => (await dump(node)) === expected);
  });

  it('refuses on node B (and C) a DPoP proof already used on node A', async () => {
    const [a, b, c] = nodes as [GatewayProcess, GatewayProcess, GatewayProcess];
    const used = await proof('/dpop');
    assert.equal((await send(a, '/dpop', withProof(used))).status, 200);
    for (const other of [b, c]) {
      const replayed = await send(other, '/dpop', withProof(used));
      assert.equal(replayed.status, 401);
      assert.match(String(replayed.headers['www-authenticate']), /^DPoP .*error="invalid_dpop_proof"/);
      await refusedWith(other, 'dpop_proof_replayed');
    }
    // A fresh proof from the same key is accepted anywhere, once.
    const fresh = await proof('/dpop');
    assert.equal((await send(c, '/dpop', withProof(fresh))).status, 200);
    assert.equal((await send(a, '/dpop', withProof(fresh))).status, 401);
  });

  it('a proof sent to all three nodes at once is accepted by exactly one', async () => {
    const value = await proof('/dpop');
    const answers = await Promise.all(nodes.flatMap((node) => [send(node, '/dpop', withProof(value)), send(node, '/dpop', withProof(value))]));
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 401, 401, 401, 401, 401]);
  });

  for (const policy of ['cluster', 'redis'] as const) {
    it(`lets exactly ${LIMIT} requests of a window through across the three nodes with policy ${policy}`, async () => {
      const answers = await Promise.all(Array.from({ length: LIMIT * 3 }, (_, i) => send(nodes[i % 3]!, `/${policy}`)));
      const statuses = answers.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, LIMIT, statuses.join(' '));
      assert.equal(statuses.filter((s) => s === 429).length, LIMIT * 2);
      // Every node now sees the shared window spent.
      for (const node of nodes) {
        const over = await send(node, `/${policy}`);
        assert.equal(over.status, 429);
        assert.equal(over.headers['x-ratelimit-remaining-hour'], '0');
      }
    });
  }

  it('shows the cluster facts on /metrics: database and Redis reachable, the configuration age', async () => {
    for (const node of nodes) {
      const text = await metrics(node);
      assert.equal(gauge(text, 'portcullis_redis_reachable'), 1);
      assert.equal(gauge(text, 'portcullis_database_reachable'), 1);
      const age = gauge(text, 'portcullis_config_age_seconds');
      assert.ok(age !== undefined && age >= 0 && age < 600, `config age ${age}`);
      assert.match(text, /^portcullis_redis_call_duration_seconds_count\{outcome="ok"\} [1-9]/m);
      assert.match(text, /^portcullis_database_call_duration_seconds_count\{outcome="ok"\} [1-9]/m);
    }
  });

  it('Redis stopped under load: replay cache closed or local as configured, rate limiting by fault_tolerant, all shared again after', async () => {
    const [a, b, c] = nodes as [GatewayProcess, GatewayProcess, GatewayProcess];
    // Load through the outage: requests keep arriving at every node while Redis goes away.
    let loading = true;
    const load = (async () => {
      const seen: number[] = [];
      while (loading) seen.push(...(await Promise.all(nodes.map((node) => send(node, '/cluster')))).map((r) => r.status));
      return seen;
    })();
    await redis.stop();
    await eventually('node A seeing Redis gone', async () => gauge(await metrics(a), 'portcullis_redis_reachable') === 0);

    // Fail closed (the default): a fresh proof is refused, 401 with the reason, within the deadline.
    const asked = Date.now();
    const closed = await send(a, '/dpop', withProof(await proof('/dpop')));
    assert.ok(Date.now() - asked < 3000, 'answered within the Redis deadline');
    assert.equal(closed.status, 401);
    assert.match(String(closed.headers['www-authenticate']), /error="invalid_dpop_proof"/);
    await refusedWith(a, 'dpop_replay_unavailable');
    // Every request is refused while it lasts, but the error log says so once, not once per request.
    for (let i = 0; i < 5; i++) assert.equal((await send(a, '/dpop', withProof(await proof('/dpop')))).status, 401);
    assert.equal(a.logs.filter((l) => String(l['msg']).startsWith('openid-connect could not authenticate')).length, 1);
    assert.equal((await send(b, '/dpop', withProof(await proof('/dpop')))).status, 401);
    // Node C falls back to its own cache: fresh proofs pass, a replay to it is still refused.
    const local = await proof('/dpop');
    assert.equal((await send(c, '/dpop', withProof(local))).status, 200);
    assert.equal((await send(c, '/dpop', withProof(local))).status, 401);
    await refusedWith(c, 'dpop_proof_replayed');
    assert.match(c.stderr() + JSON.stringify(c.logs), /checking proofs in this node's own cache/);
    // Rate limiting: fault_tolerant (the default) passes without limit headers; fault_tolerant false answers 500.
    const tolerant = await send(b, '/cluster');
    assert.equal(tolerant.status, 200);
    assert.equal(tolerant.headers['x-ratelimit-limit-hour'], undefined);
    assert.equal((await send(b, '/strict')).status, 500);

    await redis.start();
    for (const node of nodes) await eventually('every node on Redis again', async () => gauge(await metrics(node), 'portcullis_redis_reachable') === 1, 10_000, 100);
    loading = false;
    const seen = await load;
    assert.ok(seen.length > 0 && seen.every((s) => s === 200 || s === 429), `every request under load answered by a limit or the upstream: ${[...new Set(seen)].join(',')}`);
    // Shared again: the restarted Redis is empty, so the windows start over, and a proof used on C is a replay on A.
    assert.equal((await send(a, '/strict')).headers['x-ratelimit-remaining-hour'], String(LIMIT - 1));
    const after = await proof('/dpop');
    assert.equal((await send(c, '/dpop', withProof(after))).status, 200);
    assert.equal((await send(a, '/dpop', withProof(after))).status, 401);
  });
});
