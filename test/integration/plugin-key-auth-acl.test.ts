/**
 * key-auth and acl with their credential entities (keyauth_credentials, acls), against a real
 * gateway and an upstream that records what reaches it: Kong's messages, challenge and identity
 * headers, hide_credentials in the header, query and body, anonymous, preflight, the acl outcomes
 * (401/403, X-Consumer-Groups, groups from another auth plugin), and the admin API endpoints Kong
 * has for the credentials (/consumers/{c}/key-auth, /key-auths, /consumers/{c}/acls), which take
 * effect on the next request and cascade with their consumer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { eventually } from '../helpers/eventually.js';
import { fetchText } from '../helpers/http.js';

const config = (upstream: string): string => `_format_version: "3.0"
consumers:
  - username: alice
    custom_id: alice-42
    keyauth_credentials:
      - key: alice-secret-key
    acls:
      - group: gold
  - username: bob
    keyauth_credentials:
      - key: bob-secret-key
    acls:
      - group: silver
  - username: carol
  - username: guest
keyauth_credentials:
  - key: carol-secret-key
    consumer: carol
services:
  - name: api
    url: ${upstream}
    routes:
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
      - name: hidden
        paths: [/hidden]
        plugins:
          - name: key-auth
            config: { hide_credentials: true, key_in_body: true, key_names: [apikey, x-key], realm: portcullis }
      - name: open
        paths: [/open]
        plugins:
          - name: key-auth
            config: { anonymous: guest, run_on_preflight: false }
      - name: gold
        paths: [/gold]
        plugins:
          - name: key-auth
            config: { anonymous: guest }
          - name: acl
            config: { allow: [gold] }
      - name: no-silver
        paths: [/no-silver]
        plugins:
          - name: key-auth
          - name: acl
            config: { deny: [silver], hide_groups_header: true }
`;

describe('key-auth and acl, with keyauth_credentials and acls', () => {
  let gateway: GatewayProcess;
  let upstream: RecordingUpstream;
  const get = (path: string, headers: Record<string, string> = {}) => fetchText(`${gateway.httpUrl}${path}`, { headers });

  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGatewayProcess({ config: config(upstream.url) });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it("refuses a missing, unknown or repeated key with Kong's 401, message and Key challenge, and nothing goes upstream", async () => {
    const before = upstream.seen.length;
    const none = await get('/keyed');
    assert.equal(none.status, 401);
    assert.equal(none.json().message, 'No API key found in request');
    assert.equal(none.headers['www-authenticate'], 'Key');
    const wrong = await get('/keyed', { apikey: 'alice-secret-kez' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().message, 'Unauthorized');
    const twice = await get('/keyed?apikey=a&apikey=b');
    assert.equal(twice.status, 401);
    assert.equal(twice.json().message, 'Duplicate API key found');
    assert.equal((await get('/hidden')).headers['www-authenticate'], 'Key realm="portcullis"');
    assert.equal(upstream.seen.length, before, 'no refused request reached the upstream');
    const reasons = await eventually('four access records', () => {
      const records = accessRecords(gateway);
      return records.length >= 4 && records.slice(-4).map((r) => [r['status'], r['reason']]);
    });
    assert.deepEqual(reasons, [[401, 'no_api_key'], [401, 'invalid_api_key'], [401, 'duplicate_api_key'], [401, 'no_api_key']]);
    assert.ok(!gateway.rawLogs.some((l) => l.includes('alice-secret-kez')), 'a presented key never reaches the log');
  });

  it('a key in the header or the query identifies its consumer upstream with the credential id; spoofed identity headers are dropped', async () => {
    const byHeader = await get('/keyed', { apikey: 'alice-secret-key', 'x-consumer-username': 'mallory', 'x-consumer-groups': 'admin' });
    assert.equal(byHeader.status, 200, byHeader.text);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-consumer-custom-id'], 'alice-42');
    assert.match(String(seen.headers['x-consumer-id']), /^[0-9a-f-]{36}$/);
    assert.match(String(seen.headers['x-credential-identifier']), /^[0-9a-f-]{36}$/);
    assert.notEqual(seen.headers['x-credential-identifier'], seen.headers['x-consumer-id']);
    assert.equal(seen.headers['x-consumer-groups'], undefined, 'a client cannot claim groups');
    assert.equal(seen.headers['apikey'], 'alice-secret-key', 'without hide_credentials the key goes upstream, as Kong');

    const byQuery = await get('/keyed?x=1&apikey=carol-secret-key&y=2');
    assert.equal(byQuery.status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-consumer-username'], 'carol');
  });

  it('hide_credentials takes the key out of the header, the query and a JSON or form body, leaving the rest as sent', async () => {
    assert.equal((await get('/hidden?a=%20b&apikey=bob-secret-key&c=d')).status, 200);
    assert.equal(upstream.seen.at(-1)!.url, '/?a=%20b&c=d', 'the route strips /hidden (strip_path defaults to true)');
    assert.equal((await get('/hidden', { 'x-key': 'bob-secret-key' })).status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-key'], undefined);
    const json = await fetchText(`${gateway.httpUrl}/hidden`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apikey: 'bob-secret-key', order: 7 }) });
    assert.equal(json.status, 200, json.text);
    assert.deepEqual(JSON.parse(upstream.seen.at(-1)!.body), { order: 7 });
    const form = await fetchText(`${gateway.httpUrl}/hidden`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x-key=bob-secret-key&q=1' });
    assert.equal(form.status, 200, form.text);
    assert.equal(upstream.seen.at(-1)!.body, 'q=1');
    assert.equal(upstream.seen.at(-1)!.headers['content-length'], '3');
  });

  it('anonymous: without a key the anonymous consumer goes upstream marked X-Anonymous-Consumer; run_on_preflight false lets OPTIONS through', async () => {
    assert.equal((await get('/open')).status, 200);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-consumer-username'], 'guest');
    assert.equal(seen.headers['x-anonymous-consumer'], 'true');
    assert.equal(seen.headers['x-credential-identifier'], undefined);
    assert.equal((await get('/open', { apikey: 'alice-secret-key' })).status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-anonymous-consumer'], undefined);
    const preflight = await fetchText(`${gateway.httpUrl}/keyed`, { method: 'OPTIONS' });
    assert.equal(preflight.status, 401, 'run_on_preflight defaults to true');
    const open = await fetchText(`${gateway.httpUrl}/open`, { method: 'OPTIONS' });
    assert.equal(open.status, 200);
  });

  it('anonymous: a refused key falls back to the anonymous consumer and is not passed upstream', async () => {
    const wrong = await get('/open', { apikey: 'alice-secret-kez', 'x-other': 'kept' });
    assert.equal(wrong.status, 200);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-consumer-username'], 'guest');
    assert.equal(seen.headers['apikey'], undefined, 'the refused key stays at the gateway');
    assert.equal(seen.headers['x-other'], 'kept');
  });

  it('key_in_body: a malformed JSON body or a compressed one holds no key (401 no_api_key, nothing upstream)', async () => {
    const before = upstream.seen.length;
    const broken = await fetchText(`${gateway.httpUrl}/hidden`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"apikey": "bob-secret-key"' });
    assert.equal(broken.status, 401);
    assert.equal(broken.json().message, 'No API key found in request');
    const compressed = await fetchText(`${gateway.httpUrl}/hidden`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: '{"apikey":"bob-secret-key"}' });
    assert.equal(compressed.status, 401);
    assert.equal(upstream.seen.length, before);
  });

  it("acl: an allowed group passes with X-Consumer-Groups, another is 403, the anonymous consumer without groups 401, as Kong", async () => {
    assert.equal((await get('/gold', { apikey: 'alice-secret-key' })).status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-consumer-groups'], 'gold');
    const silver = await get('/gold', { apikey: 'bob-secret-key' });
    assert.equal(silver.status, 403);
    assert.equal(silver.json().message, 'You cannot consume this service');
    const noGroups = await get('/gold', { apikey: 'carol-secret-key' });
    assert.equal(noGroups.status, 403, 'a consumer with a credential and no groups under allow: 403');
    const anonymous = await get('/gold');
    assert.equal(anonymous.status, 401, 'the anonymous consumer (no credential) without groups: 401');
    assert.equal(anonymous.json().message, 'Unauthorized');
    // deny: silver is refused; a consumer without groups passes; hide_groups_header sends none.
    assert.equal((await get('/no-silver', { apikey: 'bob-secret-key' })).status, 403);
    assert.equal((await get('/no-silver', { apikey: 'carol-secret-key' })).status, 200);
    assert.equal((await get('/no-silver', { apikey: 'alice-secret-key' })).status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-consumer-groups'], undefined);
    const gold = await eventually('the /gold access records', () => {
      const records = accessRecords(gateway).filter((r) => String(r['path']).startsWith('/gold'));
      return records.length >= 4 && records.slice(0, 4).map((r) => r['reason'] ?? null);
    });
    assert.deepEqual(gold, [null, 'acl_group_blocked', 'acl_no_groups', 'acl_no_consumer']);
  });

  it('admin API: keys and groups created under a consumer (a key generated when none is given) work on the next request and go with their consumer', async () => {
    const url = gateway.adminUrl;
    const created = await admin(url, 'POST', '/consumers/bob/key-auth', {});
    assert.equal(created.status, 201, created.text);
    const credential = created.json<{ id: string; key: string; consumer: { id: string }; ttl: null }>();
    assert.ok(credential.key.length >= 32, 'a generated key');
    assert.equal(credential.ttl, null);
    assert.equal((await get('/keyed', { apikey: credential.key })).status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-consumer-username'], 'bob');

    const listed = await admin(url, 'GET', '/consumers/bob/key-auth');
    assert.deepEqual(listed.json<{ data: Array<{ key: string }> }>().data.map((k) => k.key).sort(), ['bob-secret-key', credential.key].sort());
    assert.equal((await admin(url, 'GET', `/key-auths/${credential.key}`)).json<{ id: string }>().id, credential.id);
    assert.equal((await admin(url, 'GET', `/consumers/alice/key-auth/${credential.id}`)).status, 404, "another consumer's key is not found under alice");
    assert.equal((await admin(url, 'POST', '/consumers/alice/key-auth', { key: 'bob-secret-key' })).status, 409, 'a key is unique across consumers');

    assert.equal((await admin(url, 'DELETE', `/consumers/bob/key-auth/${credential.id}`)).status, 204);
    assert.equal((await get('/keyed', { apikey: credential.key })).status, 401);

    // bob joins gold: the acl lets him through at once.
    const group = await admin(url, 'POST', '/consumers/bob/acls', { group: 'gold' });
    assert.equal(group.status, 201, group.text);
    assert.equal((await admin(url, 'GET', '/consumers/bob/acls/gold')).json<{ id: string }>().id, group.json<{ id: string }>().id);
    assert.equal((await get('/gold', { apikey: 'bob-secret-key' })).status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-consumer-groups'], 'silver, gold');

    // The dump nests credentials under their consumer, as decK writes them.
    const dump = await admin(url, 'GET', '/config', undefined, { accept: 'application/json' });
    const bob = dump.json<{ consumers: Array<{ username: string; keyauth_credentials?: Array<{ key: string }>; acls?: Array<{ group: string }> }> }>().consumers.find((c) => c.username === 'bob');
    assert.deepEqual(bob?.keyauth_credentials?.map((k) => k.key), ['bob-secret-key']);
    assert.deepEqual(bob?.acls?.map((a) => a.group), ['silver', 'gold']);

    // A key created by PUT at its URL; a missing one is 404 to DELETE; a repeated group 409.
    const put = await admin(url, 'PUT', '/consumers/bob/key-auth/bob-put-key', {});
    assert.ok(put.status === 200 || put.status === 201, put.text);
    assert.equal(put.json<{ key: string }>().key, 'bob-put-key');
    assert.equal((await get('/keyed', { apikey: 'bob-put-key' })).status, 200);
    assert.equal((await admin(url, 'DELETE', '/consumers/bob/key-auth/00000000-0000-4000-8000-000000000000')).status, 404);
    const again = await admin(url, 'POST', '/consumers/bob/acls', { group: 'gold' });
    assert.equal(again.status, 409, again.text);

    assert.equal((await admin(url, 'DELETE', '/consumers/bob')).status, 204);
    assert.equal((await get('/keyed', { apikey: 'bob-secret-key' })).status, 401, "the consumer's keys went with it");
    assert.equal((await admin(url, 'GET', '/acls')).json<{ data: unknown[] }>().data.length, 1, "and its groups: alice's gold is left");
  });

  it('refuses an acl with both allow and deny, or neither, and a key-auth with an unknown anonymous consumer, with the paths', async () => {
    const refused = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'acl', config: { allow: ['a'], deny: ['b'] } });
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.text, /only one of these fields must be non-empty: 'config.allow', 'config.deny'/);
    const neither = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'acl', config: {} });
    assert.match(neither.text, /at least one of these fields must be non-empty/);
    const anonymous = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'key-auth', config: { anonymous: 'nobody' } });
    assert.equal(anonymous.status, 400);
    assert.match(anonymous.text, /config.anonymous/);
    assert.match(anonymous.text, /no consumer with id or username 'nobody'/);
  });
});
