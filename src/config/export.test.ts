import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportConfig } from './export.js';
import { toDeckYaml } from './export-yaml.js';
import { configHash, loadConfig, loadConfigObject } from './index.js';
import { CA_CERT, catalog, EC_CERT, EC_KEY, loaded, RSA_CERT, RSA_KEY, TUTORIAL_SERVICE } from './test-fixtures.js';
import type { Config } from './types.js';

const load = (text: string): Config => loaded(loadConfig(text, { env: {}, plugins: catalog }));
const indent = (pem: string, spaces: number): string => pem.trim().split('\n').join(`\n${' '.repeat(spaces)}`);

/** Configs that exercise nesting, defaults, references of every kind, unnamed entities and certificates. */
const configs: Record<string, string> = {
  tutorial: TUTORIAL_SERVICE,
  empty: '_format_version: "3.0"\n',
  upstreams: `_format_version: "3.0"
services:
  - name: balanced
    host: backend.internal
upstreams:
  - name: backend.internal
    algorithm: round-robin
    host_header: api.example.com:8443
    healthchecks:
      active: { http_path: /health, headers: { x-probe: ["1"] }, healthy: { interval: 5, successes: 2 } }
      threshold: 50
    targets:
      - target: 10.0.0.1
      - target: "[::1]:9000"
        weight: 0
  - name: second.internal
    hash_on: none
    slots: 100
  - name: hashed
    hash_on: header
    hash_on_header: X-User
    hash_fallback: ip
  - name: hashed-by-nothing
    algorithm: consistent-hashing
  - name: fewest
    algorithm: least-connections
targets:
  - target: backend-3.internal:8080
    upstream: backend.internal
    tags: [extra]
`,
  nested: `_format_version: "3.0"
services:
  - name: a
    host: upstream.internal
    port: 8080
    protocol: https
    retries: 2
    tls_verify: false
    tags: [team-a]
    plugins:
      - name: rate-limiting
        config: { minute: 5 }
    routes:
      - name: a1
        paths: ["/a", "~/items/\\\\d+$"]
        methods: [GET, POST]
        hosts: ["*.Example.com"]
        headers: { X-Version: ["1", "~*^v2"] }
        strip_path: false
        plugins:
          - name: openid-connect
            config: { issuer: "https://idp.example/realms/x", auth_methods: [bearer], proof_of_possession_mtls: strict }
      - paths: ["/unnamed"]
  - url: http://10.0.0.1:9000/base
routes:
  - name: top
    service: a
    paths: ["/top"]
    protocols: [https]
    https_redirect_status_code: 308
  - name: orphan
    paths: ["/orphan"]
consumers:
  - username: alice
    custom_id: "42"
    plugins:
      - name: rate-limiting
        route: a1
        config: { minute: 1 }
  - custom_id: only-custom
plugins:
  - name: tls-handshake-modifier
    route: top
  - name: rate-limiting
    instance_name: second
    service: a
    consumer: alice
    enabled: false
    config: { minute: 9 }
`,
  certificates: `_format_version: "3.0"
ca_certificates:
  - id: 2b5f3ad6-2a5e-4a34-8a69-5b1e7b1f8f00
    cert: |
      ${indent(CA_CERT, 6)}
certificates:
  - cert: |
      ${indent(EC_CERT, 6)}
    key: |
      ${indent(EC_KEY, 6)}
    cert_alt: |
      ${indent(RSA_CERT, 6)}
    key_alt: |
      ${indent(RSA_KEY, 6)}
    snis: [example.com, { name: "*.example.org" }]
services:
  - name: mtls
    url: https://secure.internal
    ca_certificates: [2b5f3ad6-2a5e-4a34-8a69-5b1e7b1f8f00]
`,
};

describe('exportConfig', () => {
  for (const [name, text] of Object.entries(configs)) {
    it(`round-trips the ${name} config: loading the export gives an equal config`, () => {
      const original = load(text);
      for (const references of ['name', 'id'] as const) {
        const again = loaded(loadConfigObject(exportConfig(original, { references }), { plugins: catalog }));
        assert.deepEqual(again, original, `references by ${references}`);
        assert.equal(configHash(again), configHash(original));
      }
    });

    it(`round-trips the ${name} config through YAML text byte for byte`, () => {
      const yaml = toDeckYaml(exportConfig(load(text)));
      const again = load(yaml);
      assert.equal(toDeckYaml(exportConfig(again)), yaml);
    });
  }

  it('writes references by name where the target has one, else by id', () => {
    const doc = exportConfig(load(configs.nested!));
    const routes = doc.routes as Array<Record<string, unknown>>;
    assert.equal(routes.find((r) => r.name === 'top')?.service, 'a');
    const plugins = doc.plugins as Array<Record<string, unknown>>;
    assert.equal(plugins.find((p) => p.instance_name === 'second')?.consumer, 'alice');
    const byId = exportConfig(load(configs.nested!), { references: 'id' });
    assert.match(String((byId.routes as Array<Record<string, unknown>>)[0]?.service), /^[0-9a-f-]{36}$/);
  });

  it('leaves private keys out when asked, and only then', () => {
    const config = load(configs.certificates!);
    const [withKeys] = exportConfig(config).certificates as Array<Record<string, unknown>>;
    assert.ok(typeof withKeys?.key === 'string' && typeof withKeys.key_alt === 'string');
    const [without] = exportConfig(config, { privateKeys: false }).certificates as Array<Record<string, unknown>>;
    assert.equal(without?.key, undefined);
    assert.equal(without?.key_alt, undefined);
    assert.ok(!JSON.stringify(exportConfig(config, { privateKeys: false })).includes('PRIVATE KEY'));
  });

  it('quotes strings that YAML 1.1 readers such as decK would take for booleans', () => {
    const yaml = toDeckYaml({ _format_version: '3.0', services: [{ name: 'on', host: 'no' }] });
    assert.match(yaml, /name: "on"/);
    assert.match(yaml, /host: "no"/);
  });
});

describe('exportConfig field order', () => {
  /** The same entities with their free-form fields in another order (as jsonb or an admin body gives them). */
  const written = (reversed: boolean): string => {
    const pair = (a: string, b: string): string => (reversed ? `${b}, ${a}` : `${a}, ${b}`);
    return `_format_version: "3.0"
services:
  - name: s
    host: upstream.internal
    routes:
      - name: r
        paths: ["/r"]
        headers: { ${pair('x-a: ["1"]', 'x-b: ["2"]')} }
        plugins:
          - name: openid-connect
            config: { ${pair('issuer: "https://idp.example/realms/x"', 'auth_methods: [bearer]')} }
upstreams:
  - name: u
    healthchecks:
      active: { ${pair('http_path: /health', 'timeout: 2')} }
consumers:
  - username: alice
    keyauth_credentials:
      - { ${pair('key: k1', 'tags: [t]')} }
`;
  };

  it('is the same whatever order the fields came in, alphabetical where the entity has no fixed order', () => {
    const a = exportConfig(load(written(false)));
    const b = exportConfig(load(written(true)));
    assert.equal(toDeckYaml(b), toDeckYaml(a));
    const route = (a.routes as Array<Record<string, unknown>>)[0] ?? (a.services as Array<{ routes: Array<Record<string, unknown>> }>)[0]!.routes[0]!;
    assert.deepEqual(Object.keys(route['headers'] as object), ['x-a', 'x-b']);
    const config = ((a.plugins as Array<{ config: object }>)[0] ?? (a.services as Array<{ routes: Array<{ plugins: Array<{ config: object }> }> }>)[0]!.routes[0]!.plugins[0]!).config;
    const keys = Object.keys(config);
    assert.deepEqual(keys, [...keys].sort());
  });
});
