import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import type { Pool } from 'undici';
import { sendUpstream } from './send.js';
import { close, configWith, listen, serviceFor, until } from './fixtures.js';
import { UpstreamPools } from './upstream-pools.js';

const options = { trustedCaPems: [] };

function poolOf(pools: UpstreamPools, service: Parameters<UpstreamPools['dispatcherFor']>[0]): Pool {
  return pools.dispatcherFor(service) as Pool;
}

describe('UpstreamPools', () => {
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
