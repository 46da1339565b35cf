import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { admin } from '../helpers/admin.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

type Json = Record<string, unknown>;

describe('admin API', () => {
  let gateway: GatewayProcess;
  let echo: EchoServer;
  let pki: TestPki;
  let url: string;

  before(async () => {
    [echo, pki] = await Promise.all([startEchoServer({ host: '127.0.0.1', port: 0 }), makeTestPki()]);
    gateway = await startGatewayProcess({ args: ['--admin-max-body-size', '65536'] });
    url = gateway.adminUrl;
  });
  after(async () => {
    await gateway.stop();
    await echo.close();
  });

  it('answers GET / with the Kong admin API level, its own version, node id and plugins, and /status with the config hash and counts', async () => {
    const answer = await admin(url, 'GET', '/');
    const root = answer.json<{ version: string; portcullis_version: string; node_id: string; plugins: { available_on_server: Json }; configuration: Json }>();
    // decK reads `^\d+\.\d+` and needs ≥ 3.0 (else it writes _format_version 1.1); the ingress controller strict semver ≥ 3.4.1.
    assert.match(root.version, /^3\.\d+\.\d+$/);
    assert.ok(Number(root.version.split('.')[1]) >= 4);
    assert.match(root.portcullis_version, /^\d+\.\d+\.\d+/);
    assert.equal(answer.headers.server, `portcullis/${root.portcullis_version}`);
    assert.match(root.node_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(root.plugins.available_on_server['request-termination'], { version: root.portcullis_version, priority: 2 });
    assert.equal(root.configuration.database, 'off');
    assert.equal(typeof root.configuration.router_flavor, 'string');
    const status = (await admin(url, 'GET', '/status')).json<{ ready: boolean; configuration_hash: string; counts: Json }>();
    assert.equal(status.ready, true);
    assert.equal('not_ready_reason' in status, false);
    const ready = await admin(url, 'GET', '/status/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json(), { message: 'ready' });
    assert.equal((await admin(url, 'POST', '/status/ready', {})).status, 405);
    assert.match(status.configuration_hash, /^[0-9a-f]{64}$/);
    assert.equal(typeof status.counts.services, 'number');
  });

  it("lists enabled plugins and serves their schemas in Kong's shape (and the JSON schema at /json-schemas)", async () => {
    const enabled = (await admin(url, 'GET', '/plugins/enabled')).json<{ enabled_plugins: string[] }>();
    assert.ok(enabled.enabled_plugins.includes('request-termination'));
    const schema = await admin(url, 'GET', '/schemas/plugins/request-termination');
    assert.equal(schema.status, 200);
    const fields = schema.json<{ fields: Array<Record<string, Json>> }>().fields;
    const config = fields.find((f) => 'config' in f)?.config as { type: string; fields: Array<Record<string, Json>> };
    assert.equal(config.type, 'record');
    assert.equal(config.fields.find((f) => 'status_code' in f)?.status_code?.default, 503);
    const missing = await admin(url, 'GET', '/schemas/plugins/no-such-plugin');
    assert.equal(missing.status, 404);
    assert.equal(missing.json<{ message: string }>().message, "No plugin named 'no-such-plugin'");
    const json = (await admin(url, 'GET', '/json-schemas/plugins/request-termination')).json<{ config: { properties: { status_code: { default: number } } } }>().config;
    assert.equal(json.properties.status_code.default, 503);
    const routes = (await admin(url, 'GET', '/schemas/routes')).json<{ fields: Array<Record<string, Json>> }>().fields;
    assert.equal(routes.find((f) => 'strip_path' in f)?.strip_path?.default, true);
    assert.equal((await admin(url, 'GET', '/schemas/no-such-entity')).status, 404);
  });

  it('creates, reads, updates and deletes a service, a nested route and a route plugin, and proxies with them', async () => {
    const created = await admin(url, 'POST', '/services', { name: 'crud', url: `${echo.url}/anything` });
    assert.equal(created.status, 201, created.text);
    const service = created.json<{ id: string; host: string; port: number; path: string; retries: number }>();
    assert.equal(service.path, '/anything');
    assert.equal(service.retries, 5, 'defaults are applied');
    const route = await admin(url, 'POST', '/services/crud/routes', { name: 'crud-route', paths: ['/crud'] });
    assert.equal(route.status, 201, route.text);
    assert.deepEqual(route.json<{ service: Json }>().service, { id: service.id });
    assert.equal((await fetchText(`${gateway.httpUrl}/crud/x`)).status, 200);

    const byName = await admin(url, 'GET', '/services/crud');
    assert.equal(byName.json<{ id: string }>().id, service.id);
    assert.equal((await admin(url, 'GET', `/services/${service.id.toUpperCase()}`)).status, 200, 'ids in any case');

    const patched = await admin(url, 'PATCH', '/services/crud', { retries: 1 });
    assert.equal(patched.status, 200);
    assert.equal(patched.json<{ retries: number; path: string }>().retries, 1);
    assert.equal(patched.json<{ path: string }>().path, '/anything', 'PATCH keeps other fields');

    const plugin = await admin(url, 'POST', '/routes/crud-route/plugins', { name: 'request-termination', config: { status_code: 418 } });
    assert.equal(plugin.status, 201, plugin.text);
    assert.equal((await fetchText(`${gateway.httpUrl}/crud/x`)).status, 418);
    const pluginId = plugin.json<{ id: string }>().id;
    const patchedPlugin = await admin(url, 'PATCH', `/plugins/${pluginId}`, { config: { message: 'teapot' } });
    assert.deepEqual(
      [patchedPlugin.json<{ config: Json }>().config.status_code, patchedPlugin.json<{ config: Json }>().config.message],
      [418, 'teapot'],
      'PATCH merges plugin config',
    );
    assert.equal((await admin(url, 'GET', '/services/crud/routes')).json<{ data: unknown[] }>().data.length, 1);
    assert.equal((await admin(url, 'GET', '/routes/crud-route/plugins')).json<{ data: unknown[] }>().data.length, 1);

    assert.equal((await admin(url, 'DELETE', '/routes/crud-route')).status, 204);
    assert.equal((await admin(url, 'GET', `/plugins/${pluginId}`)).status, 404, "a route's plugins go with it");
    assert.equal((await admin(url, 'DELETE', '/services/crud')).status, 204);
    assert.equal((await admin(url, 'GET', '/services/crud')).status, 404);
    assert.equal((await admin(url, 'DELETE', '/services/crud')).status, 204, 'deleting what is gone is 204, as Kong');
  });

  it('PUT creates an entity named by the URL, then replaces it', async () => {
    const created = await admin(url, 'PUT', '/consumers/alice', { custom_id: 'a-1' });
    assert.equal(created.status, 201, created.text);
    const replaced = await admin(url, 'PUT', '/consumers/alice', { username: 'alice', tags: ['x'] });
    assert.equal(replaced.status, 200);
    assert.deepEqual([replaced.json<Json>().custom_id, replaced.json<Json>().tags], [null, ['x']]);
    assert.equal(replaced.json<Json>().id, created.json<Json>().id);
    assert.equal((await admin(url, 'DELETE', '/consumers/alice')).status, 204);
  });

  it('paginates lists with size and offset and filters by tags', async () => {
    for (const n of [1, 2, 3]) assert.equal((await admin(url, 'POST', '/services', { name: `page-${n}`, host: 'example.com', tags: n === 2 ? ['two'] : [] })).status, 201);
    const first = (await admin(url, 'GET', '/services?size=2')).json<{ data: Array<{ name: string }>; next: string; offset: string }>();
    assert.equal(first.data.length, 2);
    assert.match(first.next, /^\/services\?size=2&offset=/);
    const second = (await admin(url, 'GET', first.next)).json<{ data: unknown[]; next: null }>();
    assert.equal(second.data.length, 1);
    assert.equal(second.next, null);
    assert.deepEqual((await admin(url, 'GET', '/services?tags=two')).json<{ data: Array<{ name: string }> }>().data.map((s) => s.name), ['page-2']);
    assert.equal((await admin(url, 'GET', '/services?size=0')).json<Json>().name, 'invalid size');
    assert.equal((await admin(url, 'GET', '/services?offset=garbage')).status, 400);
    for (const n of [1, 2, 3]) await admin(url, 'DELETE', `/services/page-${n}`);
  });

  it('answers schema violations with 400 and fields mirroring the path, and changes nothing', async () => {
    const before = (await admin(url, 'GET', '/status')).json<{ configuration_hash: string }>().configuration_hash;
    const bad = await admin(url, 'POST', '/routes', { name: 'bad route', paths: ['no-slash'], protocols: ['ftp'], headers: { 'x-a': [] } });
    assert.equal(bad.status, 400);
    const body = bad.json<{ code: number; name: string; message: string; fields: Json }>();
    assert.equal(body.code, 2);
    assert.equal(body.name, 'schema violation');
    assert.match(body.message, /^schema violation \(/);
    assert.ok(typeof body.fields.name === 'string');
    assert.ok(typeof (body.fields.paths as Json)['0'] === 'string', JSON.stringify(body.fields));
    const plugin = await admin(url, 'POST', '/plugins', { name: 'request-termination', config: { status_code: 'x', unknown: 1 } });
    assert.ok(typeof (plugin.json<{ fields: { config: Json } }>().fields.config.status_code) === 'string');
    assert.equal((await admin(url, 'GET', '/status')).json<{ configuration_hash: string }>().configuration_hash, before);
  });

  it('answers 409 to a duplicate name and 400 to a delete that would leave a dangling reference', async () => {
    await admin(url, 'POST', '/services', { name: 'dup', host: 'example.com' });
    const dup = await admin(url, 'POST', '/services', { name: 'dup', host: 'example.org' });
    assert.equal(dup.status, 409);
    assert.deepEqual([dup.json<Json>().code, dup.json<Json>().message], [5, `UNIQUE violation detected on '{name="dup"}'`]);
    await admin(url, 'POST', '/services/dup/routes', { name: 'dup-route', paths: ['/dup'] });
    const refused = await admin(url, 'DELETE', '/services/dup');
    assert.equal(refused.status, 400);
    assert.equal(refused.json<Json>().message, "an existing 'routes' entity references this 'services' entity");
    await admin(url, 'DELETE', '/routes/dup-route');
    await admin(url, 'DELETE', '/services/dup');
  });

  it('answers 404 for unknown entities and paths, 405 for unsupported methods', async () => {
    assert.deepEqual((await admin(url, 'GET', '/routes/nope')).json<Json>(), { code: 6, name: 'not found', message: 'Not found' });
    assert.equal((await admin(url, 'GET', '/services/nope/routes')).status, 404);
    assert.equal((await admin(url, 'GET', '/nothing-here')).status, 404);
    assert.equal((await admin(url, 'DELETE', '/status')).status, 405);
    assert.equal((await admin(url, 'PATCH', '/services', {})).status, 405);
  });

  it('refuses bodies that are malformed, too large or of another type with a clear 4xx', async () => {
    const malformed = await admin(url, 'POST', '/services', '{"name":');
    assert.deepEqual([malformed.status, malformed.json<Json>().name], [400, 'invalid body']);
    const notObject = await admin(url, 'POST', '/services', '[1,2]');
    assert.equal(notObject.status, 400);
    const large = await admin(url, 'POST', '/config', JSON.stringify({ pad: 'x'.repeat(70_000) }));
    assert.deepEqual([large.status, large.json<Json>().name], [413, 'body too large']);
    const text = await fetchText(`${url}/services`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'name=x' });
    assert.deepEqual([text.status, text.json<Json>().name], [415, 'unsupported media type']);
    const yaml = await fetchText(`${url}/services`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: 'name: from-yaml\nhost: example.com\n' });
    assert.equal(yaml.status, 201, yaml.text);
    const form = await fetchText(`${url}/services`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=from-form&host=example.com&port=8080&tags[]=t' });
    assert.equal(form.status, 201, form.text);
    assert.deepEqual([form.json<Json>().port, form.json<Json>().tags], [8080, ['t']]);
    await admin(url, 'DELETE', '/services/from-yaml');
    await admin(url, 'DELETE', '/services/from-form');
  });

  it('keeps certificate keys out of listings unless asked, and manages SNIs', async () => {
    const created = await admin(url, 'POST', '/certificates', { cert: pki.serverCert.certPem, key: pki.serverCert.keyPem, snis: ['api.test'] });
    assert.equal(created.status, 201, created.text);
    assert.ok(!created.text.includes('PRIVATE KEY'));
    const id = created.json<{ id: string }>().id;
    assert.ok(!(await admin(url, 'GET', '/certificates')).text.includes('PRIVATE KEY'));
    assert.ok(!(await admin(url, 'GET', `/certificates/${id}`)).text.includes('PRIVATE KEY'));
    assert.ok(!(await admin(url, 'GET', '/config')).text.includes('PRIVATE KEY'));
    assert.ok((await admin(url, 'GET', `/certificates/${id}?include_private_keys=true`)).text.includes('PRIVATE KEY'));
    assert.equal((await admin(url, 'GET', '/certificates/api.test')).json<Json>().id, id, 'found by SNI');

    const sni = await admin(url, 'POST', '/snis', { name: 'other.test', certificate: { id } });
    assert.equal(sni.status, 201, sni.text);
    assert.deepEqual((await admin(url, 'GET', `/certificates/${id}/snis`)).json<{ data: Array<{ name: string }> }>().data.map((s) => s.name), ['api.test', 'other.test']);
    assert.equal((await admin(url, 'POST', '/snis', { name: 'other.test', certificate: { id } })).status, 409);
    const renamed = await admin(url, 'PATCH', '/snis/other.test', { name: 'renamed.test' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.json<{ name: string }>().name, 'renamed.test');
    assert.equal((await admin(url, 'GET', '/snis/other.test')).status, 404);
    assert.equal((await admin(url, 'PATCH', '/snis/missing.test', { name: 'x.test' })).status, 404);
    const put = await admin(url, 'PUT', '/snis/put.test', { certificate: { id } });
    assert.equal(put.status, 201);
    assert.equal((await admin(url, 'PUT', '/snis/put.test', { certificate: { id } })).status, 200);
    assert.deepEqual((await admin(url, 'GET', `/certificates/${id}/snis`)).json<{ data: Array<{ name: string }> }>().data.map((s) => s.name), ['api.test', 'renamed.test', 'put.test']);
    assert.equal((await admin(url, 'DELETE', '/snis/put.test')).status, 204);
    assert.equal((await admin(url, 'DELETE', '/snis/renamed.test')).status, 204);
    assert.equal((await admin(url, 'DELETE', '/snis/other.test')).status, 204);
    assert.equal((await admin(url, 'DELETE', `/certificates/${id}`)).status, 204);
    assert.ok(!gateway.logs.some((l) => JSON.stringify(l).includes('PRIVATE KEY')), 'keys never reach the log');
  });

  it('replaces the whole configuration with POST /config and exports it with GET /config', async () => {
    const yaml = `_format_version: "3.0"\nservices:\n  - name: whole\n    url: ${echo.url}/anything\n    routes:\n      - name: whole-route\n        paths: [/whole]\n`;
    const posted = await fetchText(`${url}/config`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
    assert.equal(posted.status, 201, posted.text);
    assert.equal((await fetchText(`${gateway.httpUrl}/whole`)).status, 200);
    const exported = await admin(url, 'GET', '/config');
    assert.match(String(exported.headers['content-type']), /yaml/);
    assert.match(exported.text, /name: whole-route\n\s+service: whole\n/);
    const etag = String(exported.headers.etag);
    const json = (await admin(url, 'GET', '/config', undefined, { accept: 'application/json' })).json<{ routes: Json[] }>();
    assert.equal(json.routes.length, 1);

    const again = await fetchText(`${url}/config`, { method: 'POST', headers: { 'content-type': 'application/yaml', 'if-match': etag }, body: exported.text });
    assert.equal(again.status, 201);
    assert.equal(again.json<Json>().changed, false, 'GET /config round-trips');
    const kong = await admin(url, 'POST', '/config', { config: yaml });
    assert.equal(kong.status, 201, "Kong's {config: <yaml>} body");

    const stale = await admin(url, 'POST', '/config', { _format_version: '3.0' }, { 'if-match': '"0000"' });
    assert.deepEqual([stale.status, stale.json<Json>().name], [412, 'precondition failed']);
    const invalid = await admin(url, 'POST', '/config', { _format_version: '3.0', routes: [{ name: 'r', service: 'missing', paths: ['/x'] }] });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json<Json>().code, 14);
    assert.deepEqual(invalid.json<{ fields: Json }>().fields, { routes: { '0': { service: "service 'missing' not found" } } });
    assert.equal((await fetchText(`${gateway.httpUrl}/whole`)).status, 200, 'a refused config changes nothing');
  });

  it('serves Prometheus metrics', async () => {
    const metrics = await admin(url, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers['content-type']), /text\/plain/);
    for (const name of ['portcullis_http_requests_total', 'portcullis_request_latency_ms_bucket', 'portcullis_config_version', 'portcullis_open_connections', 'process_cpu_user_seconds_total']) {
      assert.match(metrics.text, new RegExp(`^${name}`, 'm'), name);
    }
  });
});
