import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../config/index.js';
import { lines } from '../../config/test-fixtures.js';
import { pluginSchemas } from '../index.js';

const errorsOf = (text: string): string[] => {
  const result = loadConfig(`_format_version: "3.0"\n${text}`, { env: {}, plugins: pluginSchemas });
  return result.ok ? [] : lines(result.errors);
};

describe('jwt and basic-auth plugin schemas', () => {
  it("refuse what Kong's schemas refuse, at the field's path", () => {
    assert.deepEqual(
      errorsOf(`services:
  - name: s
    url: http://127.0.0.1:1
    routes:
      - name: r
        paths: [/r]
        plugins:
          - name: jwt
            config: { maximum_expiration: 31536001, claims_to_verify: [exp, iat] }
plugins:
  - name: jwt
    config: { maximum_expiration: 60 }
  - name: basic-auth
    config: { anonymous: nobody, realm: "" }
`),
      [
        'services[0].routes[0].plugins[0].config.claims_to_verify[1]: must be one of exp, nbf',
        'services[0].routes[0].plugins[0].config.maximum_expiration: must be at most 31536000',
        'plugins[1].config.realm: must not be empty',
      ],
    );
  });

  it("apply Kong's defaults", () => {
    const result = loadConfig('_format_version: "3.0"\nplugins: [{ name: jwt }, { name: basic-auth }]\n', { env: {}, plugins: pluginSchemas });
    assert.ok(result.ok);
    assert.deepEqual(result.config.plugins.map((p) => p.config), [
      {
        uri_param_names: ['jwt'],
        cookie_names: [],
        header_names: ['authorization'],
        key_claim_name: 'iss',
        secret_is_base64: false,
        claims_to_verify: null,
        anonymous: null,
        run_on_preflight: true,
        maximum_expiration: 0,
        realm: null,
      },
      { anonymous: null, hide_credentials: false, realm: 'service' },
    ]);
    assert.deepEqual(result.config.plugins.map((p) => p.protocols), [['grpc', 'grpcs', 'http', 'https'], ['grpc', 'grpcs', 'http', 'https']]);
  });

  it("refuse an unknown anonymous consumer, and jwt's maximum_expiration without exp verified (Kong's entity check)", () => {
    assert.deepEqual(errorsOf('plugins: [{ name: jwt, config: { anonymous: ghost, maximum_expiration: 60, claims_to_verify: [nbf] } }, { name: basic-auth, config: { anonymous: ghost } }]\n'), [
      "plugins[0].config.anonymous: no consumer with id or username 'ghost'",
      'plugins[0].config.claims_to_verify: expected to contain: exp (maximum_expiration is above 0)',
      "plugins[1].config.anonymous: no consumer with id or username 'ghost'",
    ]);
  });
});
