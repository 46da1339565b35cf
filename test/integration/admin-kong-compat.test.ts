/**
 * The admin API answers the requests of decK, go-kong and the Kong Ingress Controller as Kong does:
 * one test per finding of the interop issue (the version, the lists decK reads, the schema shapes,
 * `?custom_id=`, SNI ids from `PUT /snis/{uuid}`, schema errors before unique violations), plus the
 * plugin presentation, timestamps in bodies and `POST /config`'s Kong flags. The go-kong suite
 * (`test/interop/`) replays whole decK sequences on top of these.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

type Json = Record<string, unknown>;

describe('admin API: Kong compatibility for decK, go-kong and the ingress controller', () => {
  let gateway: GatewayProcess;
  let pki: TestPki;
  let url: string;

  before(async () => {
    [gateway, pki] = await Promise.all([startGatewayProcess(), makeTestPki()]);
    url = gateway.adminUrl;
  });
  after(async () => {
    await gateway.stop();
  });

  it('answers the lists decK reads before anything else: upstreams, and the core entities not implemented as empty lists', async () => {
    for (const collection of ['upstreams', 'vaults', 'keys', 'key-sets']) {
      const list = await admin(url, 'GET', `/${collection}?size=1000`);
      assert.equal(list.status, 200, collection);
      assert.deepEqual(list.json(), { data: [], next: null });
    }
    const id = randomUUID();
    assert.equal((await admin(url, 'GET', `/vaults/${id}`)).status, 404);
    assert.equal((await admin(url, 'DELETE', `/vaults/${id}`)).status, 204);
    const create = await admin(url, 'PUT', `/vaults/${id}`, { prefix: 'env', name: 'env' });
    assert.equal(create.status, 400);
    assert.match(create.json<{ message: string }>().message, /does not support 'vaults'/);
    // Upstreams are real now (test/integration/admin-upstreams.test.ts); an unknown one is 404.
    assert.equal((await admin(url, 'GET', `/upstreams/${id}/targets?size=1000`)).status, 404);
  });

  it("GET /consumers?custom_id= answers only that consumer (go-kong's GetByCustomID), or none", async () => {
    for (const [username, customId] of [['alice', 'c-alice'], ['bob', 'c-bob']]) {
      assert.equal((await admin(url, 'POST', '/consumers', { username, custom_id: customId })).status, 201);
    }
    const bob = (await admin(url, 'GET', '/consumers?custom_id=c-bob')).json<{ data: Json[] }>();
    assert.deepEqual(bob.data.map((c) => c.username), ['bob']);
    assert.deepEqual((await admin(url, 'GET', '/consumers?custom_id=nobody')).json<{ data: Json[] }>().data, []);
  });

  it('PUT /snis/{uuid} keeps the id decK sends; a certificate updated with its SNI names keeps them; the dump carries the id', async () => {
    const certId = randomUUID();
    const cert = { cert: pki.serverCert.certPem, key: pki.serverCert.keyPem, snis: ['a.example.test'] };
    assert.equal((await admin(url, 'PUT', `/certificates/${certId}`, cert)).status, 201);
    const sniId = randomUUID();
    const put = await admin(url, 'PUT', `/snis/${sniId}`, { id: sniId, name: 'b.example.test', certificate: { id: certId }, tags: ['t1'] });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual(put.json(), { id: sniId, name: 'b.example.test', certificate: { id: certId }, tags: ['t1'] });
    assert.equal((await admin(url, 'GET', `/snis/${sniId}`)).json<Json>().name, 'b.example.test');
    assert.equal((await admin(url, 'GET', '/snis/b.example.test')).json<Json>().id, sniId);

    const nameless = await admin(url, 'PUT', `/snis/${randomUUID()}`, { certificate: { id: certId } });
    assert.equal(nameless.status, 400, 'a UUID is an id, never a name');
    assert.match(nameless.json<{ message: string }>().message, /name: required field missing/);

    // decK resends the current names with every certificate update.
    const update = await admin(url, 'PUT', `/certificates/${certId}`, { ...cert, snis: ['a.example.test', 'b.example.test'], created_at: 1700000000 });
    assert.equal(update.status, 200, update.text);
    assert.equal((await admin(url, 'GET', `/snis/${sniId}`)).json<Json>().name, 'b.example.test');
    const dump = await admin(url, 'GET', '/config');
    assert.match(dump.text, new RegExp(`- name: b\\.example\\.test\\n\\s+id: ${sniId}`));

    const renamed = await admin(url, 'PUT', `/snis/${sniId}`, { name: 'c.example.test', certificate: { id: certId } });
    assert.equal(renamed.status, 200);
    assert.equal((await admin(url, 'GET', '/snis/b.example.test')).status, 404);
    assert.equal((await admin(url, 'DELETE', `/snis/${sniId}`)).status, 204);
    assert.equal((await admin(url, 'GET', `/snis/${sniId}`)).status, 404);
    assert.equal((await admin(url, 'DELETE', `/certificates/${certId}`)).status, 204);
  });

  it('checks the schema before unique constraints: a duplicate with a wrong field type is a 400, a well-formed duplicate a 409', async () => {
    assert.equal((await admin(url, 'POST', '/services', { name: 'dup', url: 'http://upstream.test' })).status, 201);
    const malformed = await admin(url, 'POST', '/services', { name: 'dup', url: 'http://upstream.test', retries: 'many' });
    assert.equal(malformed.status, 400, malformed.text);
    assert.equal(malformed.json<Json>().name, 'schema violation');
    assert.deepEqual(malformed.json<Json>().fields, { retries: 'must be an integer' });
    const duplicate = await admin(url, 'POST', '/services', { name: 'dup', url: 'http://upstream.test' });
    assert.equal(duplicate.status, 409);
  });

  it('accepts Kong timestamps in bodies and shows every plugin config field, unset ones as null', async () => {
    const serviceId = randomUUID();
    const service = await admin(url, 'PUT', `/services/${serviceId}`, { name: 'timestamps', host: 'upstream.test', protocol: 'http', port: 80, created_at: 1700000000, updated_at: 1700000001 });
    assert.equal(service.status, 201, service.text);
    const pluginId = randomUUID();
    const plugin = await admin(url, 'PUT', `/plugins/${pluginId}`, { name: 'request-termination', service: { id: serviceId }, config: { status_code: 418, trigger: null }, protocols: ['http', 'https'], enabled: true });
    assert.equal(plugin.status, 201, plugin.text);
    assert.deepEqual(plugin.json<Json>().config, { status_code: 418, message: null, body: null, content_type: null, trigger: null, echo: false });
    const listed = (await admin(url, 'GET', '/plugins?size=1000')).json<{ data: Json[] }>().data.find((p) => p.id === pluginId);
    assert.deepEqual(listed?.config, plugin.json<Json>().config);
  });

  it('validates entities as Kong: the schema and its rules, not references or uniqueness', async () => {
    const valid = await admin(url, 'POST', '/schemas/routes/validate', { name: 'timestamps', paths: ['/v'], service: { id: randomUUID(), name: 'not-created-yet' } });
    assert.equal(valid.status, 200, valid.text);
    assert.deepEqual(valid.json(), { message: 'schema validation successful' });
    const invalid = await admin(url, 'POST', '/schemas/routes/validate', { paths: ['no-slash'], strip_path: 'yes please' });
    assert.equal(invalid.status, 400);
    assert.deepEqual(Object.keys(invalid.json<{ fields: Json }>().fields).sort(), ['paths', 'strip_path']);
    const plugin = await admin(url, 'POST', '/schemas/plugins/validate', { name: 'request-termination', config: { status_code: 'x' } });
    assert.equal(plugin.status, 400);
    assert.deepEqual(plugin.json<{ fields: Json }>().fields, { config: { status_code: 'must be an integer' } });
    assert.equal((await admin(url, 'POST', '/schemas/snis/validate', { name: 'ok.example.test', certificate: { id: randomUUID() } })).status, 200);
    assert.equal((await admin(url, 'POST', '/schemas/nothing/validate', {})).status, 404);
    assert.equal((await admin(url, 'GET', '/schemas/plugins/validate')).status, 405);
  });

  it("POST /config: ?check_hash=1 answers 304 for the configuration already live, ?flatten_errors=1 groups errors by entity", async () => {
    const config = { _format_version: '3.0', services: [{ name: 'pushed', url: 'http://upstream.test', tags: ['k8s-name:pushed'] }] };
    assert.equal((await admin(url, 'POST', '/config?check_hash=1', config)).status, 201);
    assert.equal((await admin(url, 'POST', '/config?check_hash=1', config)).status, 304);
    const broken = {
      _format_version: '3.0',
      services: [{ name: 'pushed', url: 'http://upstream.test', tags: ['k8s-name:pushed'], routes: [{ name: 'bad', paths: ['nope'], strip_path: 'x', tags: ['k8s-name:bad'] }] }],
    };
    const refused = await admin(url, 'POST', '/config?check_hash=1&flatten_errors=1', broken);
    assert.equal(refused.status, 400);
    const flattened = refused.json<{ flattened_errors: Array<Json & { errors: Json[] }> }>().flattened_errors;
    assert.equal(flattened.length, 1);
    assert.deepEqual(
      { type: flattened[0]?.entity_type, name: flattened[0]?.entity_name, tags: flattened[0]?.entity_tags },
      { type: 'route', name: 'bad', tags: ['k8s-name:bad'] },
    );
    assert.deepEqual(flattened[0]?.errors.map((e) => e.field).sort(), ['paths.0', 'strip_path']);
    const status = (await admin(url, 'GET', '/status')).json<{ configuration_hash: string }>();
    assert.match(status.configuration_hash, /^[0-9a-f]{64}$/);
  });
});
