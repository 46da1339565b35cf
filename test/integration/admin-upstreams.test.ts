/**
 * Upstreams and targets through the admin API, as Kong 3.x answers them (`kong/api/routes/upstreams.lua`,
 * spec `07-upstreams_routes_spec.lua` and `08-targets_routes_spec.lua`): `/upstreams` is a CRUD
 * collection like `/services`; targets live under their upstream, stored as `host:port` (8000 when
 * none is given), found by address or id, deleted with their upstream.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

type Json = Record<string, unknown>;
interface Page {
  data: Json[];
  next: string | null;
  offset?: string;
}

describe('admin API: upstreams and targets', () => {
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

  const targetsOf = async (upstream: string, all = false): Promise<string[]> =>
    (await admin(url, 'GET', `/upstreams/${upstream}/targets${all ? '/all' : ''}`)).json<Page>().data.map((t) => String(t.target));

  it('creates, lists, reads, patches, replaces and deletes upstreams, shown with every field and Kong defaults', async () => {
    const created = await admin(url, 'POST', '/upstreams', { name: 'backend.internal', tags: ['t1'] });
    assert.equal(created.status, 201, created.text);
    const upstream = created.json<Json & { healthchecks: { active: Json; passive: Json; threshold: number } }>();
    assert.match(String(upstream.id), /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      [upstream.name, upstream.algorithm, upstream.hash_on, upstream.hash_fallback, upstream.slots, upstream.hash_on_cookie_path, upstream.use_srv_name],
      ['backend.internal', 'round-robin', 'none', 'none', 10000, '/', false],
    );
    assert.deepEqual([upstream.client_certificate, upstream.host_header, upstream.hash_on_header, upstream.healthchecks.active.https_sni], [null, null, null, null]);
    assert.deepEqual(upstream.healthchecks.active.healthy, { interval: 0, http_statuses: [200, 302], successes: 0 });
    assert.equal(upstream.healthchecks.threshold, 0);
    assert.deepEqual(upstream.tags, ['t1']);

    const list = await admin(url, 'GET', '/upstreams');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json<Page>().data.map((u) => u.name), ['backend.internal']);
    assert.deepEqual((await admin(url, 'GET', '/upstreams/backend.internal')).json(), upstream);
    assert.deepEqual((await admin(url, 'GET', `/upstreams/${String(upstream.id).toUpperCase()}`)).json(), upstream);
    assert.deepEqual((await admin(url, 'GET', '/upstreams?tags=t1')).json<Page>().data.length, 1);

    const patched = await admin(url, 'PATCH', '/upstreams/backend.internal', { slots: 100, healthchecks: { passive: { unhealthy: { http_failures: 3 } } }, created_at: 1700000000 });
    assert.equal(patched.status, 200, patched.text);
    const after = patched.json<{ id: string; slots: number; healthchecks: { passive: { unhealthy: Json } } }>();
    assert.equal(after.id, upstream.id);
    assert.equal(after.slots, 100);
    assert.deepEqual(after.healthchecks.passive.unhealthy, { http_statuses: [429, 500, 503], tcp_failures: 0, timeouts: 0, http_failures: 3 });

    const put = await admin(url, 'PUT', '/upstreams/other.internal', { host_header: 'other.example:8080' });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual([put.json<Json>().name, put.json<Json>().host_header], ['other.internal', 'other.example:8080']);
    const replaced = await admin(url, 'PUT', '/upstreams/other.internal', { slots: 20 });
    assert.equal(replaced.status, 200, replaced.text);
    assert.deepEqual([replaced.json<Json>().id, replaced.json<Json>().slots, replaced.json<Json>().host_header], [put.json<Json>().id, 20, null], 'PUT replaces the whole upstream');

    assert.equal((await admin(url, 'DELETE', '/upstreams/other.internal')).status, 204);
    assert.equal((await admin(url, 'GET', '/upstreams/other.internal')).status, 404);
    assert.equal((await admin(url, 'DELETE', '/upstreams/other.internal')).status, 204, 'deleting an absent upstream is 204, as Kong');
    assert.equal((await admin(url, 'GET', '/status')).json<{ counts: Json }>().counts.upstreams, 1);
  });

  it('refuses an invalid upstream with Kong\'s 400 schema violation naming the field, and a taken name with 409', async () => {
    const header = await admin(url, 'POST', '/upstreams', { name: 'hashed.internal', hash_on: 'header' });
    assert.equal(header.status, 400, header.text);
    const body = header.json<{ code: number; name: string; message: string; fields: Json }>();
    assert.deepEqual([body.code, body.name], [2, 'schema violation']);
    assert.match(String(body.fields.hash_on_header), /required field missing/);
    assert.match(body.message, /^schema violation \(.*hash_on_header: required field missing/);

    const ip = await admin(url, 'POST', '/upstreams', { name: '10.0.0.1' });
    assert.equal(ip.status, 400);
    assert.deepEqual(ip.json<{ fields: Json }>().fields, { name: "Invalid name ('10.0.0.1'); no ip addresses allowed" });
    const nested = await admin(url, 'POST', '/upstreams', { name: 'nested.internal', targets: [{ target: '10.0.0.1' }] });
    assert.equal(nested.status, 400, 'targets are created under /upstreams/{u}/targets, not in the upstream');
    assert.deepEqual(nested.json<{ fields: Json }>().fields, { targets: 'unknown field' });
    assert.equal((await admin(url, 'POST', '/upstreams', { name: 'backend.internal' })).status, 409);

    const schema = await admin(url, 'POST', '/schemas/upstreams/validate', { name: 'hashed.internal', hash_on: 'header' });
    assert.equal(schema.status, 400);
    assert.ok('hash_on_header' in schema.json<{ fields: Json }>().fields);
    assert.equal((await admin(url, 'POST', '/schemas/targets/validate', { target: '10.0.0.1', upstream: { id: randomUUID() } })).status, 200);

    // The ingress controller's flattened errors name the upstream or target an error belongs to.
    const pushed = await admin(url, 'POST', '/config?flatten_errors=1', { _format_version: '3.0', upstreams: [{ name: 'pushed.internal', tags: ['k8s:u'], targets: [{ target: 'not a host', tags: ['k8s:t'] }] }] });
    assert.equal(pushed.status, 400);
    const flattened = pushed.json<{ flattened_errors: Array<{ entity_type: string; entity_tags: string[]; errors: Json[] }> }>().flattened_errors;
    assert.deepEqual(flattened.map((e) => [e.entity_type, e.entity_tags, e.errors.map((x) => x.field)]), [['target', ['k8s:t'], ['target']]]);
  });

  it("serves Kong's /schemas/upstreams (with algorithm and hash_on defaults) and /schemas/targets", async () => {
    const field = (fields: Array<Record<string, Json>>, name: string): Json | undefined => fields.find((f) => name in f)?.[name];
    const upstreams = (await admin(url, 'GET', '/schemas/upstreams')).json<{ fields: Array<Record<string, Json>> }>().fields;
    assert.deepEqual([field(upstreams, 'algorithm')?.default, field(upstreams, 'hash_on')?.default, field(upstreams, 'slots')?.default], ['round-robin', 'none', 10000]);
    assert.equal(field(upstreams, 'targets'), undefined);
    const targets = (await admin(url, 'GET', '/schemas/targets')).json<{ fields: Array<Record<string, Json>> }>().fields;
    assert.deepEqual([field(targets, 'weight')?.default, field(targets, 'upstream')?.type], [100, 'foreign']);
  });

  it('creates targets under their upstream, the port defaulting to 8000, and lists them newest first (/all in order)', async () => {
    const created = await admin(url, 'POST', '/upstreams/backend.internal/targets', { target: '10.0.0.1', upstream: { id: randomUUID() } });
    assert.equal(created.status, 201, created.text);
    const upstreamId = (await admin(url, 'GET', '/upstreams/backend.internal')).json<Json>().id;
    const target = created.json<Json>();
    assert.deepEqual({ ...target, id: undefined }, { id: undefined, upstream: { id: upstreamId }, target: '10.0.0.1:8000', weight: 100, tags: [] });
    assert.match(String(target.id), /^[0-9a-f-]{36}$/);

    const second = await admin(url, 'POST', `/upstreams/${String(upstreamId)}/targets`, { target: 'backend-2.internal:9000', weight: 0 });
    assert.equal(second.status, 201, second.text);
    assert.equal((await admin(url, 'POST', '/upstreams/backend.internal/targets', { target: '10.0.0.1:8000', weight: 5 })).status, 409, 'one target per address');

    assert.deepEqual(await targetsOf('backend.internal'), ['backend-2.internal:9000', '10.0.0.1:8000']);
    assert.deepEqual(await targetsOf('backend.internal', true), ['10.0.0.1:8000', 'backend-2.internal:9000']);
    const paged = (await admin(url, 'GET', '/upstreams/backend.internal/targets/all?size=1')).json<Page>();
    assert.equal(paged.data.length, 1);
    assert.match(String(paged.next), /^\/upstreams\/backend\.internal\/targets\/all\?size=1&offset=/);
    assert.equal((await admin(url, 'GET', '/upstreams/backend.internal/targets?size=1000')).status, 200);
  });

  it("refuses a bad target with Kong's messages, and answers 405 for writes to the collection", async () => {
    const invalid = await admin(url, 'POST', '/upstreams/backend.internal/targets', { target: 'some invalid host name' });
    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.json<{ name: string; fields: Json }>().fields, { target: 'Invalid target; not a valid hostname or ip address' });
    const missing = await admin(url, 'POST', '/upstreams/backend.internal/targets', { weight: 0 });
    assert.equal(missing.status, 400);
    assert.match(String(missing.json<{ fields: Json }>().fields.target), /required field missing/);
    const heavy = await admin(url, 'POST', '/upstreams/backend.internal/targets', { target: 'konghq.test', weight: 65536 });
    assert.equal(heavy.status, 400);
    assert.ok('weight' in heavy.json<{ fields: Json }>().fields);
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) assert.equal((await admin(url, method, '/upstreams/backend.internal/targets', { target: 'konghq.test' })).status, 405, method);
    assert.equal((await admin(url, 'POST', '/upstreams/backend.internal/targets/all', {})).status, 405);
  });

  it('reads, patches and replaces a target by address (as stored or as written) or by id; PUT is an update, as in Kong', async () => {
    const byAddress = await admin(url, 'GET', '/upstreams/backend.internal/targets/10.0.0.1:8000');
    assert.equal(byAddress.status, 200);
    const id = String(byAddress.json<Json>().id);
    assert.deepEqual((await admin(url, 'GET', `/upstreams/backend.internal/targets/${id}`)).json(), byAddress.json());
    assert.deepEqual((await admin(url, 'GET', '/upstreams/backend.internal/targets/10.0.0.1')).json(), byAddress.json());

    const patched = await admin(url, 'PATCH', '/upstreams/backend.internal/targets/10.0.0.1:8000', { weight: 659 });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual([patched.json<Json>().id, patched.json<Json>().weight], [id, 659]);
    const moved = await admin(url, 'PUT', `/upstreams/backend.internal/targets/${id}`, { target: '10.0.0.1' });
    assert.equal(moved.status, 200, moved.text);
    assert.deepEqual([moved.json<Json>().id, moved.json<Json>().target, moved.json<Json>().weight], [id, '10.0.0.1:8000', 659]);
    const renamed = await admin(url, 'PUT', '/upstreams/backend.internal/targets/10.0.0.1:8000', { target: '10.0.0.1:8001' });
    assert.deepEqual([renamed.status, renamed.json<Json>().id, renamed.json<Json>().target, renamed.json<Json>().weight], [200, id, '10.0.0.1:8001', 659]);
    assert.equal((await admin(url, 'GET', '/upstreams/backend.internal/targets/10.0.0.1:8000')).status, 404);
    assert.equal((await admin(url, 'PUT', '/upstreams/backend.internal/targets/10.9.9.9:80', { weight: 1 })).status, 404, 'PUT never creates a target');
    assert.equal((await admin(url, 'PATCH', `/upstreams/backend.internal/targets/${id}`, { id: randomUUID() })).status, 400);
  });

  it('deletes a target by address and by id (404 when absent), and 404s for unknown upstreams and /targets', async () => {
    assert.equal((await admin(url, 'POST', '/upstreams', { name: 'spare.internal' })).status, 201);
    const spare = (await admin(url, 'POST', '/upstreams/spare.internal/targets', { target: '10.1.1.1:80' })).json<Json>();
    assert.equal((await admin(url, 'GET', `/upstreams/backend.internal/targets/${String(spare.id)}`)).status, 404, "another upstream's target");
    assert.equal((await admin(url, 'DELETE', `/upstreams/backend.internal/targets/${String(spare.id)}`)).status, 404);

    assert.equal((await admin(url, 'DELETE', '/upstreams/backend.internal/targets/backend-2.internal:9000')).status, 204);
    assert.equal((await admin(url, 'DELETE', '/upstreams/backend.internal/targets/backend-2.internal:9000')).status, 404, 'Kong looks the target up first');
    const id = String((await admin(url, 'GET', '/upstreams/backend.internal/targets/10.0.0.1:8001')).json<Json>().id);
    assert.equal((await admin(url, 'DELETE', `/upstreams/backend.internal/targets/${id}`)).status, 204);
    assert.deepEqual(await targetsOf('backend.internal'), []);
    assert.deepEqual(await targetsOf('spare.internal'), ['10.1.1.1:80']);

    const unknown = randomUUID();
    for (const path of [`/upstreams/${unknown}`, '/upstreams/nope.internal/targets', `/upstreams/${unknown}/targets/all`, '/upstreams/nope.internal/targets/10.0.0.1:80', '/targets', `/targets/${String(spare.id)}`]) {
      const answer = await admin(url, 'GET', path);
      assert.equal(answer.status, 404, path);
      assert.equal(answer.json<Json>().message, 'Not found', path);
    }
    assert.equal((await admin(url, 'POST', '/upstreams/nope.internal/targets', { target: '10.0.0.1' })).status, 404);
    assert.equal((await admin(url, 'DELETE', '/upstreams/nope.internal/targets/10.0.0.1:8000')).status, 404);
    assert.equal((await admin(url, 'GET', '/upstreams/nope.internal/health')).status, 404);
  });

  it('deletes an upstream with its targets; a certificate an upstream presents cannot be deleted', async () => {
    for (const target of ['10.2.2.1', '10.2.2.2:81']) assert.equal((await admin(url, 'POST', '/upstreams/spare.internal/targets', { target })).status, 201);
    assert.equal((await admin(url, 'DELETE', '/upstreams/spare.internal')).status, 204);
    const config = (await admin(url, 'GET', '/config', undefined, { accept: 'application/json' })).json<{ upstreams: Json[]; targets: Json[] }>();
    assert.deepEqual(config.upstreams.map((u) => u.name), ['backend.internal']);
    assert.equal(config.targets, undefined, 'targets are nested under their upstream');

    const certId = randomUUID();
    assert.equal((await admin(url, 'PUT', `/certificates/${certId}`, { cert: pki.serverCert.certPem, key: pki.serverCert.keyPem })).status, 201);
    const presenting = await admin(url, 'PATCH', '/upstreams/backend.internal', { client_certificate: { id: certId } });
    assert.equal(presenting.status, 200, presenting.text);
    assert.deepEqual(presenting.json<Json>().client_certificate, { id: certId });
    const refused = await admin(url, 'DELETE', `/certificates/${certId}`);
    assert.equal(refused.status, 400);
    assert.deepEqual([refused.json<Json>().name, refused.json<Json>().message], ['foreign key violation', "an existing 'upstreams' entity references this 'certificates' entity"]);
  });
});
