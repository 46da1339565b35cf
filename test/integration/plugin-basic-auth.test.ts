/**
 * basic-auth with basicauth_credentials against a real gateway and an upstream that records what
 * reaches it: Kong's 401 and Basic challenge, Proxy-Authorization before Authorization, the identity
 * headers (X-Credential-Identifier is the username), hide_credentials, anonymous; passwords stored
 * as Kong's SHA-1 hash (computed here independently), shown hashed by the admin API and the dump,
 * and a dump → sync → dump round trip that keeps every password working.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startRecordingUpstream, type RecordingUpstream, type SeenRequest } from '../helpers/recording-upstream.js';
import { portcullis } from '../helpers/cli.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { eventually } from '../helpers/eventually.js';
import { fetchText } from '../helpers/http.js';

const ALICE = '6b0f3a52-1c9e-4d6f-8a7b-2e3c4d5f6a70';
const BOB = '7c1e4b63-2daf-4e70-9b8c-3f4d5e6a7b81';
/** Kong's stored form (kong/plugins/basic-auth/crypto.lua), computed without the gateway's code. */
const kongHash = (password: string, consumerId: string): string => createHash('sha1').update(password + consumerId).digest('hex');
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const config = (upstream: string): string => `_format_version: "3.0"
consumers:
  - id: ${ALICE}
    username: alice
    custom_id: alice-42
    basicauth_credentials:
      - username: alice
        password: open-sesame
  - id: ${BOB}
    username: bob
  - username: guest
basicauth_credentials:
  - username: bob-hashed
    password: ${kongHash('from-kong', BOB)}
    consumer: bob
services:
  - name: api
    url: ${upstream}
    routes:
      - name: basic
        paths: [/basic]
        plugins:
          - name: basic-auth
      - name: hidden
        paths: [/hidden]
        plugins:
          - name: basic-auth
            config: { hide_credentials: true, realm: portcullis }
      - name: open
        paths: [/open]
        plugins:
          - name: basic-auth
            config: { anonymous: guest }
`;

describe('basic-auth, with basicauth_credentials', () => {
  let gateway: GatewayProcess;
  let upstream: RecordingUpstream;
  const get = (path: string, headers: Record<string, string> = {}) => fetchText(`${gateway.httpUrl}${path}`, { headers });
  const last = (): SeenRequest => {
    const seen = upstream.seen.at(-1);
    assert.ok(seen !== undefined, 'a request reached the upstream');
    return seen;
  };

  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGatewayProcess({ config: config(upstream.url) });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it('refuses no, malformed, unknown or wrong credentials with 401 "Unauthorized" and the Basic challenge; nothing goes upstream', async () => {
    const before = upstream.seen.length;
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Basic !!!' }, { authorization: 'Bearer abc' }, { authorization: basic('nobody', 'x') }, { authorization: basic('alice', 'open-sesamE') }, { authorization: `Basic ${Buffer.from('alice').toString('base64')}` }];
    for (const headers of attempts) {
      const refused = await get('/basic', headers);
      assert.equal(refused.status, 401, JSON.stringify(headers));
      assert.equal(refused.json().message, 'Unauthorized');
      assert.equal(refused.headers['www-authenticate'], 'Basic realm="service"');
    }
    assert.equal((await get('/hidden')).headers['www-authenticate'], 'Basic realm="portcullis"');
    assert.equal(upstream.seen.length, before, 'no refused request reached the upstream');
    const reasons = await eventually('the access records', () => {
      const records = accessRecords(gateway).filter((r) => r['status'] === 401);
      return records.length >= 7 && records.slice(0, 5).map((r) => r['reason']);
    });
    assert.deepEqual(reasons, ['no_credentials', 'credentials_malformed', 'credentials_malformed', 'unknown_username', 'password_invalid']);
  });

  it('the right password identifies the consumer upstream, X-Credential-Identifier being the username; the header is kept', async () => {
    const ok = await get('/basic', { authorization: basic('alice', 'open-sesame'), 'x-consumer-username': 'mallory', 'x-anonymous-consumer': 'true' });
    assert.equal(ok.status, 200);
    const seen = last();
    assert.equal(seen.headers['x-consumer-id'], ALICE);
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-consumer-custom-id'], 'alice-42');
    assert.equal(seen.headers['x-credential-identifier'], 'alice');
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    assert.equal(seen.headers.authorization, basic('alice', 'open-sesame'));
    // Kong's parsing: the scheme in any case, the password may hold colons.
    assert.equal((await get('/basic', { authorization: basic('alice', 'open-sesame').replace('Basic', 'basic') })).status, 200);
  });

  it("a password written as Kong's stored hash works with the password it hashes (a Kong dump loads as it is)", async () => {
    assert.equal((await get('/basic', { authorization: basic('bob-hashed', 'from-kong') })).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'bob');
    assert.equal((await get('/basic', { authorization: basic('bob-hashed', kongHash('from-kong', BOB)) })).status, 401, 'the hash itself is not the password');
  });

  it('reads Proxy-Authorization first and Authorization when the proxy one names nobody; hide_credentials removes what it read', async () => {
    assert.equal((await get('/basic', { 'proxy-authorization': basic('alice', 'open-sesame') })).status, 200);
    assert.equal((await get('/basic', { 'proxy-authorization': basic('nobody', 'x'), authorization: basic('alice', 'open-sesame') })).status, 200);
    // A known username with a wrong password in Proxy-Authorization is final, as Kong.
    assert.equal((await get('/basic', { 'proxy-authorization': basic('alice', 'wrong'), authorization: basic('alice', 'open-sesame') })).status, 401);
    assert.equal((await get('/hidden', { authorization: basic('alice', 'open-sesame'), 'x-other': 'kept' })).status, 200);
    assert.equal(last().headers.authorization, undefined);
    assert.equal(last().headers['x-other'], 'kept');
    assert.equal((await get('/hidden', { 'proxy-authorization': basic('alice', 'open-sesame') })).status, 200);
    assert.equal(last().headers['proxy-authorization'], undefined);
  });

  it('anonymous: no or wrong credentials go upstream as the anonymous consumer, and a refused password is not passed on', async () => {
    assert.equal((await get('/open')).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'guest');
    assert.equal(last().headers['x-anonymous-consumer'], 'true');
    assert.equal(last().headers['x-credential-identifier'], undefined);
    assert.equal((await get('/open', { authorization: basic('alice', 'wrong') })).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'guest');
    assert.equal(last().headers.authorization, undefined);
    assert.equal((await get('/open', { authorization: basic('alice', 'open-sesame') })).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'alice');
  });

  it('admin API: a password is stored and shown as its hash, works on the next request, and a username is unique', async () => {
    const url = gateway.adminUrl;
    const created = await admin(url, 'POST', '/consumers/bob/basic-auth', { username: 'bob', password: 'correct horse' });
    assert.equal(created.status, 201, created.text);
    const credential = created.json<{ id: string; username: string; password: string; consumer: { id: string } }>();
    assert.equal(credential.password, kongHash('correct horse', BOB));
    assert.deepEqual(credential.consumer, { id: BOB });
    assert.equal((await get('/basic', { authorization: basic('bob', 'correct horse') })).status, 200);
    assert.equal((await admin(url, 'GET', `/basic-auths/bob`)).json<{ id: string }>().id, credential.id);
    assert.equal((await admin(url, 'GET', `/consumers/bob/basic-auth/${credential.id}`)).json<{ password: string }>().password, credential.password);
    const listed = await admin(url, 'GET', '/basic-auths');
    assert.doesNotMatch(listed.text, /correct horse|open-sesame/);
    assert.equal((await admin(url, 'POST', '/consumers/alice/basic-auth', { username: 'bob', password: 'x' })).status, 409, 'a username is unique across consumers');
    const missing = await admin(url, 'POST', '/consumers/alice/basic-auth', { username: 'alice2' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json<{ fields: unknown }>().fields, { password: 'required field missing' });

    // PUT by username creates one (hashed), as Kong's upsert_by_username.
    const put = await admin(url, 'PUT', '/consumers/alice/basic-auth/alice-put', { password: 'put-password' });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.json<{ password: string }>().password, kongHash('put-password', ALICE));
    assert.equal((await get('/basic', { authorization: basic('alice-put', 'put-password') })).status, 200);
    assert.equal((await admin(url, 'DELETE', '/basic-auths/alice-put')).status, 204);

    // PATCH of another field keeps the hash (not hashed again); a new password replaces it.
    const tagged = await admin(url, 'PATCH', `/basic-auths/${credential.id}`, { tags: ['ci'] });
    assert.equal(tagged.json<{ password: string }>().password, credential.password);
    assert.equal((await get('/basic', { authorization: basic('bob', 'correct horse') })).status, 200);
    const changed = await admin(url, 'PATCH', `/basic-auths/${credential.id}`, { password: 'battery staple' });
    assert.equal(changed.json<{ password: string }>().password, kongHash('battery staple', BOB));
    assert.equal((await get('/basic', { authorization: basic('bob', 'correct horse') })).status, 401);
    assert.equal((await get('/basic', { authorization: basic('bob', 'battery staple') })).status, 200);
  });

  it('dump → sync → dump is identical, holds hashes only, and every password still works', async () => {
    const env = { PORTCULLIS_ADMIN_URL: gateway.adminUrl };
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-basic-auth-'));
    const file = join(dir, 'dump.yaml');
    const dumped = await portcullis(['dump', '--output', file], { env });
    assert.equal(dumped.code, 0, dumped.stderr);
    const first = await readFile(file, 'utf8');
    assert.match(first, new RegExp(kongHash('open-sesame', ALICE)));
    assert.doesNotMatch(first, /open-sesame|battery staple|from-kong/);
    const synced = await portcullis(['sync', file], { env });
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout.trim(), /^created 0, updated 0, deleted 0, unchanged \d+$/);
    assert.equal((await portcullis(['dump'], { env })).stdout, first, 'dump → sync → dump is identical');
    assert.equal((await get('/basic', { authorization: basic('alice', 'open-sesame') })).status, 200);
    assert.equal((await get('/basic', { authorization: basic('bob', 'battery staple') })).status, 200);
    assert.equal((await get('/basic', { authorization: basic('bob-hashed', 'from-kong') })).status, 200);

    // The same file with a password in clear instead of its hash: the same configuration, nothing to do.
    const clear = join(dir, 'clear.yaml');
    await writeFile(clear, first.replace(kongHash('open-sesame', ALICE), 'open-sesame'));
    const again = await portcullis(['sync', clear], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout.trim(), /^created 0, updated 0, deleted 0, unchanged \d+$/);
    // And another password in clear is an update of that credential's password only.
    await writeFile(clear, first.replace(kongHash('open-sesame', ALICE), 'new-sesame'));
    const changed = await portcullis(['sync', clear], { env });
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /updating basicauth_credential alice \(password\)/);
    assert.doesNotMatch(changed.stdout + changed.stderr, /new-sesame/);
    assert.equal((await get('/basic', { authorization: basic('alice', 'new-sesame') })).status, 200);
  });

  it('never writes a password into the access log', async () => {
    await get('/basic', { authorization: basic('alice', 'wrong-password-123') });
    await eventually('the record of the refusal', () => accessRecords(gateway).some((r) => r['reason'] === 'password_invalid' && r['status'] === 401));
    assert.doesNotMatch(JSON.stringify(accessRecords(gateway)), /wrong-password-123|open-sesame|battery staple/);
  });
});
