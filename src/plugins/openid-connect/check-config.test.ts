import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config/index.js';
import { CA_CERT } from '../../config/test-fixtures.js';
import { pluginSchemas } from '../index.js';
import { reasons, successReasons } from './reasons.js';

const base = `_format_version: "3.0"
services:
  - name: example-service
    url: http://httpbin.konghq.com/anything
    routes:
      - name: example-route
        paths: ["/anything"]
`;

function errors(plugins: string): string[] {
  const result = loadConfig(`${base}plugins:\n${plugins}`, { env: {}, plugins: pluginSchemas });
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('openid-connect configuration checks', () => {
  it("accepts the tutorial's configuration, YAML 1.1 `on` included", () => {
    assert.deepEqual(
      errors(`  - name: tls-handshake-modifier
    route: example-route
    config: { tls_client_certificate: REQUEST }
  - name: openid-connect
    route: example-route
    config:
      issuer: https://idp.example:9443/realms/master
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
      proof_of_possession_auth_methods_validation: on
`),
      [],
    );
  });

  it('refuses strict PoP without a plugin that brings a client certificate, saying what to add', () => {
    const [line, ...rest] = errors(`  - name: openid-connect
    route: example-route
    config: { issuer: https://idp.example, auth_methods: [bearer], proof_of_possession_mtls: strict }
`);
    assert.deepEqual(rest, []);
    assert.match(line ?? '', /^plugins\[0\]\.config\.proof_of_possession_mtls: .*route 'example-route'.*add tls-handshake-modifier/);
  });

  it('leaves that rule out for entity-at-a-time changes (decK writes and deletes plugins one by one, in any order)', () => {
    const plugin = `  - name: openid-connect
    route: example-route
    config: { issuer: https://idp.example, auth_methods: [bearer, password], proof_of_possession_mtls: strict }
`;
    const result = loadConfig(`${base}plugins:\n${plugin}`, { env: {}, plugins: pluginSchemas, entityAtATime: true });
    const lines = result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
    assert.ok(lines.length > 0 && lines.every((l) => !/proof_of_possession_mtls:/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('plugins[0].config.auth_methods')), 'the plugin\'s own rules still apply');
  });

  it("refuses PoP with Kong's default auth_methods, and names each unimplemented method", () => {
    const lines = errors(`  - name: tls-handshake-modifier
  - name: openid-connect
    service: example-service
    config: { issuer: https://idp.example, proof_of_possession_mtls: optional }
`).filter((l) => l.startsWith('plugins[1].config.auth_methods'));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /password, client_credentials, authorization_code, userinfo, kong_oauth2, refresh_token, session are not implemented/);
    assert.match(lines[1]!, /needs auth_methods given explicitly .* remove password, client_credentials, authorization_code, userinfo, kong_oauth2, refresh_token/);
  });

  it('refuses Kong fields it does not implement unless they hold the default, and typos', () => {
    assert.deepEqual(
      errors(`  - name: openid-connect
    config:
      issuer: https://idp.example
      auth_methods: [bearer]
      session_secret: abc
      verify_nonce: true
      token_exchange_endpoint: https://idp.example/x
      verify_signature: false
`),
      [
        'plugins[0].config.session_secret: is a Kong openid-connect field that Portcullis does not implement; remove it (see docs/plugins/openid-connect.md)',
        'plugins[0].config.token_exchange_endpoint: is a Kong openid-connect field that Portcullis does not implement; remove it (see docs/plugins/openid-connect.md)',
        'plugins[0].config.verify_signature: must be true: Portcullis never accepts a token without checking its signature',
      ],
    );
  });

  it('reports a misspelt field as unknown', () => {
    assert.deepEqual(errors(`  - name: openid-connect\n    config: { issuer: https://idp.example, auth_methods: [bearer], proof_of_posession_mtls: strict }\n`), [
      'plugins[0].config.proof_of_posession_mtls: unknown field',
    ]);
  });

  it('checks introspection client settings, references and paired lists', () => {
    const lines = errors(`  - name: openid-connect
    config:
      issuer: https://idp.example
      auth_methods: [introspection]
      anonymous: nobody
      upstream_headers_claims: [sub, email]
      upstream_headers_names: [x-sub]
      enable_hs_signatures: true
`);
    assert.deepEqual(lines, [
      "plugins[0].config.upstream_headers_names: must have as many entries as upstream_headers_claims (1 vs 2)",
      'plugins[0].config.enable_hs_signatures: needs client_secret: HS* tokens are only ever checked with the client secret, never with a public key',
      "plugins[0].config.client_id: is required for introspection (the gateway authenticates itself to the IdP); or set introspection_endpoint_auth_method: none",
      "plugins[0].config.anonymous: no consumer with id or username 'nobody'",
    ]);
  });

  it('accepts proof_of_possession_mtls_from_header as the certificate source, with Kong defaults and null proxies', () => {
    const ca = `ca_certificates:\n  - id: 6f0c7b8e-7c1f-4f2b-9a51-3d9f0a1b2c3d\n    cert: |\n${CA_CERT.trim().split('\n').map((l) => `      ${l}`).join('\n')}\n`;
    const plugin = (extra: string) => `  - name: openid-connect
    route: example-route
    config:
      issuer: https://idp.example
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
      proof_of_possession_mtls_from_header:
        certificate_header_name: X-Client-Cert
        ca_certificates: [6F0C7B8E-7C1F-4F2B-9A51-3D9F0A1B2C3D]
        http_proxy_host: null
        https_proxy_port: null${extra}
`;
    const result = loadConfig(`${base}${ca}plugins:\n${plugin('')}`, { env: {}, plugins: pluginSchemas });
    assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
    const fromHeader = result.config.plugins[0]!.config['proof_of_possession_mtls_from_header'];
    assert.deepEqual(fromHeader, {
      certificate_header_name: 'X-Client-Cert',
      certificate_header_format: 'url_encoded',
      ca_certificates: ['6F0C7B8E-7C1F-4F2B-9A51-3D9F0A1B2C3D'],
      allow_partial_chain: false,
      revocation_check_mode: 'IGNORE_CA_ERROR',
      cert_cache_ttl: 60000,
      http_timeout: 30000,
      ssl_verify: true,
      secure_source: true,
      http_proxy_host: null,
      https_proxy_port: null,
    });
    const refused = loadConfig(`${base}${ca}plugins:\n${plugin('\n        https_proxy_host: proxy.example\n        http_proxy_port: 3128')}`, { env: {}, plugins: pluginSchemas });
    assert.equal(refused.ok, false);
    assert.deepEqual(
      refused.ok ? [] : refused.errors.map((e) => e.path),
      ['plugins[0].config.proof_of_possession_mtls_from_header.http_proxy_port', 'plugins[0].config.proof_of_possession_mtls_from_header.https_proxy_host'],
    );
  });

  it('refuses proof_of_possession_mtls_from_header naming a CA that does not exist, or without a header name', () => {
    assert.deepEqual(
      errors(`  - name: openid-connect
    config:
      issuer: https://idp.example
      auth_methods: [bearer]
      proof_of_possession_mtls: optional
      proof_of_possession_mtls_from_header: { certificate_header_name: X-Client-Cert, ca_certificates: [missing] }
`),
      ["plugins[0].config.proof_of_possession_mtls_from_header.ca_certificates[0]: no ca_certificate with id 'missing'"],
    );
    assert.equal(
      errors(`  - name: openid-connect
    config: { issuer: https://idp.example, auth_methods: [bearer], proof_of_possession_mtls_from_header: { ca_certificates: [x] } }
`).length > 0,
      true,
    );
  });

  it('cannot be attached to a consumer', () => {
    const result = loadConfig(`${base}consumers:\n  - username: a\n    plugins: [{name: openid-connect, config: {issuer: https://idp.example, auth_methods: [bearer]}}]\n`, {
      env: {},
      plugins: pluginSchemas,
    });
    assert.equal(result.ok, false);
  });
});

describe('openid-connect reason codes', () => {
  it('are all documented in docs/plugins/openid-connect.md', () => {
    const docs = readFileSync(new URL('../../../../docs/plugins/openid-connect.md', import.meta.url), 'utf8');
    for (const code of [...Object.keys(reasons), ...Object.keys(successReasons)]) assert.ok(docs.includes(`\`${code}\``), `${code} is not documented`);
  });

  it('are the only codes the plugin reports', () => {
    const dir = new URL('../../../../src/plugins/openid-connect/', import.meta.url);
    const known = new Set([...Object.keys(reasons), ...Object.keys(successReasons)]);
    for (const file of ['handler.ts', 'authenticate.ts', 'verify-jwt.ts', 'claims.ts', 'introspection.ts', 'proof-of-possession.ts', 'extract-token.ts', 'identity.ts', 'responses.ts', 'certificate-from-header.ts']) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      for (const match of text.matchAll(/new AuthFailure\(\s*'([a-z_]+)'/g)) assert.ok(known.has(match[1]!), `${file}: ${match[1]} is not in reasons.ts`);
      for (const match of text.matchAll(/reason: '([a-z_]+)'/g)) assert.ok(known.has(match[1]!), `${file}: ${match[1]} is not in reasons.ts`);
    }
  });
});
