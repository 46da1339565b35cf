/**
 * jwt with jwt_secrets against a real gateway and an upstream that records what reaches it. Every
 * token is signed here with `jose` (HS256 with known secrets, RS256 and ES256 with key pairs made
 * at test time), never with the gateway's code: Kong's messages and statuses, the Bearer challenge,
 * where tokens are found (query, cookie, header), the algorithm fixed by the credential, exp/nbf,
 * maximum_expiration, secret_is_base64, key_claim_name from the header, anonymous, the admin API
 * (/consumers/{c}/jwt, /jwts) and a dump → sync → dump round trip.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT, type JWTPayload } from 'jose';
import { admin } from '../helpers/admin.js';
import { startRecordingUpstream, type RecordingUpstream, type SeenRequest } from '../helpers/recording-upstream.js';
import { portcullis } from '../helpers/cli.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { eventually } from '../helpers/eventually.js';
import { fetchText } from '../helpers/http.js';

const HS_SECRET = 'alice-shared-secret-0123456789abcdef';
const B64_BYTES = randomBytes(32);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
const indent = (text: string, spaces: number): string => text.trim().split('\n').join(`\n${' '.repeat(spaces)}`);
const now = (): number => Math.floor(Date.now() / 1000);

/** A token signed by jose: `alg` with `key` (a secret's bytes or a private key). */
function sign(payload: JWTPayload, alg: string, key: Uint8Array | KeyObject, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ ...header, alg, typ: 'JWT' }).sign(key);
}
const hs = (payload: JWTPayload, secret: string | Uint8Array = HS_SECRET, alg = 'HS256', header: Record<string, unknown> = {}): Promise<string> =>
  sign(payload, alg, typeof secret === 'string' ? Buffer.from(secret) : secret, header);
/** A hand-made unsigned token (`alg: none`), which jose will not make. */
const unsigned = (payload: object): string => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

const config = (upstream: string): string => `_format_version: "3.0"
consumers:
  - username: alice
    custom_id: alice-42
    jwt_secrets:
      - key: alice-iss
        secret: ${HS_SECRET}
      - key: alice-b64
        secret: ${B64_BYTES.toString('base64')}
    basicauth_credentials:
      - username: alice
        password: alice-password
  - username: bob
    jwt_secrets:
      - key: bob-rs
        algorithm: RS256
        rsa_public_key: |
          ${indent(pem(rsa.publicKey), 10)}
  - username: carol
    jwt_secrets:
      - key: carol-es
        algorithm: ES256
        rsa_public_key: |
          ${indent(pem(ec.publicKey), 10)}
  - username: guest
services:
  - name: api
    url: ${upstream}
    routes:
      - name: plain
        paths: [/jwt]
        plugins:
          - name: jwt
      - name: claims
        paths: [/claims]
        plugins:
          - name: jwt
            config: { claims_to_verify: [exp, nbf] }
      - name: max
        paths: [/max]
        plugins:
          - name: jwt
            config: { claims_to_verify: [exp], maximum_expiration: 60 }
      - name: places
        paths: [/places]
        plugins:
          - name: jwt
            config: { uri_param_names: [token], cookie_names: [session], header_names: [x-jwt, authorization], realm: api }
      - name: b64
        paths: [/b64]
        plugins:
          - name: jwt
            config: { secret_is_base64: true }
      - name: anon
        paths: [/anon]
        plugins:
          - name: jwt
            config: { anonymous: guest, run_on_preflight: false }
      - name: either
        paths: [/either]
        plugins:
          - name: jwt
            config: { anonymous: guest }
          - name: basic-auth
            config: { anonymous: guest }
      - name: kid
        paths: [/kid]
        plugins:
          - name: jwt
            config: { key_claim_name: kid }
`;

describe('jwt, with jwt_secrets', () => {
  let gateway: GatewayProcess;
  let upstream: RecordingUpstream;
  const get = (path: string, headers: Record<string, string> = {}, method: 'GET' | 'OPTIONS' = 'GET') => fetchText(`${gateway.httpUrl}${path}`, { method, headers });
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  const last = (): SeenRequest => {
    const seen = upstream.seen.at(-1);
    assert.ok(seen !== undefined, 'a request reached the upstream');
    return seen;
  };
  /** A 401 with Kong's message and the invalid_token challenge. */
  const refused = async (path: string, headers: Record<string, string>, message: string): Promise<void> => {
    const response = await get(path, headers);
    assert.equal(response.status, 401, `${message}: ${response.text}`);
    assert.equal(response.json().message, message);
    assert.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"');
  };
  /** A 401 whose body is Kong's map of claim errors. */
  const claimErrors = async (path: string, token: string): Promise<unknown> => {
    const response = await get(path, bearer(token));
    assert.equal(response.status, 401, response.text);
    assert.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"');
    return response.json();
  };

  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGatewayProcess({ config: config(upstream.url) });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it('without a token: 401 "Unauthorized" with a bare Bearer challenge (the realm when set); nothing goes upstream', async () => {
    const before = upstream.seen.length;
    const none = await get('/jwt');
    assert.equal(none.status, 401);
    assert.equal(none.json().message, 'Unauthorized');
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal((await get('/places')).headers['www-authenticate'], 'Bearer realm="api"');
    assert.equal((await get('/jwt', { authorization: 'Basic abc' })).headers['www-authenticate'], 'Bearer', 'not a Bearer header: no token');
    assert.equal(upstream.seen.length, before);
  });

  it('a valid HS256 token in the header identifies its consumer, X-Credential-Identifier being the key; the token goes on upstream, as Kong', async () => {
    const token = await hs({ iss: 'alice-iss', sub: 'someone' });
    const ok = await get('/jwt', { ...bearer(token), 'x-consumer-username': 'mallory' });
    assert.equal(ok.status, 200, ok.text);
    const seen = last();
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-consumer-custom-id'], 'alice-42');
    assert.equal(seen.headers['x-credential-identifier'], 'alice-iss');
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    assert.equal(seen.headers.authorization, `Bearer ${token}`);
    // Kong's scheme match: any case.
    assert.equal((await get('/jwt', { authorization: `bearer ${token}` })).status, 200);
  });

  it('finds the token in the query, a cookie or any of header_names; one token found twice counts once, two different ones are refused', async () => {
    const token = await hs({ iss: 'alice-iss' });
    const other = await hs({ iss: 'alice-iss', n: 2 });
    assert.equal((await get(`/jwt?jwt=${token}`)).status, 200);
    assert.equal(last().url, `/?jwt=${token}`, 'the query is passed on (strip_path takes /jwt)');
    assert.equal((await get(`/places?token=${token}`)).status, 200);
    assert.equal((await get('/places', { cookie: `theme=dark; session=${token}` })).status, 200);
    assert.equal((await get('/places', { 'x-jwt': `Bearer ${token}` })).status, 200);
    assert.equal((await get(`/places?token=${token}`, { cookie: `session=${token}`, ...bearer(token) })).status, 200);
    assert.equal((await get('/places?jwt=' + token)).status, 401, 'uri_param_names replaced the default');
    await refused(`/jwt?jwt=${token}`, bearer(other), 'Multiple tokens provided');
  });

  it("refuses malformed tokens and keys it cannot find with Kong's messages", async () => {
    await refused('/jwt', bearer('not-a-token'), 'Bad token; invalid JSON');
    await refused('/jwt', bearer(unsigned({ iss: 'alice-iss' })), 'Bad token; invalid alg');
    await refused('/jwt', bearer(await hs({ sub: 'x' })), "No mandatory 'iss' in claims");
    await refused('/jwt', bearer(await hs({ iss: '' })), "Invalid 'iss' in claims");
    await refused('/jwt', bearer(await hs({ iss: 'nobody' })), "No credentials found for given 'iss'");
    await refused('/jwt', bearer(await hs({ iss: 'alice-iss' }, 'another-secret')), 'Invalid signature');
    const reasons = await eventually('the access records', () => {
      const records = accessRecords(gateway).filter((r) => r['reason'] !== undefined && r['status'] === 401);
      const reasonsSeen = records.map((r) => r['reason']);
      return reasonsSeen.includes('signature_invalid') && reasonsSeen;
    });
    for (const reason of ['token_malformed', 'key_claim_missing', 'key_claim_invalid', 'credential_not_found', 'signature_invalid']) assert.ok(reasons.includes(reason), reason);
  });

  it("the credential fixes the algorithm: another alg in the token's header is refused, whatever key signed it (no alg confusion)", async () => {
    // HS256 "signed" with the RSA public key as its secret, for an RS256 credential.
    await refused('/jwt', bearer(await hs({ iss: 'bob-rs' }, pem(rsa.publicKey))), 'Invalid algorithm');
    await refused('/jwt', bearer(await sign({ iss: 'alice-iss' }, 'RS256', rsa.privateKey)), 'Invalid algorithm');
    await refused('/jwt', bearer(await hs({ iss: 'alice-iss' }, HS_SECRET, 'HS384')), 'Invalid algorithm');
    await refused('/jwt', bearer(await sign({ iss: 'carol-es' }, 'ES384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey)), 'Invalid algorithm');
  });

  it('verifies RS256 and ES256 tokens with the public keys of the credentials', async () => {
    assert.equal((await get('/jwt', bearer(await sign({ iss: 'bob-rs' }, 'RS256', rsa.privateKey)))).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'bob');
    assert.equal((await get('/jwt', bearer(await sign({ iss: 'carol-es' }, 'ES256', ec.privateKey)))).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'carol');
    await refused('/jwt', bearer(await sign({ iss: 'carol-es' }, 'ES256', otherEc.privateKey)), 'Invalid signature');
    await refused('/jwt', bearer(await sign({ iss: 'bob-rs' }, 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)), 'Invalid signature');
  });

  it('claims_to_verify: exp and nbf as Kong checks them, the error map as the body; unverified claims are not checked', async () => {
    assert.equal((await get('/claims', bearer(await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now() - 1 })))).status, 200);
    assert.deepEqual(await claimErrors('/claims', await hs({ iss: 'alice-iss', exp: now() - 1, nbf: now() - 10 })), { exp: 'token expired' });
    assert.deepEqual(await claimErrors('/claims', await hs({ iss: 'alice-iss', exp: now() + 60, nbf: now() + 60 })), { nbf: 'token not valid yet' });
    assert.deepEqual(await claimErrors('/claims', await hs({ iss: 'alice-iss', exp: 'tomorrow' as unknown as number })), { exp: 'must be a number', nbf: 'must be a number' });
    assert.equal((await get('/jwt', bearer(await hs({ iss: 'alice-iss', exp: now() - 3600 })))).status, 200, 'exp is not verified unless asked');
    await eventually('the expiry in the access log', () => accessRecords(gateway).some((r) => r['reason'] === 'token_expired'));
  });

  it('maximum_expiration: a token must expire within it', async () => {
    assert.equal((await get('/max', bearer(await hs({ iss: 'alice-iss', exp: now() + 30 })))).status, 200);
    assert.deepEqual(await claimErrors('/max', await hs({ iss: 'alice-iss', exp: now() + 3600 })), { exp: 'exceeds maximum allowed expiration' });
    assert.deepEqual(await claimErrors('/max', await hs({ iss: 'alice-iss' })), { exp: 'must be a number' });
  });

  it('secret_is_base64: the token is signed with the decoded secret', async () => {
    const token = await hs({ iss: 'alice-b64' }, B64_BYTES);
    assert.equal((await get('/b64', bearer(token))).status, 200);
    await refused('/jwt', bearer(token), 'Invalid signature');
    assert.equal((await get('/jwt', bearer(await hs({ iss: 'alice-b64' }, B64_BYTES.toString('base64'))))).status, 200, 'without the flag, the secret as written');
  });

  it('key_claim_name is read from the payload, else from the header', async () => {
    assert.equal((await get('/kid', bearer(await hs({ sub: 'x' }, HS_SECRET, 'HS256', { kid: 'alice-iss' })))).status, 200);
    assert.equal((await get('/kid', bearer(await hs({ kid: 'alice-iss' })))).status, 200);
    await refused('/kid', bearer(await hs({ iss: 'alice-iss' })), "No mandatory 'kid' in claims");
  });

  it('anonymous: no or a bad token goes upstream as the anonymous consumer; run_on_preflight false lets OPTIONS through', async () => {
    assert.equal((await get('/anon')).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'guest');
    assert.equal(last().headers['x-anonymous-consumer'], 'true');
    assert.equal((await get('/anon', bearer(await hs({ iss: 'alice-iss' }, 'wrong')))).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'guest');
    assert.equal((await get('/anon', bearer(await hs({ iss: 'alice-iss' })))).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'alice');
    assert.equal((await get('/anon', {}, 'OPTIONS')).status, 200);
    assert.equal(last().headers['x-consumer-username'], undefined, 'a preflight is not authenticated');
    assert.equal((await get('/jwt', {}, 'OPTIONS')).status, 401, 'run_on_preflight defaults to true');
  });

  it('jwt (1450) and basic-auth (1100) with anonymous are a logical OR: either credential identifies the consumer', async () => {
    assert.equal((await get('/either', bearer(await hs({ iss: 'alice-iss' })))).status, 200);
    assert.equal(last().headers['x-credential-identifier'], 'alice-iss', 'jwt ran first and basic-auth let it be');
    assert.equal((await get('/either', { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` })).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'alice');
    assert.equal(last().headers['x-credential-identifier'], 'alice', 'basic-auth identified the request after jwt fell back to anonymous');
    assert.equal(last().headers['x-anonymous-consumer'], undefined);
    assert.equal((await get('/either')).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'guest');
  });

  it('admin API: a consumer deleted takes its JWT and basic-auth credentials with it', async () => {
    const url = gateway.adminUrl;
    assert.equal((await admin(url, 'POST', '/consumers', { username: 'dave' })).status, 201);
    assert.equal((await admin(url, 'POST', '/consumers/dave/jwt', { key: 'dave-iss', secret: 'dave-secret' })).status, 201);
    assert.equal((await admin(url, 'POST', '/consumers/dave/basic-auth', { username: 'dave', password: 'dave-password' })).status, 201);
    assert.equal((await get('/jwt', bearer(await hs({ iss: 'dave-iss' }, 'dave-secret')))).status, 200);
    assert.equal((await admin(url, 'DELETE', '/consumers/dave')).status, 204);
    assert.equal((await admin(url, 'GET', '/jwts/dave-iss')).status, 404);
    assert.equal((await admin(url, 'GET', '/basic-auths/dave')).status, 404);
    await refused('/jwt', bearer(await hs({ iss: 'dave-iss' }, 'dave-secret')), "No credentials found for given 'iss'");
  });

  it('admin API: a credential made without key or secret gets both, signs tokens on the next request; RS256 needs its key; a key is unique', async () => {
    const url = gateway.adminUrl;
    const created = await admin(url, 'POST', '/consumers/bob/jwt', {});
    assert.equal(created.status, 201, created.text);
    const credential = created.json<{ id: string; key: string; secret: string; algorithm: string; rsa_public_key: unknown; consumer: { id: string } }>();
    assert.equal(credential.algorithm, 'HS256');
    assert.ok(credential.key.length >= 32 && credential.secret.length >= 32, 'generated key and secret');
    assert.equal((await get('/jwt', bearer(await hs({ iss: credential.key }, credential.secret)))).status, 200);
    assert.equal(last().headers['x-consumer-username'], 'bob');
    assert.equal((await admin(url, 'GET', `/jwts/${credential.key}`)).json<{ id: string }>().id, credential.id);
    assert.equal((await admin(url, 'GET', `/consumers/bob/jwt/${credential.id}`)).json<{ key: string }>().key, credential.key);
    assert.equal((await admin(url, 'GET', '/consumers/bob/jwt')).json<{ data: unknown[] }>().data.length, 2);

    const noKey = await admin(url, 'POST', '/consumers/bob/jwt', { key: 'bob-rs-2', algorithm: 'RS256' });
    assert.equal(noKey.status, 400);
    assert.deepEqual(noKey.json<{ fields: unknown }>().fields, { rsa_public_key: 'required for RS256' });
    const badAlg = await admin(url, 'POST', '/consumers/bob/jwt', { key: 'bob-x', algorithm: 'none' });
    assert.equal(badAlg.status, 400);
    assert.equal((await admin(url, 'POST', '/consumers/alice/jwt', { key: 'bob-rs', secret: 'x' })).status, 409, 'a key is unique across consumers');
    const rs = await admin(url, 'POST', '/consumers/bob/jwt', { key: 'bob-rs-2', algorithm: 'RS256', rsa_public_key: pem(rsa.publicKey) });
    assert.equal(rs.status, 201, rs.text);
    assert.equal((await get('/jwt', bearer(await sign({ iss: 'bob-rs-2' }, 'RS256', rsa.privateKey)))).status, 200);

    // decK reads the entity and plugin schemas.
    const fields = (await admin(url, 'GET', '/schemas/jwt_secrets')).json<{ fields: Array<Record<string, unknown>> }>().fields.map((f) => Object.keys(f)[0]);
    for (const field of ['id', 'consumer', 'key', 'secret', 'rsa_public_key', 'algorithm', 'tags']) assert.ok(fields.includes(field), field);
    assert.equal((await admin(url, 'GET', '/schemas/basicauth_credentials')).status, 200);
    const pluginSchema = await admin(url, 'GET', '/schemas/plugins/jwt');
    assert.equal(pluginSchema.status, 200);
    assert.match(pluginSchema.text, /"maximum_expiration"/);

    // PUT by key creates one, its secret generated as on POST (Kong's upsert fills auto fields).
    const put = await admin(url, 'PUT', '/consumers/bob/jwt/bob-put-key', {});
    assert.equal(put.status, 201, put.text);
    const putCredential = put.json<{ key: string; secret: string }>();
    assert.equal(putCredential.key, 'bob-put-key');
    assert.equal((await get('/jwt', bearer(await hs({ iss: 'bob-put-key' }, putCredential.secret)))).status, 200);
    assert.equal((await admin(url, 'DELETE', '/jwts/bob-put-key')).status, 204);

    assert.equal((await admin(url, 'DELETE', `/jwts/${credential.id}`)).status, 204);
    await refused('/jwt', bearer(await hs({ iss: credential.key }, credential.secret)), "No credentials found for given 'iss'");
  });

  it('dump → sync → dump is identical, and the tokens still verify', async () => {
    const env = { PORTCULLIS_ADMIN_URL: gateway.adminUrl };
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-jwt-'));
    const file = join(dir, 'dump.yaml');
    const dumped = await portcullis(['dump', '--output', file], { env });
    assert.equal(dumped.code, 0, dumped.stderr);
    const first = await readFile(file, 'utf8');
    assert.match(first, /jwt_secrets:/);
    const synced = await portcullis(['sync', file], { env });
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout.trim(), /^created 0, updated 0, deleted 0, unchanged \d+$/);
    assert.equal((await portcullis(['dump'], { env })).stdout, first, 'dump → sync → dump is identical');
    assert.equal((await get('/jwt', bearer(await hs({ iss: 'alice-iss' })))).status, 200);
    assert.equal((await get('/jwt', bearer(await sign({ iss: 'carol-es' }, 'ES256', ec.privateKey)))).status, 200);
  });
});
