import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config, PluginEntity, Route } from '../config/types.js';
import type { PluginDefinition } from '../pipeline/plugin.js';
import { CertificateRequestPolicy } from './certificate-requests.js';

const requesting = new Map([['tls-handshake-modifier', { requestsClientCertificate: true } as PluginDefinition]]);

function route(id: string, service: string, snis: string[] | null): Route {
  return { id, service, snis, protocols: ['http', 'https'] } as unknown as Route;
}
function plugin(scope: Partial<Pick<PluginEntity, 'route' | 'service' | 'consumer'>>, enabled = true): PluginEntity {
  return { name: 'tls-handshake-modifier', enabled, protocols: ['https'], route: null, service: null, consumer: null, ...scope } as unknown as PluginEntity;
}
function config(routes: Route[], plugins: PluginEntity[]): Config {
  return { routes, plugins } as unknown as Config;
}

describe('CertificateRequestPolicy', () => {
  it('asks on every handshake for a global plugin', () => {
    const policy = CertificateRequestPolicy.compile(config([], [plugin({})]), requesting);
    assert.equal(policy.everyHandshake, true);
    assert.equal(policy.requestsFor(null), true);
  });

  it('asks only for the snis when every route of the scope lists them', () => {
    const routes = [route('r1', 's1', ['a.test', '*.wild.test']), route('r2', 's1', ['b.test']), route('r3', 's2', null)];
    const policy = CertificateRequestPolicy.compile(config(routes, [plugin({ service: 's1' })]), requesting);
    assert.equal(policy.everyHandshake, false);
    assert.equal(policy.mixed, true);
    assert.deepEqual(['a.test', 'b.test', 'x.wild.test', 'c.test', null].map((s) => policy.requestsFor(s)), [true, true, true, false, false]);
  });

  it('asks on every handshake when one route of the scope has no snis', () => {
    const routes = [route('r1', 's1', ['a.test']), route('r2', 's1', null)];
    assert.equal(CertificateRequestPolicy.compile(config(routes, [plugin({ service: 's1' })]), requesting).everyHandshake, true);
  });

  it('ignores disabled plugins and changes its fingerprint with the answer', () => {
    const routes = [route('r1', 's1', ['a.test'])];
    const none = CertificateRequestPolicy.compile(config(routes, [plugin({ route: 'r1' }, false)]), requesting);
    const some = CertificateRequestPolicy.compile(config(routes, [plugin({ route: 'r1' })]), requesting);
    assert.equal(none.requestsFor('a.test'), false);
    assert.notEqual(none.fingerprint, some.fingerprint);
  });
});
