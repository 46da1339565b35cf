import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { admin } from '../helpers/admin.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

/** A target whose answers (to the proxy and to health probes on /health) can be changed by the test. */
interface Target {
  readonly name: string;
  readonly port: number;
  status: number;
  healthStatus: number;
  probes: number;
  readonly server: Server;
}

async function startTarget(name: string): Promise<Target> {
  const target = { name, port: 0, status: 200, healthStatus: 200, probes: 0 } as { -readonly [K in keyof Target]: Target[K] };
  target.server = createServer((req, res) => {
    if (req.url === '/health') {
      target.probes++;
      res.writeHead(target.healthStatus).end();
      return;
    }
    res.writeHead(target.status, { 'content-type': 'application/json' }).end(JSON.stringify({ target: name }));
  });
  await new Promise<void>((resolve) => target.server.listen(0, '127.0.0.1', resolve));
  target.port = (target.server.address() as AddressInfo).port;
  return target;
}

/** Which target answered each of `count` requests; each on a new connection (with --workers, spread over the workers). */
async function targetsHit(url: string, count: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const agent = new Agent();
    const response = await fetchText(url, { dispatcher: agent }).finally(() => agent.close());
    const key = response.status === 200 ? response.json<{ target: string }>().target : String(response.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function configFor(a: Target, b: Target, c: Target, d: Target, extraRoute = ''): string {
  return `_format_version: "3.0"
services:
  - name: passive
    host: passive.internal
    retries: 0
    routes: [{ name: passive, paths: ["/passive"] }]
  - name: active
    host: active.internal
    retries: 0
    routes: [{ name: active, paths: ["/active"] }${extraRoute}]
  - name: guarded
    host: guarded.internal
    retries: 0
    routes: [{ name: guarded, paths: ["/guarded"] }]
upstreams:
  - name: passive.internal
    healthchecks:
      passive: { unhealthy: { http_failures: 2 } }
    targets: [{ target: "127.0.0.1:${a.port}" }, { target: "127.0.0.1:${b.port}" }]
  - name: active.internal
    healthchecks:
      active:
        http_path: /health
        healthy: { interval: 0.1, successes: 2 }
        unhealthy: { interval: 0.1, http_failures: 1 }
    targets: [{ target: "127.0.0.1:${c.port}" }, { target: "127.0.0.1:${b.port}" }]
  - name: guarded.internal
    healthchecks:
      threshold: 60
      passive: { unhealthy: { http_failures: 1 } }
    targets: [{ target: "127.0.0.1:${d.port}" }, { target: "127.0.0.1:${b.port}" }]
`;
}

/** Four targets and a gateway balancing over them with `configFor`, started before and stopped after the suite. */
function useTargetsAndGateway(args: string[]): () => { a: Target; b: Target; c: Target; d: Target; gateway: GatewayProcess } {
  let started: { a: Target; b: Target; c: Target; d: Target; gateway: GatewayProcess } | undefined;
  before(async () => {
    const [a, b, c, d] = (await Promise.all(['a', 'b', 'c', 'd'].map(startTarget))) as [Target, Target, Target, Target];
    started = { a, b, c, d, gateway: await startGatewayProcess({ config: configFor(a, b, c, d), args }) };
  });
  after(async () => {
    await started?.gateway.stop();
    for (const t of [started?.a, started?.b, started?.c, started?.d]) t?.server.close();
  });
  return () => started!;
}

describe('upstream health checks', () => {
  const setup = useTargetsAndGateway([]);
  let a: Target, b: Target, c: Target, d: Target;
  let gateway: GatewayProcess;
  before(() => ({ a, b, c, d, gateway } = setup()));

  it('passive: real traffic that fails marks a target down (logged), and it gets no more requests', async () => {
    a.status = 500;
    // Round-robin over a and b: a's second 500 trips the circuit breaker.
    await targetsHit(`${gateway.httpUrl}/passive`, 4);
    const line = await gateway.waitForLog((l) => l.msg === 'upstream target unhealthy' && l.target === `127.0.0.1:${a.port}`);
    assert.equal(line.source, 'passive');
    assert.equal(line.upstream, 'passive.internal');
    assert.deepEqual(await targetsHit(`${gateway.httpUrl}/passive`, 6), { b: 6 });
  });

  it('active: a target failing its probe is skipped, and comes back when its probes succeed again', async () => {
    c.healthStatus = 503;
    await gateway.waitForLog((l) => l.msg === 'upstream target unhealthy' && l.target === `127.0.0.1:${c.port}` && l.source === 'active');
    assert.deepEqual(await targetsHit(`${gateway.httpUrl}/active`, 4), { b: 4 });
    c.healthStatus = 200;
    await gateway.waitForLog((l) => l.msg === 'upstream target healthy' && l.target === `127.0.0.1:${c.port}`);
    const counts = await targetsHit(`${gateway.httpUrl}/active`, 4);
    assert.deepEqual(counts, { b: 2, c: 2 });
  });

  it('a reload keeps the health of unchanged targets and the probes keep running', async () => {
    c.healthStatus = 503;
    await eventually('c marked down', async () => (await targetsHit(`${gateway.httpUrl}/active`, 2)).c === undefined, 8000);
    const applied = await admin(gateway.adminUrl, 'POST', '/config', { config: configFor(a, b, c, d, ', { name: extra, paths: ["/extra"] }') });
    assert.ok(applied.status < 300, applied.text);
    assert.deepEqual(await targetsHit(`${gateway.httpUrl}/active`, 4), { b: 4 }, 'still down after the reload');
    const before = c.probes;
    c.healthStatus = 200;
    await eventually('c probed again after the reload', () => c.probes > before + 2, 8000);
    await eventually('c back after the reload', async () => (await targetsHit(`${gateway.httpUrl}/active`, 2)).c === 1, 8000);
  });

  it('threshold: when less than the given share of the weight is healthy, the whole upstream answers 503', async () => {
    d.status = 500;
    await eventually('d marked down', async () => (await targetsHit(`${gateway.httpUrl}/guarded`, 1))['503'] === 1, 8000);
    const response = await fetchText(`${gateway.httpUrl}/guarded`);
    assert.equal(response.status, 503);
    assert.equal(response.json<{ message: string }>().message, 'failure to get a peer from the ring-balancer');
  });

  it('the probes of an upstream stop when it leaves the configuration', async () => {
    const withoutActive = configFor(a, b, c, d).replace(/ {2}- name: active\.internal\n(?: {4}.*\n)+/, '').replace(/ {2}- name: active\n(?: {4}.*\n)+/, '');
    assert.doesNotMatch(withoutActive, /active\.internal/);
    const applied = await admin(gateway.adminUrl, 'POST', '/config', { config: withoutActive });
    assert.ok(applied.status < 300, applied.text);
    await sleep(300); // a probe already on its way may still land
    const settled = c.probes;
    await sleep(600);
    assert.equal(c.probes, settled, 'no probe after the upstream was removed');
  });
});

describe('upstream health checks with --workers: one state per node', () => {
  const setup = useTargetsAndGateway(['--workers', '2']);
  let c: Target, d: Target;
  let gateway: GatewayProcess;
  before(() => ({ c, d, gateway } = setup()));

  it("the primary's probes take a target out of every worker's rotation, and bring it back", async () => {
    c.healthStatus = 503;
    await gateway.waitForLog((l) => l.msg === 'upstream target unhealthy' && l.target === `127.0.0.1:${c.port}` && l.source === 'active');
    assert.deepEqual(await targetsHit(`${gateway.httpUrl}/active`, 12), { b: 12 });
    c.healthStatus = 200;
    await gateway.waitForLog((l) => l.msg === 'upstream target healthy' && l.target === `127.0.0.1:${c.port}`);
    await eventually('c served again', async () => (await targetsHit(`${gateway.httpUrl}/active`, 4)).c !== undefined, 8000);
  });

  it("a worker's passive finding reaches the primary (which logs it) and every other worker", async () => {
    d.status = 500;
    // guarded.internal trips on one 500; its threshold (60%) then refuses the whole upstream on every worker.
    await eventually('d marked down', async () => (await targetsHit(`${gateway.httpUrl}/guarded`, 1))['503'] === 1, 8000);
    const line = await gateway.waitForLog((l) => l.msg === 'upstream target unhealthy' && l.target === `127.0.0.1:${d.port}`);
    assert.equal(line.source, 'passive');
    assert.deepEqual(await targetsHit(`${gateway.httpUrl}/guarded`, 12), { 503: 12 });
  });
});

describe('upstream health through the admin API', () => {
  const setup = useTargetsAndGateway([]);
  let a: Target, b: Target;
  let gateway: GatewayProcess;
  before(() => ({ a, b, gateway } = setup()));

  it("shows each target's health as Kong, and the state can be forced by hand both ways", async () => {
    const before = await admin(gateway.adminUrl, 'GET', '/upstreams/passive.internal/health');
    assert.equal(before.status, 200);
    const body = before.json<{ data: Array<{ target: string; health: string; data: { addresses: Array<{ port: number; health: string }> } }>; node_id: string }>();
    assert.deepEqual(body.data.map((t) => [t.target, t.health]), [[`127.0.0.1:${a.port}`, 'HEALTHY'], [`127.0.0.1:${b.port}`, 'HEALTHY']]);
    assert.equal(body.data[0]?.data.addresses[0]?.port, a.port);
    assert.equal(typeof body.node_id, 'string');

    const forced = await admin(gateway.adminUrl, 'POST', `/upstreams/passive.internal/targets/127.0.0.1:${a.port}/unhealthy`);
    assert.equal(forced.status, 204);
    const line = await gateway.waitForLog((l) => l.msg === 'upstream target unhealthy' && l.target === `127.0.0.1:${a.port}`);
    assert.equal(line.source, 'manual');
    assert.deepEqual(await targetsHit(`${gateway.httpUrl}/passive`, 4), { b: 4 });
    const after = (await admin(gateway.adminUrl, 'GET', '/upstreams/passive.internal/health')).json<{ data: Array<{ health: string }> }>();
    assert.deepEqual(after.data.map((t) => t.health), ['UNHEALTHY', 'HEALTHY']);
    const balancer = (await admin(gateway.adminUrl, 'GET', '/upstreams/passive.internal/health?balancer_health=1')).json<{ data: { health: string; id: string } }>();
    assert.equal(balancer.data.health, 'HEALTHY', 'half the weight is still healthy and the threshold is 0');

    const metrics = await admin(gateway.adminUrl, 'GET', '/metrics');
    assert.match(metrics.text, new RegExp(`portcullis_upstream_target_health\\{upstream="passive.internal",target="127.0.0.1:${a.port}",state="unhealthy"\\} 1`));
    assert.match(metrics.text, new RegExp(`portcullis_upstream_target_health\\{upstream="passive.internal",target="127.0.0.1:${a.port}",state="healthy"\\} 0`));

    assert.equal((await admin(gateway.adminUrl, 'POST', `/upstreams/passive.internal/targets/127.0.0.1:${a.port}/127.0.0.2:${a.port}/healthy`)).status, 404, 'not an address of that target');
    assert.equal((await admin(gateway.adminUrl, 'POST', `/upstreams/passive.internal/targets/127.0.0.1:${a.port}/127.0.0.1:${a.port}/healthy`)).status, 204, "Kong's per-address form");
    assert.deepEqual(await targetsHit(`${gateway.httpUrl}/passive`, 4), { a: 2, b: 2 });
    assert.equal((await admin(gateway.adminUrl, 'POST', '/upstreams/passive.internal/targets/10.9.9.9:1/healthy')).status, 404);
    assert.equal((await admin(gateway.adminUrl, 'GET', '/upstreams/nowhere/health')).status, 404);
    assert.equal((await admin(gateway.adminUrl, 'POST', '/upstreams/passive.internal/health')).status, 405);
    assert.equal((await admin(gateway.adminUrl, 'GET', `/upstreams/passive.internal/targets/127.0.0.1:${a.port}/healthy`)).status, 405);
    const off = (await admin(gateway.adminUrl, 'GET', '/upstreams/guarded.internal/health')).json<{ data: Array<{ health: string }> }>();
    assert.ok(off.data.every((t) => t.health === 'HEALTHY'));
  });
});
