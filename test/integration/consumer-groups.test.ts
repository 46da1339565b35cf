/**
 * consumer_groups (Kong Enterprise) against a real gateway: members in both decK shapes, a
 * rate-limiting instance per group (X-RateLimit-Limit-* differs per consumer), a consumer-scoped
 * instance beating its group's, request-termination scoped to a group, the admin API's membership
 * endpoints taking effect on the next request, group plugins through the admin API (Kong's scope
 * refusals), and dump → sync → dump unchanged.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { portcullis } from '../helpers/cli.js';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

const config = (upstream: string): string => `_format_version: "3.0"
services:
  - name: api
    url: ${upstream}
    routes:
      - name: api
        paths: [/api]
        plugins:
          - name: key-auth
      - name: gold-only
        paths: [/gold-only]
        plugins:
          - name: key-auth
          - name: acl
            config: { allow: [gold], include_consumer_groups: true }
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    groups:
      - name: gold
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
  - username: carol
    keyauth_credentials: [{ key: carol-key }]
    groups:
      - name: gold
    plugins:
      - name: rate-limiting
        config: { minute: 3 }
  - username: dave
    keyauth_credentials: [{ key: dave-key }]
  - username: erin
    keyauth_credentials: [{ key: erin-key }]
    groups: [{ name: gold }, { name: silver }]
consumer_groups:
  - name: gold
    plugins:
      - name: rate-limiting
        config: { minute: 100 }
  - name: silver
    consumers:
      - username: bob
    plugins:
      - name: rate-limiting
        config: { minute: 10 }
  - name: suspended
    plugins:
      - name: request-termination
        config: { status_code: 403, message: Your plan is suspended }
plugins:
  - name: rate-limiting
    config: { minute: 1000 }
`;

describe('consumer groups: membership, group-scoped plugins and precedence', () => {
  let gateway: GatewayProcess;
  let upstream: CountingUpstream;
  const call = (key: string) => fetchText(`${gateway.httpUrl}/api`, { headers: { apikey: key } });
  const limitOf = async (key: string): Promise<string | string[] | undefined> => {
    const answer = await call(key);
    assert.equal(answer.status, 200, answer.text);
    return answer.headers['x-ratelimit-limit-minute'];
  };
  const api = (method: Parameters<typeof admin>[1], path: string, body?: unknown) => admin(gateway.adminUrl, method, path, body);

  before(async () => {
    upstream = await startCountingUpstream();
    gateway = await startGatewayProcess({ config: config(upstream.url) });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it("each group's rate-limiting instance sets its consumers' limit; a consumer in no group gets the global one", async () => {
    assert.equal(await limitOf('alice-key'), '100', 'alice is in gold (consumers[].groups)');
    assert.equal(await limitOf('bob-key'), '10', 'bob is in silver (consumer_groups[].consumers)');
    assert.equal(await limitOf('dave-key'), '1000', 'dave is in no group: the global instance');
  });

  it("a consumer-scoped instance beats its group's", async () => {
    const first = await call('carol-key');
    assert.equal(first.headers['x-ratelimit-limit-minute'], '3');
    assert.equal(first.headers['x-ratelimit-remaining-minute'], '2');
  });

  it('a consumer in two groups gets the instance of the group whose name sorts first (gold before silver)', async () => {
    assert.equal(await limitOf('erin-key'), '100');
  });

  it('dumps membership under each consumer, and dump → sync → dump changes nothing', async () => {
    const env = { PORTCULLIS_ADMIN_URL: gateway.adminUrl };
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-groups-'));
    const dumpPath = join(dir, 'dump.yaml');
    const dumped = await portcullis(['dump', '--output', dumpPath], { env });
    assert.equal(dumped.code, 0, dumped.stderr);
    const first = await readFile(dumpPath, 'utf8');
    assert.match(first, /groups:\n\s+- name: gold\n/);
    assert.doesNotMatch(first, /consumer_groups:[\s\S]*consumers:/, 'one canonical form: no members listed under the groups');
    const original = join(dir, 'original.yaml');
    await writeFile(original, config(upstream.url));
    for (const source of [dumpPath, original]) {
      const synced = await portcullis(['sync', source], { env });
      assert.equal(synced.code, 0, synced.stderr);
      assert.match(synced.stdout.trim().split('\n').at(-1) ?? '', /^created 0, updated 0, deleted 0, unchanged [1-9]\d*$/, `sync of ${source} changed something:\n${synced.stdout}`);
    }
    const second = await portcullis(['dump'], { env });
    assert.equal(second.stdout, first, 'dump → sync → dump is identical');
  });

  it('portcullis apply of a file that only names an existing group adds the member and keeps the others', async () => {
    const env = { PORTCULLIS_ADMIN_URL: gateway.adminUrl };
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-groups-apply-'));
    const path = join(dir, 'frank.yaml');
    await writeFile(path, '_format_version: "3.0"\nconsumers:\n  - username: frank\n    keyauth_credentials: [{ key: frank-key }]\n    groups: [{ name: silver }]\n');
    const applied = await portcullis(['apply', path], { env });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout.trim(), /^created 2, updated 1, unchanged \d+$/, 'the consumer, its key, and silver gaining a member');
    assert.equal(await limitOf('frank-key'), '10');
    assert.equal(await limitOf('bob-key'), '10', 'bob is still in silver');
    assert.equal((await api('DELETE', '/consumers/frank')).status, 204);
  });

  it("GET /consumer_groups/{g} answers Kong EE's { consumer_group, consumers, plugins }; the lists answer { data, next }", async () => {
    const gold = await api('GET', '/consumer_groups/gold');
    assert.equal(gold.status, 200);
    const body = gold.json<{ consumer_group: Record<string, unknown>; consumers: Array<{ username: string }>; plugins: Array<{ name: string; consumer_group: { id: string } }> }>();
    assert.equal(body.consumer_group.name, 'gold');
    assert.equal(body.consumer_group.consumers, undefined, 'membership is not a field of the group');
    assert.deepEqual(body.consumers.map((c) => c.username), ['alice', 'carol', 'erin']);
    assert.deepEqual(body.plugins.map((p) => [p.name, p.consumer_group.id]), [['rate-limiting', body.consumer_group.id]]);
    const list = await api('GET', '/consumer_groups');
    assert.deepEqual(list.json<{ data: Array<{ name: string }> }>().data.map((g) => g.name), ['gold', 'silver', 'suspended']);
    const members = await api('GET', '/consumer_groups/silver/consumers');
    assert.deepEqual(members.json<{ data: Array<{ username: string }> }>().data.map((c) => c.username), ['bob', 'erin']);
    const erin = await api('GET', '/consumers/erin/consumer_groups');
    assert.deepEqual(erin.json<{ data: Array<{ name: string }> }>().data.map((g) => g.name), ['gold', 'silver']);
    assert.equal((await api('GET', '/consumer_groups/silver/consumers/alice')).status, 404, 'alice is not a member');
  });

  it('adding and removing a member through the admin API takes effect on the next request', async () => {
    const added = await api('POST', '/consumer_groups/silver/consumers', { consumer: 'dave' });
    assert.equal(added.status, 201, added.text);
    const body = added.json<{ consumer_group: { name: string }; consumers: Array<{ username: string }> }>();
    assert.equal(body.consumer_group.name, 'silver');
    assert.deepEqual(body.consumers.map((c) => c.username), ['dave']);
    assert.equal(await limitOf('dave-key'), '10');
    const again = await api('POST', '/consumer_groups/silver/consumers', { consumer: 'dave' });
    assert.equal(again.status, 409);
    const unknown = await api('POST', '/consumer_groups/silver/consumers', { consumer: 'nobody' });
    assert.equal(unknown.status, 404);
    assert.equal((await api('DELETE', '/consumer_groups/silver/consumers/dave')).status, 204);
    assert.equal(await limitOf('dave-key'), '1000');
  });

  it('request-termination scoped to a group refuses its members only; joining from the consumer side works too', async () => {
    const joined = await api('POST', '/consumers/dave/consumer_groups', { group: 'suspended' });
    assert.equal(joined.status, 201, joined.text);
    assert.deepEqual(joined.json<{ consumer_groups: Array<{ name: string }> }>().consumer_groups.map((g) => g.name), ['suspended']);
    const hits = upstream.hits();
    const refused = await call('dave-key');
    assert.equal(refused.status, 403);
    assert.equal(refused.json().message, 'Your plan is suspended');
    assert.equal(upstream.hits(), hits, 'the upstream never saw it');
    assert.equal((await call('alice-key')).status, 200);
    assert.equal((await api('DELETE', '/consumers/dave/consumer_groups/suspended')).status, 204);
    assert.equal((await call('dave-key')).status, 200);
    assert.equal((await api('POST', '/consumers/dave/consumer_groups', { group: 'nope' })).status, 404);
    // go-kong posts the member as a form (`consumer=<id>`).
    const form = await admin(gateway.adminUrl, 'POST', '/consumer_groups/suspended/consumers', 'consumer=dave', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 201, form.text);
    assert.equal((await call('dave-key')).status, 403);
    assert.equal((await api('DELETE', '/consumer_groups/suspended/consumers')).status, 204, 'every member leaves');
    assert.equal((await call('dave-key')).status, 200);
  });

  it('group plugins through the admin API: created on /consumer_groups/{g}/plugins, refused for a plugin Kong cannot scope to a group, removed with the group', async () => {
    const created = await api('POST', '/consumer_groups', { name: 'platinum' });
    assert.equal(created.status, 201, created.text);
    assert.equal((await api('POST', '/consumer_groups', { name: 'platinum' })).status, 409, 'names are unique');
    const plugin = await api('POST', '/consumer_groups/platinum/plugins', { name: 'rate-limiting', config: { minute: 500 } });
    assert.equal(plugin.status, 201, plugin.text);
    assert.equal(plugin.json<{ consumer_group: { id: string } }>().consumer_group.id, created.json<{ id: string }>().id);
    const refused = await api('POST', '/consumer_groups/platinum/plugins', { name: 'key-auth' });
    assert.equal(refused.status, 400);
    assert.match(refused.json<{ message: string }>().message, /cannot be attached to a consumer group/);
    assert.equal((await api('POST', '/consumer_groups/platinum/consumers', { consumer: 'dave' })).status, 201);
    assert.equal(await limitOf('dave-key'), '500');
    const pluginId = plugin.json<{ id: string }>().id;
    const patched = await api('PATCH', `/consumer_groups/platinum/plugins/${pluginId}`, { config: { minute: 600 } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(await limitOf('dave-key'), '600');
    assert.equal((await api('GET', `/consumer_groups/gold/plugins/${pluginId}`)).status, 404, "another group's plugin is not found under this one");
    // A PUT of the group (decK's update) keeps its members: they are not fields of the group.
    assert.equal((await api('PUT', '/consumer_groups/platinum', { name: 'platinum', tags: ['vip'] })).status, 200);
    assert.equal(await limitOf('dave-key'), '600');
    assert.equal((await api('DELETE', '/consumer_groups/platinum')).status, 204);
    assert.equal(await limitOf('dave-key'), '1000');
    const plugins = await api('GET', '/plugins');
    assert.ok(!plugins.json<{ data: Array<{ config: { minute?: number } }> }>().data.some((p) => p.config.minute === 600), "the group's plugin went with it");
  });

  it("acl's include_consumer_groups counts the consumer's group names as ACL groups, membership changes included", async () => {
    const only = (key: string) => fetchText(`${gateway.httpUrl}/gold-only`, { headers: { apikey: key } });
    assert.equal((await only('alice-key')).status, 200, 'alice is in gold (no acls of her own)');
    assert.equal((await only('dave-key')).status, 403);
    assert.equal((await api('POST', '/consumer_groups/gold/consumers', { consumer: 'dave' })).status, 201);
    assert.equal((await only('dave-key')).status, 200, 'the acl instance sees the new member');
    assert.equal((await api('DELETE', '/consumer_groups/gold/consumers/dave')).status, 204);
    assert.equal((await only('dave-key')).status, 403);
  });

  it('deleting a consumer removes its memberships', async () => {
    assert.equal((await api('DELETE', '/consumers/bob')).status, 204);
    const members = await api('GET', '/consumer_groups/silver/consumers');
    assert.deepEqual(members.json<{ data: Array<{ username: string }> }>().data.map((c) => c.username), ['erin']);
  });
});
