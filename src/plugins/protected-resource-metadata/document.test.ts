import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config/index.js';
import { pluginSchemas } from '../index.js';
import type { OpenIdConnectConfig } from '../openid-connect/schema.js';
import { metadataUrl, resourceMetadata } from './document.js';
import type { ProtectedResourceMetadataConfig } from './schema.js';

const load = (pluginConfig: string, oidc = 'issuer: https://idp.example/realms/r') =>
  loadConfig(
    `_format_version: "3.0"
services:
  - name: s
    url: http://upstream.example
    routes:
      - name: r
        paths: [/api]
        plugins:
          - name: openid-connect
            config: { auth_methods: [bearer], ${oidc} }
          - name: protected-resource-metadata
            config: { ${pluginConfig} }
          - name: tls-handshake-modifier
`,
    { env: {}, plugins: pluginSchemas },
  );

function configs(pluginConfig: string, oidc?: string): { prm: ProtectedResourceMetadataConfig; oidc: OpenIdConnectConfig } {
  const result = load(pluginConfig, oidc);
  assert.ok(result.ok, JSON.stringify(result));
  const byName = (name: string) => result.config.plugins.find((p) => p.name === name)!.config;
  return { prm: byName('protected-resource-metadata') as unknown as ProtectedResourceMetadataConfig, oidc: byName('openid-connect') as unknown as OpenIdConnectConfig };
}

describe('protected-resource-metadata: the document', () => {
  it('puts the well-known suffix between host and path (RFC 9728 §3.1), dropping a lone /', () => {
    assert.equal(metadataUrl('https://gw.example/'), 'https://gw.example/.well-known/oauth-protected-resource');
    assert.equal(metadataUrl('https://gw.example'), 'https://gw.example/.well-known/oauth-protected-resource');
    assert.equal(metadataUrl('https://gw.example:8443/anything'), 'https://gw.example:8443/.well-known/oauth-protected-resource/anything');
    assert.equal(metadataUrl('https://gw.example/api/'), 'https://gw.example/.well-known/oauth-protected-resource/api/');
  });

  it('derives its members from openid-connect: issuer identifier, scopes, token locations, bindings', () => {
    const { prm, oidc } = configs('', 'issuer: "https://idp.example/realms/r/.well-known/openid-configuration", scopes_required: ["read write", "admin"], proof_of_possession_mtls: strict');
    assert.deepEqual(resourceMetadata('https://gw.example/api', prm, oidc), {
      resource: 'https://gw.example/api',
      authorization_servers: ['https://idp.example/realms/r'],
      scopes_supported: ['read', 'write', 'admin'],
      bearer_methods_supported: ['header', 'body', 'query'],
      tls_client_certificate_bound_access_tokens: true,
      dpop_bound_access_tokens_required: false,
    });
  });

  it('with strict DPoP: the proof algorithms, tokens required bound, the Authorization header only', () => {
    const { prm, oidc } = configs('', 'issuer: https://idp.example, proof_of_possession_dpop: strict, dpop_proof_algorithms: [ES256, EdDSA]');
    const doc = resourceMetadata('https://gw.example/api', prm, oidc);
    assert.deepEqual(doc['dpop_signing_alg_values_supported'], ['ES256', 'EdDSA']);
    assert.equal(doc['dpop_bound_access_tokens_required'], true);
    assert.deepEqual(doc['bearer_methods_supported'], ['header']);
    assert.equal(doc['tls_client_certificate_bound_access_tokens'], false);
    assert.equal('scopes_supported' in doc, false, 'no empty members (§3.2)');
  });

  it('takes configured members over derived ones, and works without openid-connect', () => {
    const { prm, oidc } = configs('authorization_servers: ["https://as.example"], scopes_supported: [files:read], bearer_methods_supported: [header], resource_name: Files, resource_documentation: "https://docs.example/files"');
    const doc = resourceMetadata('https://gw.example/api', prm, oidc);
    assert.deepEqual(doc['authorization_servers'], ['https://as.example']);
    assert.deepEqual(doc['scopes_supported'], ['files:read']);
    assert.deepEqual(doc['bearer_methods_supported'], ['header']);
    assert.equal(doc['resource_name'], 'Files');
    assert.equal(doc['resource_documentation'], 'https://docs.example/files');
    assert.deepEqual(resourceMetadata('https://gw.example/api', prm, null), {
      resource: 'https://gw.example/api',
      authorization_servers: ['https://as.example'],
      scopes_supported: ['files:read'],
      bearer_methods_supported: ['header'],
      resource_name: 'Files',
      resource_documentation: 'https://docs.example/files',
    });
  });

  it('rejects a resource that is not an https URL without query or fragment, and unknown fields, with their paths', () => {
    for (const bad of ['resource: "http://gw.example/api"', 'resource: "https://gw.example/api?x=1"', 'resource: "https://gw.example/api#f"']) {
      const result = load(bad);
      assert.equal(result.ok, false, bad);
      assert.match(JSON.stringify(result), /plugins\[1\]\.config\.resource/, bad);
    }
    const unknown = load('jwks_uri: "https://gw.example/jwks"');
    assert.equal(unknown.ok, false);
    assert.match(JSON.stringify(unknown), /plugins\[1\]\.config/);
  });
});
