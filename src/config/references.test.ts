import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './index.js';
import { catalog, lines, loaded, loadErrors } from './test-fixtures.js';

const load = (text: string) => loaded(loadConfig(text, { env: {}, plugins: catalog }));
const SERVICE_ID = '0a6b7c1d-0000-4000-8000-000000000001';

describe('references', () => {
  it('resolve by name or id, as strings or {name}/{id} objects', () => {
    const config = load(`
_format_version: "3.0"
services:
  - { id: ${SERVICE_ID}, name: api, host: api.example }
routes:
  - { name: by-name, service: api, paths: [/a] }
  - { name: by-id, service: ${SERVICE_ID}, paths: [/b] }
  - { name: by-name-object, service: { name: api }, paths: [/c] }
  - { name: by-id-object, service: { id: ${SERVICE_ID} }, paths: [/d] }
  - { name: no-service, paths: [/e] }
consumers:
  - { username: alice }
plugins:
  - { name: rate-limiting, consumer: alice, config: { minute: 1 } }
  - { name: rate-limiting, route: { name: by-id }, consumer: { username: alice }, config: { minute: 2 } }
`);
    assert.deepEqual(config.routes.map((r) => r.service), [SERVICE_ID, SERVICE_ID, SERVICE_ID, SERVICE_ID, null]);
    assert.equal(config.plugins[0]?.consumer, config.consumers[0]?.id);
    assert.equal(config.plugins[1]?.route, config.routes[1]?.id);
  });

  it('that find nothing are errors at the reference', () => {
    const errors = loadErrors(`
_format_version: "3.0"
services:
  - name: api
    host: api.example
    client_certificate: { id: 0a6b7c1d-0000-4000-8000-00000000000c }
    ca_certificates: [0a6b7c1d-0000-4000-8000-00000000000a]
routes:
  - { name: r, service: missing-service, paths: [/] }
plugins:
  - { name: rate-limiting, route: missing-route, config: { minute: 1 } }
  - { name: rate-limiting, service: { id: 0a6b7c1d-0000-4000-8000-0000000000ff }, config: { minute: 1 } }
  - { name: rate-limiting, consumer: bob, config: { minute: 1 } }
`);
    assert.deepEqual(lines(errors), [
      "services[0].client_certificate: certificate '0a6b7c1d-0000-4000-8000-00000000000c' not found",
      "services[0].ca_certificates[0]: ca_certificate '0a6b7c1d-0000-4000-8000-00000000000a' not found",
      "routes[0].service: service 'missing-service' not found",
      "plugins[0].route: route 'missing-route' not found",
      "plugins[1].service: service '0a6b7c1d-0000-4000-8000-0000000000ff' not found",
      "plugins[2].consumer: consumer 'bob' not found",
    ]);
  });

  it('under a nesting parent must name that parent, if they name anything', () => {
    const errors = loadErrors(`
_format_version: "3.0"
services:
  - name: a
    host: a.example
    routes:
      - { service: { name: b }, paths: [/] }
  - name: b
    host: b.example
`);
    assert.deepEqual(lines(errors), ["services[0].routes[0].service: must be the enclosing service 'a' or be omitted"]);
  });
});

describe('duplicates', () => {
  it('of names, usernames, custom_ids and ids are errors pointing at the first', () => {
    const errors = loadErrors(`
_format_version: "3.0"
services:
  - { name: api, host: a.example, routes: [{ name: r, paths: [/a] }] }
  - { name: api, host: b.example, id: ${SERVICE_ID} }
  - { name: other, host: c.example, id: ${SERVICE_ID.toUpperCase()} }
routes:
  - { name: r, paths: [/b] }
consumers:
  - { username: alice, custom_id: c1 }
  - { username: alice, custom_id: c1 }
`);
    assert.deepEqual(lines(errors), [
      "services[1].name: duplicate name 'api' (also used by services[0])",
      `services[2].id: duplicate id '${SERVICE_ID}' (also used by services[1])`,
      "routes[0].name: duplicate name 'r' (also used by services[0].routes[0])",
      "consumers[1].username: duplicate username 'alice' (also used by consumers[0])",
      "consumers[1].custom_id: duplicate custom_id 'c1' (also used by consumers[0])",
    ]);
  });

  it('of a plugin on exactly the same scope are errors, whatever the instance_name', () => {
    const errors = loadErrors(`
_format_version: "3.0"
services:
  - name: api
    host: api.example
    plugins: [{ name: rate-limiting, config: { minute: 1 } }]
plugins:
  - { name: rate-limiting, service: api, instance_name: again, config: { minute: 2 } }
`);
    assert.deepEqual(lines(errors), [
      "plugins[0]: plugin 'rate-limiting' is already configured on the same service, route and consumer (at services[0].plugins[0])",
    ]);
  });

  it('do not include the same plugin on different scopes', () => {
    const config = load(`
_format_version: "3.0"
services:
  - name: api
    host: api.example
    routes: [{ name: r, paths: [/] }]
plugins:
  - { name: openid-connect, config: { issuer: https://i.example } }
  - { name: openid-connect, service: api, config: { issuer: https://i.example } }
  - { name: openid-connect, route: r, config: { issuer: https://i.example } }
`);
    assert.equal(new Set(config.plugins.map((p) => p.id)).size, 3);
  });
});

describe('derived ids', () => {
  it('follow names, not positions', () => {
    const a = load('_format_version: "3.0"\nservices:\n  - {name: one, host: a.example}\n  - {name: two, host: b.example}\n');
    const b = load('_format_version: "3.0"\nservices:\n  - {name: two, host: b.example}\n  - {name: one, host: a.example}\n');
    assert.equal(a.services[0]?.id, b.services[1]?.id);
    assert.equal(a.services[1]?.id, b.services[0]?.id);
  });

  it('differ between kinds with the same name', () => {
    const config = load('_format_version: "3.0"\nservices: [{name: x, host: a.example, routes: [{name: x, paths: [/]}]}]\n');
    assert.notEqual(config.services[0]?.id, config.routes[0]?.id);
  });
});
