import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configHash, emptyConfig, formatConfigErrors, loadConfig, loadConfigObject } from './index.js';
import { catalog, loaded, TUTORIAL_SERVICE } from './test-fixtures.js';

const load = (text: string, env: Record<string, string> = {}) => loaded(loadConfig(text, { env, plugins: catalog }));

describe('loadConfig: the tutorial', () => {
  it('validates the tutorial service/route block unchanged', () => {
    const config = load(TUTORIAL_SERVICE);
    assert.equal(config.services.length, 1);
    const [service] = config.services;
    assert.equal(service?.name, 'example-service');
    assert.equal(service?.protocol, 'http');
    assert.equal(service?.host, 'httpbin.konghq.com');
    assert.equal(service?.port, 80);
    assert.equal(service?.path, '/anything');
    assert.equal(service?.retries, 5);
    assert.equal(service?.connect_timeout, 60000);
    const [route] = config.routes;
    assert.equal(route?.name, 'example-route');
    assert.equal(route?.service, service?.id);
    assert.deepEqual(route?.paths, ['/anything']);
    assert.deepEqual(route?.protocols, ['http', 'https']);
    assert.equal(route?.strip_path, true);
    assert.equal(route?.preserve_host, false);
    assert.equal(route?.path_handling, 'v0');
    assert.equal(route?.https_redirect_status_code, 426);
    assert.equal(route?.order, 0);
  });

  it('loads the tutorial plugins, with the env issuer and YAML 1.1 `on`', () => {
    const text = `${TUTORIAL_SERVICE}plugins:
  - name: tls-handshake-modifier
    route: example-route
    config:
      tls_client_certificate: REQUEST
  - name: openid-connect
    route: example-route
    config:
      issuer: "\${{ env "DECK_ISSUER" }}"
      auth_methods:
        - bearer
      proof_of_possession_mtls: strict
      proof_of_possession_auth_methods_validation: on
`;
    const config = load(text, { DECK_ISSUER: 'https://kc.example:9443/realms/master' });
    const [handshake, oidc] = config.plugins;
    assert.equal(handshake?.route, config.routes[0]?.id);
    assert.deepEqual(handshake?.protocols, ['grpcs', 'https', 'tls']);
    assert.deepEqual(oidc?.config, {
      issuer: 'https://kc.example:9443/realms/master',
      auth_methods: ['bearer'],
      proof_of_possession_mtls: 'strict',
      proof_of_possession_auth_methods_validation: true,
      leeway: 0,
    });
  });
});

describe('loadConfig: the result', () => {
  it('is deeply frozen', () => {
    const config = load(TUTORIAL_SERVICE);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.services[0]));
    assert.ok(Object.isFrozen(config.routes[0]?.paths));
  });

  it('gives the same ids and hash on every load of the same file', () => {
    const text = `${TUTORIAL_SERVICE}consumers:\n  - username: alice\nplugins:\n  - name: rate-limiting\n    consumer: alice\n    config: { minute: 5 }\n`;
    const first = load(text);
    const second = load(text);
    assert.deepEqual(first, second);
    assert.equal(configHash(first), configHash(second));
    assert.match(first.services[0]?.id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('hashes by content, not by key order', () => {
    const a = load('_format_version: "3.0"\nservices: [{name: s, host: a.example}]\n');
    const b = load('services: [{host: a.example, name: s}]\n_format_version: "3.0"\n');
    assert.equal(configHash(a), configHash(b));
    const c = load('_format_version: "3.0"\nservices: [{name: s, host: b.example}]\n');
    assert.notEqual(configHash(a), configHash(c));
  });

  it('keeps ids given in the file, lower-cased', () => {
    const config = load('_format_version: "3.0"\nservices:\n  - id: 0A6B7C1D-0000-4000-8000-000000000001\n    host: a.example\n');
    assert.equal(config.services[0]?.id, '0a6b7c1d-0000-4000-8000-000000000001');
  });

  it('is the same whether routes and plugins are nested or top-level with references', () => {
    const nested = load(`
_format_version: "3.0"
services:
  - name: api
    url: https://upstream.example:8443/v1
    plugins:
      - name: rate-limiting
        config: { minute: 10 }
    routes:
      - name: items
        paths: [/items]
        plugins:
          - name: openid-connect
            config: { issuer: https://idp.example }
consumers:
  - username: alice
    plugins:
      - name: rate-limiting
        config: { minute: 1 }
`);
    const flat = load(`
_format_version: "3.0"
services:
  - name: api
    url: https://upstream.example:8443/v1
routes:
  - name: items
    service: { name: api }
    paths: [/items]
consumers:
  - username: alice
plugins:
  - name: rate-limiting
    service: api
    config: { minute: 10 }
  - name: openid-connect
    route: items
    config: { issuer: https://idp.example }
  - name: rate-limiting
    consumer: { username: alice }
    config: { minute: 1 }
`);
    assert.deepEqual(nested, flat);
    assert.equal(nested.services[0]?.port, 8443);
    assert.equal(nested.services[0]?.protocol, 'https');
  });
});

describe('loadConfigObject', () => {
  it('loads parsed JSON without modifying it', () => {
    const doc = { _format_version: '3.0', services: [{ name: 's', host: 'a.example', routes: [{ paths: ['/'] }] }] };
    const before = structuredClone(doc);
    const config = loaded(loadConfigObject(doc, { plugins: catalog }));
    assert.deepEqual(doc, before);
    assert.equal(config.routes[0]?.service, config.services[0]?.id);
  });

  it('refuses a document that is not a mapping', () => {
    assert.deepEqual(loadConfigObject([1, 2], { plugins: catalog }), {
      ok: false,
      errors: [{ path: '', message: 'the configuration must be a mapping of sections, found a list' }],
    });
  });

  it('refuses values nested deeper than text may be (100 levels), so that every load has a YAML export that loads', () => {
    // Found by test/fuzz/config.fuzz.test.ts: a client_jwk (any JSON) nested 120 levels loaded as an
    // object, but its own export could not be read back once parseConfigText limits the depth.
    let deep: unknown = 'x';
    for (let i = 0; i < 120; i++) deep = [deep];
    assert.deepEqual(loadConfigObject({ _format_version: '3.0', _info: deep }, { plugins: catalog }), {
      ok: false,
      errors: [{ path: `_info${'[0]'.repeat(99)}`, message: 'nested more than 100 levels deep' }],
    });
    // Beyond what structuredClone can copy this used to be "must be a mapping of sections, found object".
    const chain: Record<string, unknown> = {};
    let cursor = chain;
    for (let i = 0; i < 100_000; i++) cursor = cursor.a = {};
    const result = loadConfigObject(chain, { plugins: catalog });
    assert.equal(result.ok ? '' : result.errors[0]?.message, 'nested more than 100 levels deep');
    let ninetyNine: unknown = 'x';
    for (let i = 0; i < 99; i++) ninetyNine = [ninetyNine];
    assert.equal(loadConfigObject({ _format_version: '3.0', _info: ninetyNine }, { plugins: catalog }).ok, true);
  });
});

describe('emptyConfig and formatConfigErrors', () => {
  it('emptyConfig has every list, empty, and is frozen', () => {
    const config = emptyConfig();
    assert.deepEqual(config, {
      _format_version: '3.0',
      services: [],
      routes: [],
      plugins: [],
      consumers: [],
      consumer_groups: [],
      ca_certificates: [],
      certificates: [],
      upstreams: [],
      targets: [],
      keyauth_credentials: [],
      basicauth_credentials: [],
      jwt_secrets: [],
      acls: [],
    });
    assert.ok(Object.isFrozen(config.services));
  });

  it('formatConfigErrors prints one path: message per line', () => {
    const text = formatConfigErrors([
      { path: 'services[0].port', message: 'must be an integer' },
      { path: '', message: 'the configuration is empty' },
    ]);
    assert.equal(text, 'services[0].port: must be an integer\nthe configuration is empty');
  });
});
