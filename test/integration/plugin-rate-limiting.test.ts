/**
 * rate-limiting against real gateways: Kong's headers and 429, limit_by, an instance's scope as
 * the counter's scope, the deprecated redis_* fields, schema errors with paths; exactness of the
 * `local` policy across --workers 2 (counters shared by the workers), and of the `redis` policy
 * across two gateway processes sharing one real Redis server, which is then stopped under load
 * (fault_tolerant) and started again.
 *
 * Limits are per hour so that no test straddles a window (a minute boundary would reset counts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Agent } from 'undici';
import { admin } from '../helpers/admin.js';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { eventually } from '../helpers/eventually.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/** `n` requests at once, each on its own connection (so the node's workers all take some). */
async function burst(url: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const agents = Array.from({ length: n }, () => new Agent({ pipelining: 0 }));
  try {
    const responses = await Promise.all(agents.map((dispatcher) => fetchText(url, { headers, dispatcher })));
    return responses.map((r) => r.status);
  } finally {
    await Promise.all(agents.map((a) => a.close()));
  }
}

/** Kong's Redis key of this hour's counter for 127.0.0.1 of the route-scoped instance on `route`. */
async function counterKeyOf(gateway: GatewayProcess, route: string): Promise<string> {
  const { id } = (await admin(gateway.adminUrl, 'GET', `/routes/${route}`)).json<{ id: string }>();
  return `ratelimit:${id}:00000000-0000-0000-0000-000000000000:127.0.0.1:${Math.floor(Date.now() / 3_600_000) * 3_600_000}:hour`;
}

const count = (statuses: readonly number[], status: number): number => statuses.filter((s) => s === status).length;

describe('rate-limiting: headers, limit_by, scope and schema (local policy)', () => {
  let gateway: GatewayProcess;
  let upstream: CountingUpstream;
  const get = (path: string, headers: Record<string, string> = {}) => fetchText(`${gateway.httpUrl}${path}`, { headers });

  before(async () => {
    upstream = await startCountingUpstream();
    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
services:
  - name: api
    url: ${upstream.url}
    routes:
      - name: three
        paths: [/three]
        plugins:
          - name: rate-limiting
            config: { hour: 3, day: 10 }
      - name: quiet
        paths: [/quiet]
        plugins:
          - name: rate-limiting
            config: { hour: 1, hide_client_headers: true, error_code: 503, error_message: slow down }
      - name: by-header
        paths: [/by-header]
        plugins:
          - name: rate-limiting
            config: { hour: 1, limit_by: header, header_name: X-Tenant }
      - name: then-terminated
        paths: [/then-terminated]
        plugins:
          - name: rate-limiting
            config: { hour: 5 }
          - name: request-termination
            config: { status_code: 503 }
      - name: by-consumer
        paths: [/by-consumer]
        plugins:
          - name: key-auth
          - name: rate-limiting
            config: { hour: 1 }
  - name: shared
    url: ${upstream.url}
    plugins:
      - name: rate-limiting
        config: { hour: 2, limit_by: service }
    routes:
      - { name: shared-a, paths: [/shared-a] }
      - { name: shared-b, paths: [/shared-b] }
`,
    });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it("counts down with Kong's headers, then answers 429 with Retry-After, and the refused request never reaches the upstream", async () => {
    const seen: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 3; i++) {
      const response = await get('/three');
      assert.equal(response.status, 200, response.text);
      seen.push({
        limitHour: response.headers['x-ratelimit-limit-hour'],
        remainingHour: response.headers['x-ratelimit-remaining-hour'],
        remainingDay: response.headers['x-ratelimit-remaining-day'],
        limit: response.headers['ratelimit-limit'],
        remaining: response.headers['ratelimit-remaining'],
      });
      const reset = Number(response.headers['ratelimit-reset']);
      assert.ok(reset >= 1 && reset <= 3600, `RateLimit-Reset ${reset} is within the hour`);
    }
    assert.deepEqual(seen, [
      { limitHour: '3', remainingHour: '2', remainingDay: '9', limit: '3', remaining: '2' },
      { limitHour: '3', remainingHour: '1', remainingDay: '8', limit: '3', remaining: '1' },
      { limitHour: '3', remainingHour: '0', remainingDay: '7', limit: '3', remaining: '0' },
    ]);
    const hits = upstream.hits();
    const refused = await get('/three');
    assert.equal(refused.status, 429);
    assert.equal(refused.json().message, 'API rate limit exceeded');
    assert.equal(refused.headers['retry-after'], refused.headers['ratelimit-reset']);
    assert.equal(refused.headers['x-ratelimit-remaining-hour'], '0');
    assert.equal(refused.headers['x-ratelimit-remaining-day'], '7', 'a refused request is not counted (local), nor decremented in the other window');
    assert.equal(upstream.hits(), hits);
    const reason = await eventually('the refusal in the access log', () => accessRecords(gateway).find((r) => r['status'] === 429)?.['reason']);
    assert.equal(reason, 'rate_limited');
  });

  it('hide_client_headers sends none; error_code and error_message replace the 429', async () => {
    const first = await get('/quiet');
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-ratelimit-limit-hour'], undefined);
    assert.equal(first.headers['ratelimit-limit'], undefined);
    const second = await get('/quiet');
    assert.equal(second.status, 503);
    assert.equal(second.json().message, 'slow down');
    assert.equal(second.headers['retry-after'], undefined);
  });

  it("a later plugin's refusal still carries the counts (the headers of the access phase, as Kong's exit)", async () => {
    const terminated = await get('/then-terminated');
    assert.equal(terminated.status, 503);
    assert.equal(terminated.headers['x-ratelimit-limit-hour'], '5');
    assert.equal(terminated.headers['x-ratelimit-remaining-hour'], '4');
    assert.equal(terminated.headers['content-type'], 'application/json; charset=utf-8', "the refusal's own headers win");
  });

  it('limit_by header counts per header value, and by client address without the header', async () => {
    assert.equal((await get('/by-header', { 'x-tenant': 'a' })).status, 200);
    assert.equal((await get('/by-header', { 'x-tenant': 'a' })).status, 429);
    assert.equal((await get('/by-header', { 'x-tenant': 'b' })).status, 200);
    assert.equal((await get('/by-header')).status, 200, 'the client address is a counter of its own');
    assert.equal((await get('/by-header')).status, 429);
  });

  it('limit_by consumer (the default) counts each consumer apart', async () => {
    assert.equal((await get('/by-consumer', { apikey: 'alice-key' })).status, 200);
    assert.equal((await get('/by-consumer', { apikey: 'alice-key' })).status, 429);
    assert.equal((await get('/by-consumer', { apikey: 'bob-key' })).status, 200);
  });

  it("a service's instance counts every route of the service together (Kong's key: the instance's scope)", async () => {
    assert.equal((await get('/shared-a')).status, 200);
    assert.equal((await get('/shared-b')).status, 200);
    assert.equal((await get('/shared-a')).status, 429);
    assert.equal((await get('/shared-b')).status, 429);
  });

  it('refuses bad configurations with the path of each wrong field', async () => {
    const post = (config: Record<string, unknown>) => admin(gateway.adminUrl, 'POST', '/plugins', { name: 'rate-limiting', config });
    const none = await post({});
    assert.equal(none.status, 400);
    assert.match(none.text, /at least one of these fields must be non-empty: 'config.second', 'config.minute'/);
    const order = await post({ minute: 10, hour: 5 });
    assert.match(order.text, /The limit for hour\(5.0\) cannot be lower than the limit for minute\(10.0\)/);
    const cluster = await post({ minute: 1, policy: 'cluster', sync_rate: 1 });
    assert.match(cluster.text, /config.sync_rate/);
    const redis = await post({ minute: 1, policy: 'redis' });
    assert.match(redis.text, /config.redis.host/);
    const sync = await post({ minute: 1, sync_rate: 1 });
    assert.match(sync.text, /sync_rate can only be used with the redis policy/);
    const header = await post({ minute: 1, limit_by: 'header' });
    assert.match(header.text, /config.header_name/);
    const conflict = await post({ minute: 1, policy: 'redis', redis: { host: 'a.example' }, redis_host: 'b.example' });
    assert.match(conflict.text, /config.redis_host/);
    assert.match(conflict.text, /conflicts with config.redis.host/);
    const notRecord = await post({ minute: 1, policy: 'redis', redis: 'localhost', redis_host: 'b.example' });
    assert.equal(notRecord.status, 400);
    assert.match(notRecord.text, /config.redis_host/);
    assert.doesNotMatch(notRecord.text, /config\.host/, 'the shorthand lands nowhere else');
  });

  it('takes the deprecated flat redis_* fields into the redis record, and the dump writes the record', async () => {
    const created = await admin(gateway.adminUrl, 'POST', '/plugins', {
      name: 'rate-limiting',
      instance_name: 'legacy',
      service: { name: 'api' },
      config: { minute: 5, policy: 'redis', redis_host: '127.0.0.1', redis_port: 6390, redis_timeout: 100, redis_database: 2 },
    });
    assert.equal(created.status, 201, created.text);
    const config = created.json<{ config: Record<string, unknown> }>().config;
    assert.deepEqual(config['redis'], { host: '127.0.0.1', port: 6390, timeout: 100, database: 2, username: null, password: null, ssl: false, ssl_verify: false, server_name: null });
    assert.equal(config['redis_host'], undefined);
    assert.equal((await admin(gateway.adminUrl, 'DELETE', `/plugins/${created.json<{ id: string }>().id}`)).status, 204);
  });
});

describe('rate-limiting local across --workers 2: the limit is the node’s', () => {
  let gateway: GatewayProcess;
  let upstream: CountingUpstream;

  before(async () => {
    upstream = await startCountingUpstream();
    gateway = await startGatewayProcess({
      args: ['--workers', '2'],
      config: `_format_version: "3.0"
services:
  - name: api
    url: ${upstream.url}
    routes:
      - name: limited
        paths: [/limited]
        plugins:
          - name: rate-limiting
            config: { hour: 25, limit_by: ip }
`,
    });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it('60 clients at once, a limit of 25: exactly 25 pass', async () => {
    const statuses = await burst(`${gateway.httpUrl}/limited`, 60);
    assert.equal(count(statuses, 200), 25, JSON.stringify(statuses));
    assert.equal(count(statuses, 429), 35);
    assert.equal(upstream.hits(), 25);
  });

  it('a changed limit takes effect on the counts so far: the counters outlive the plugin instance', async () => {
    const plugins = (await admin(gateway.adminUrl, 'GET', '/routes/limited/plugins')).json<{ data: Array<{ id: string }> }>().data;
    const changed = await admin(gateway.adminUrl, 'PATCH', `/plugins/${plugins[0]!.id}`, { config: { hour: 26 } });
    assert.equal(changed.status, 200, changed.text);
    const statuses = await burst(`${gateway.httpUrl}/limited`, 5);
    assert.equal(count(statuses, 200), 1, JSON.stringify(statuses));
  });
});

describe('rate-limiting redis: two gateways share one Redis; fault_tolerant when Redis stops', () => {
  let redis: RedisServer;
  let gateways: GatewayProcess[] = [];
  let upstream: CountingUpstream;

  before(async () => {
    redis = await startRedisServer();
    upstream = await startCountingUpstream();
    const config = `_format_version: "3.0"
services:
  - name: api
    url: ${upstream.url}
    routes:
      - name: shared
        paths: [/shared]
        plugins:
          - name: rate-limiting
            config: { hour: 10, limit_by: ip, policy: redis, redis: { host: 127.0.0.1, port: ${redis.port}, timeout: 500 } }
      - name: synced
        paths: [/synced]
        plugins:
          - name: rate-limiting
            config: { hour: 100, limit_by: ip, policy: redis, sync_rate: 0.2, redis: { host: 127.0.0.1, port: ${redis.port} } }
      - name: strict
        paths: [/strict]
        plugins:
          - name: rate-limiting
            config: { hour: 1000, limit_by: ip, policy: redis, fault_tolerant: false, redis_host: 127.0.0.1, redis_port: ${redis.port}, redis_timeout: 500 }
`;
    gateways = await Promise.all([startGatewayProcess({ config }), startGatewayProcess({ config })]);
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await redis.stop();
    upstream.server.close();
  });

  it('30 requests at once spread over both gateways, a limit of 10: exactly 10 pass (one atomic EVAL per request)', async () => {
    const statuses = (await Promise.all(gateways.map((g) => burst(`${g.httpUrl}/shared`, 15)))).flat();
    assert.equal(count(statuses, 200), 10, JSON.stringify(statuses));
    assert.equal(count(statuses, 429), 20);
    // redis counts refused requests too (Kong's INCR): the next one sees 31 used, 0 remaining.
    const next = await fetchText(`${gateways[0]!.httpUrl}/shared`);
    assert.equal(next.status, 429);
    assert.equal(next.headers['x-ratelimit-remaining-hour'], '0');
    // Kong's key, so Kong nodes on the same Redis count the same requests.
    // A plugin nested under a route is scoped to the route alone: the zero UUID stands for its service.
    const key = await counterKeyOf(gateways[0]!, 'shared');
    const client = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      assert.equal(await client.get(key), '31');
      const ttl = await client.ttl(key);
      assert.ok(ttl > 3500 && ttl <= 3600, `Kong's expiry: the period's length (${ttl})`);
    } finally {
      client.disconnect();
    }
  });

  it('sync_rate: counted locally and flushed to Redis every sync_rate seconds', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await fetchText(`${gateways[0]!.httpUrl}/synced`)).status, 200);
    const key = await counterKeyOf(gateways[0]!, 'synced');
    const client = new Redis({ port: redis.port, host: '127.0.0.1' });
    try {
      await eventually('the five requests in Redis', async () => (await client.get(key)) === '5');
    } finally {
      client.disconnect();
    }
    const sixth = await fetchText(`${gateways[1]!.httpUrl}/synced`);
    assert.equal(sixth.headers['x-ratelimit-remaining-hour'], '94', 'the other gateway reads what was synced');
  });

  it('Redis stopped under load: fault_tolerant requests pass without headers, the others answer 500; back when Redis is', async () => {
    assert.equal((await fetchText(`${gateways[0]!.httpUrl}/strict`)).status, 200);
    await redis.stop();
    const started = Date.now();
    const tolerant = await Promise.all(Array.from({ length: 10 }, () => fetchText(`${gateways[1]!.httpUrl}/shared`)));
    assert.deepEqual(
      tolerant.map((r) => r.status),
      Array(10).fill(200),
    );
    assert.ok(tolerant.every((r) => r.headers['x-ratelimit-limit-hour'] === undefined));
    const strict = await fetchText(`${gateways[1]!.httpUrl}/strict`);
    assert.equal(strict.status, 500);
    assert.equal(strict.json().message, 'An unexpected error occurred');
    assert.ok(Date.now() - started < 5000, 'each answer within the Redis deadline, not after a pile-up');

    await redis.start();
    // The client reconnects by itself; the empty Redis counts from zero.
    const back = await eventually('rate limiting through Redis again', async () => {
      const response = await fetchText(`${gateways[1]!.httpUrl}/strict`);
      return response.status === 200 && response.headers['x-ratelimit-remaining-hour'] !== undefined && response;
    });
    assert.equal(back.headers['x-ratelimit-limit-hour'], '1000');
  });
});
