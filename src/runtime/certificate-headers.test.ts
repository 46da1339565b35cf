import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config, PluginEntity } from '../config/types.js';
import { compileCertificateHeaders } from './certificate-headers.js';

function plugin(name: string, config: Record<string, unknown>, enabled = true): PluginEntity {
  return { id: `p-${Math.random()}`, name, instance_name: null, config, enabled, protocols: ['http', 'https'], tags: [], service: null, route: null, consumer: null, consumer_group: null };
}

function configWith(plugins: PluginEntity[]): Config {
  return { _format_version: '3.0', services: [], routes: [], plugins, consumers: [], consumer_groups: [], ca_certificates: [], certificates: [], upstreams: [], targets: [], keyauth_credentials: [], basicauth_credentials: [], jwt_secrets: [], acls: [] };
}

const fromHeader = (name: string, secureSource = true) => ({
  issuer: 'https://idp.example',
  proof_of_possession_mtls_from_header: { certificate_header_name: name, certificate_header_format: 'url_encoded', ca_certificates: ['x'], secure_source: secureSource },
});

describe('compileCertificateHeaders', () => {
  it('always strips the standard forwarding headers', () => {
    assert.deepEqual([...compileCertificateHeaders(configWith([]))].sort(), ['client-cert', 'client-cert-chain', 'x-forwarded-client-cert']);
  });

  it("adds header-cert-auth's and openid-connect proof_of_possession_mtls_from_header's header names, lower-cased", () => {
    const names = compileCertificateHeaders(
      configWith([plugin('header-cert-auth', { certificate_header_name: 'X-Client-Cert', secure_source: true }), plugin('openid-connect', fromHeader('X-SSL-Client-Cert'))]),
    );
    assert.ok(names.has('x-client-cert'));
    assert.ok(names.has('x-ssl-client-cert'));
  });

  it('leaves a header alone when secure_source is false, and ignores disabled plugins and openid-connect without from_header', () => {
    const names = compileCertificateHeaders(
      configWith([
        plugin('openid-connect', fromHeader('X-Open-Cert', false)),
        plugin('openid-connect', fromHeader('X-Disabled-Cert'), false),
        plugin('openid-connect', { issuer: 'https://idp.example', proof_of_possession_mtls_from_header: null }),
        plugin('openid-connect', fromHeader('client-cert', false)),
      ]),
    );
    assert.equal(names.has('x-open-cert'), false);
    assert.equal(names.has('x-disabled-cert'), false);
    assert.ok(names.has('client-cert'), 'a standard header is stripped whatever secure_source says');
    assert.equal(names.size, 3);
  });
});
