import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { PluginSchema } from '../pipeline/plugin.js';
import { loadConfig } from './index.js';
import { catalog, fakeHandshake, fakeOidc, fakeOidcWithCheck, lines, loaded, loadErrors, TUTORIAL_SERVICE } from './test-fixtures.js';

const load = (text: string, plugins = catalog) => loaded(loadConfig(text, { env: {}, plugins }));

describe('plugins', () => {
  it('refuse a plugin the catalog does not have, never ignoring it', () => {
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nplugins: [{name: key-auth}]\n')), [
      "plugins[0].name: plugin 'key-auth' is not implemented by Portcullis",
    ]);
  });

  it('get their config defaults from the plugin schema, and protocols from the plugin', () => {
    const config = load('_format_version: "3.0"\nplugins:\n  - name: openid-connect\n    config: { issuer: https://idp.example }\n');
    const [plugin] = config.plugins;
    assert.deepEqual(plugin?.config, {
      issuer: 'https://idp.example',
      auth_methods: ['bearer', 'introspection', 'session'],
      proof_of_possession_mtls: 'off',
      proof_of_possession_auth_methods_validation: true,
      leeway: 0,
    });
    assert.deepEqual(plugin?.protocols, ['grpc', 'grpcs', 'http', 'https']);
    assert.equal(plugin?.enabled, true);
    assert.deepEqual([plugin?.service, plugin?.route, plugin?.consumer, plugin?.instance_name], [null, null, null, null]);
  });

  it("use Kong's default protocols when the plugin names none", () => {
    const config = load('_format_version: "3.0"\nservices: [{name: s, host: s.example, plugins: [{name: rate-limiting, config: {minute: 1}}]}]\n');
    assert.deepEqual(config.plugins[0]?.protocols, ['grpc', 'grpcs', 'http', 'https']);
  });

  it('read YAML 1.1 booleans inside plugin configs, only in boolean fields', () => {
    const config = load('_format_version: "3.0"\nplugins:\n  - name: openid-connect\n    config: { issuer: https://idp.example, proof_of_possession_auth_methods_validation: off, consumer_claims: [on] }\n');
    assert.equal(config.plugins[0]?.config.proof_of_possession_auth_methods_validation, false);
    assert.deepEqual(config.plugins[0]?.config.consumer_claims, ['on']);
  });

  it('report config errors under the path where the plugin was written', () => {
    const errors = loadErrors(`
_format_version: "3.0"
services:
  - name: s
    host: s.example
    routes:
      - name: r
        paths: [/]
        plugins:
          - name: openid-connect
            config: { issuer: not a url, leeway: -1, auth_methods: [bearer, magic] }
`);
    assert.deepEqual(lines(errors), [
      'services[0].routes[0].plugins[0].config.issuer: must be a valid uri',
      'services[0].routes[0].plugins[0].config.auth_methods[1]: must be one of bearer, introspection, session',
      'services[0].routes[0].plugins[0].config.leeway: must be at least 0',
    ]);
  });

  it('report a missing required config field', () => {
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nplugins: [{name: openid-connect}]\n')), [
      'plugins[0].config.issuer: required field missing',
    ]);
  });

  it('refuse scopes the plugin does not allow', () => {
    const errors = loadErrors(`
_format_version: "3.0"
consumers:
  - username: alice
    plugins: [{name: openid-connect, config: {issuer: https://idp.example}}]
plugins:
  - name: rate-limiting
    config: { minute: 1 }
`);
    assert.deepEqual(lines(errors), [
      "consumers[0].plugins[0]: plugin 'openid-connect' cannot be attached to a consumer",
      "plugins[0]: plugin 'rate-limiting' cannot be global; attach it to a service, route or consumer",
    ]);
  });

  it('combine nesting with references, e.g. a consumer-and-route plugin', () => {
    const config = load(`${TUTORIAL_SERVICE}consumers:
  - username: alice
    plugins:
      - name: rate-limiting
        route: example-route
        config: { minute: 2 }
`);
    const [plugin] = config.plugins;
    assert.equal(plugin?.consumer, config.consumers[0]?.id);
    assert.equal(plugin?.route, config.routes[0]?.id);
    assert.equal(plugin?.service, null);
  });

  it('close plugin config objects even when the schema author forgot additionalProperties', () => {
    const open: PluginSchema = {
      name: 'open',
      configSchema: Type.Object({ nested: Type.Object({ a: Type.String() }, { default: { a: 'x' } }) }),
      scopes: { global: true, service: true, route: true, consumer: true },
      defaultProtocols: [],
    };
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nplugins: [{name: open, config: {nested: {a: y, b: z}}}]\n', new Map([['open', open]]))), [
      'plugins[0].config.nested.b: unknown field',
    ]);
  });

  it('explain union fields by the branch the value resembles', () => {
    const union: PluginSchema = {
      name: 'union',
      configSchema: Type.Object({
        target: Type.Union([Type.String(), Type.Object({ host: Type.String(), port: Type.Integer() })]),
        mode: Type.Optional(Type.Union([Type.Literal('auto'), Type.Integer()])),
      }),
      scopes: { global: true, service: true, route: true, consumer: true },
      defaultProtocols: [],
    };
    const text = '_format_version: "3.0"\nplugins:\n  - {name: union, config: {target: {host: h, port: x}, mode: manual}}\n  - {name: union2, config: {target: 5}}\n';
    const errors = loadErrors(text, new Map([['union', union], ['union2', { ...union, name: 'union2' }]]));
    assert.deepEqual(lines(errors), [
      'plugins[0].config.target.port: must be an integer',
      'plugins[0].config.mode: must be "auto" or an integer',
      'plugins[1].config.target: must be a string or an object',
    ]);
  });
});

describe('plugin checkConfig', () => {
  const withCheck = new Map([fakeOidcWithCheck, fakeHandshake].map((s) => [s.name, s]));
  const oidcOnRoute = `
_format_version: "3.0"
services:
  - name: example-service
    url: http://httpbin.konghq.com/anything
    routes:
      - name: example-route
        paths: [/anything]
        plugins:
          - name: openid-connect
            config: { issuer: https://idp.example, proof_of_possession_mtls: strict }
`;

  it('runs after the config validates, with paths mapped back to where the plugin was written', () => {
    assert.deepEqual(lines(loadErrors(oidcOnRoute, withCheck)), [
      'services[0].routes[0].plugins[0].config.proof_of_possession_mtls: needs tls-handshake-modifier on the same route',
    ]);
  });

  it('passes when the cross-entity condition holds', () => {
    const text = `${oidcOnRoute}          - name: tls-handshake-modifier\n`;
    const config = load(text, withCheck);
    assert.equal(config.plugins.length, 2);
  });

  it('turns a throwing check into an error rather than a crash', () => {
    const throwing: PluginSchema = {
      ...fakeOidc,
      checkConfig: () => {
        throw new Error('boom');
      },
    };
    assert.deepEqual(lines(loadErrors('_format_version: "3.0"\nplugins: [{name: openid-connect, config: {issuer: https://i.example}}]\n', new Map([['openid-connect', throwing]]))), [
      "plugins[0]: plugin 'openid-connect' could not check its configuration: boom",
    ]);
  });
});
