import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import type { Pool } from 'undici';
import { sendUpstream } from './send.js';
import { close, configWith, listen, serviceFor, until } from './fixtures.js';
import { UpstreamPools } from './upstream-pools.js';
import { UpstreamHealth } from '../balancer/health/upstream-health.js';
import { loadConfig } from '../config/index.js';

const options = { trustedCaPems: [] };

function poolOf(pools: UpstreamPools, service: Parameters<UpstreamPools['dispatcherFor']>[0]): Pool {
  return pools.dispatcherFor(service) as Pool;
}

describe('UpstreamPools', () => {
  it("gives a latency upstream's target coming back from unhealthy Kong's slow start, not its old average", async () => {
    const loaded = loadConfig(
      `_format_version: "3.0"
services: [{ name: s, host: lat.internal }]
upstreams:
  - name: lat.internal
    algorithm: latency
    healthchecks: { passive: { unhealthy: { http_failures: 1 } } }
    targets: [{ target: "127.0.0.1:9001" }, { target: "127.0.0.1:9002" }]
`,
      { env: {}, plugins: new Map() },
    );
    assert.ok(loaded.ok);
    const health = new UpstreamHealth();
    const pools = UpstreamPools.create(loaded.config, options, undefined, health);
    const endpoints = pools.endpointsFor(loaded.config.services[0]!);
    const byPort = (port: number) => [...loaded.config.targets].find((t) => t.target.endsWith(`:${port}`))!;
    const pickPort = (): string => endpoints.next(null, null)!.hostHeader;
    // 9001 is slow (100 ms), 9002 fast (10 ms): latency picks 9002.
    for (let i = 0; i < 5; i++) {
      const slow = endpoints.next(null, null)!;
      endpoints.finished(slow, slow.hostHeader.endsWith(':9001') ? 100 : 10);
    }
    const a = endpoints.next(null, null)!;
    endpoints.finished(a, a.hostHeader.endsWith(':9001') ? 100 : 10);
    assert.equal(pickPort(), '127.0.0.1:9002');
    const upstream = loaded.config.upstreams[0]!;
    health.handle(upstream, byPort(9001).target).set(false);
    health.handle(upstream, byPort(9001).target).set(true);
    // Back at the others' mean (below 9002's 10 ms average), not at its old 100 ms.
    assert.equal(pickPort(), '127.0.0.1:9001');
    await pools.close();
  });

  it('shares one pool between services with the same target, and separates different targets', async () => {
    const a = serviceFor({ port: 8001 });
    const b = serviceFor({ port: 8001, read_timeout: 1 });
    const c = serviceFor({ port: 8001, connect_timeout: 1 });
    const d = serviceFor({ port: 8002 });
    const e = serviceFor({ port: 8001, protocol: 'https' });
    const f = serviceFor({ port: 8001, protocol: 'https', tls_verify: false });
    const pools = UpstreamPools.create(configWith([a, b, c, d, e, f]), options);
    assert.equal(pools.dispatcherFor(a), pools.dispatcherFor(b), 'read_timeout is per request');
    assert.notEqual(pools.dispatcherFor(a), pools.dispatcherFor(c), 'connect_timeout belongs to the connector');
    assert.notEqual(pools.dispatcherFor(a), pools.dispatcherFor(d));
    assert.notEqual(pools.dispatcherFor(e), pools.dispatcherFor(f));
    assert.equal(pools.size, 5);
    await pools.close();
  });

  it('hands identical targets to the next configuration and closes only the rest', async () => {
    const kept = serviceFor({ port: 8001 });
    const dropped = serviceFor({ port: 8002 });
    const old = UpstreamPools.create(configWith([kept, dropped]), options);
    const keptPool = poolOf(old, kept);
    const droppedPool = poolOf(old, dropped);

    const next = UpstreamPools.create(configWith([{ ...kept, id: 'renamed' }]), options, old);
    assert.equal(poolOf(next, { ...kept, id: 'renamed' }), keptPool);
    await old.close();
    assert.equal(droppedPool.closed, true);
    assert.equal(keptPool.closed, false);
    await next.close();
    assert.equal(keptPool.closed, true);
  });

  it('does not reuse pools when the trusted CAs change', async () => {
    const service = serviceFor({ port: 8443, protocol: 'https' });
    const old = UpstreamPools.create(configWith([service]), options);
    const next = UpstreamPools.create(configWith([service]), { trustedCaPems: tls.rootCertificates.slice(0, 1) }, old);
    assert.notEqual(next.dispatcherFor(service), old.dispatcherFor(service));
    await Promise.all([old.close(), next.close()]);
  });

  it('lets a request in flight finish when closed', async () => {
    let pending: ServerResponse | undefined;
    const server = createServer((_req, res) => (pending = res));
    const port = await listen(server);
    try {
      const service = serviceFor({ port });
      const pools = UpstreamPools.create(configWith([service]), options);
      const responding = sendUpstream({
        endpoints: pools.endpointsFor(service), defaultHost: null,
        service,
        method: 'GET',
        path: '/',
        headers: {},
        body: null,
        signal: new AbortController().signal,
      });
      await until(() => pending !== undefined);
      let closed = false;
      const closing = pools.close().then(() => (closed = true));
      assert.equal(closed, false);
      pending?.end('late but whole');
      const response = await responding;
      assert.equal((await response.body.toBuffer()).toString(), 'late but whole');
      await closing;
      assert.equal(closed, true);
      assert.throws(() => pools.dispatcherFor(serviceFor({ port: 1 })), /closed/);
    } finally {
      await close(server);
    }
  });

  it('refuses a configuration naming an unknown CA certificate or client certificate', () => {
    const badCa = serviceFor({ port: 8443, protocol: 'https', ca_certificates: ['missing'] });
    assert.throws(() => UpstreamPools.create(configWith([badCa]), options), /unknown ca_certificate missing/);
    const badCert = serviceFor({ port: 8443, protocol: 'https', client_certificate: 'missing' });
    assert.throws(() => UpstreamPools.create(configWith([badCert]), options), /unknown client_certificate missing/);
  });

  it('validates its options eagerly', () => {
    assert.throws(() => UpstreamPools.create(configWith([]), { trustedCaPems: [], connectionsPerUpstream: 0 }), /connectionsPerUpstream/);
  });
});
