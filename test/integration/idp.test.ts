// The development IdP over real HTTPS with real certificates: Keycloak's paths, the Kong
// tutorial's token request, RFC 8705 client authentication and certificate-bound tokens.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { certificateThumbprint } from '../../src/certs/index.js';
import { devClientSecret, startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';

describe('development IdP', () => {
  let t: TestIdp;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  before(async () => {
    t = await startTestIdp({
      extraClients: [{ client_id: 'kong-intermediate', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=intermediate-app' }],
    });
    const res = await t.getJson('/protocol/openid-connect/certs');
    jwks = createLocalJWKSet(res.body as unknown as JSONWebKeySet);
  });
  after(() => t.close());

  const verify = (token: string) => jwtVerify(token, jwks, { issuer: t.issuer, typ: 'at+jwt' });

  it('serves discovery at the Keycloak path with the Keycloak endpoints and RFC 8705 metadata', async () => {
    const res = await t.getJson('/.well-known/openid-configuration');
    assert.equal(res.status, 200);
    const d = res.body;
    assert.match(t.issuer, /^https:\/\/127\.0\.0\.1:\d+\/realms\/master$/);
    assert.equal(d['issuer'], t.issuer);
    assert.equal(d['token_endpoint'], `${t.issuer}/protocol/openid-connect/token`);
    assert.equal(d['jwks_uri'], `${t.issuer}/protocol/openid-connect/certs`);
    assert.equal(d['introspection_endpoint'], `${t.issuer}/protocol/openid-connect/token/introspect`);
    assert.equal(d['tls_client_certificate_bound_access_tokens'], true);
    assert.deepEqual((d['mtls_endpoint_aliases'] as Record<string, unknown>)['token_endpoint'], d['token_endpoint']);
    const methods = d['token_endpoint_auth_methods_supported'] as string[];
    for (const m of ['tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic']) assert.ok(methods.includes(m), m);
    assert.ok((d['grant_types_supported'] as string[]).includes('client_credentials'));
    assert.equal(t.idp.endpoints.token, d['token_endpoint']);
  });

  it('answers 404 outside /realms/<realm>', async () => {
    assert.equal((await t.getJson(`${t.idp.url}/realms/other/.well-known/openid-configuration`)).status, 404);
    assert.equal((await t.getJson(`${t.idp.url}/`)).status, 404);
  });

  it('gives the tutorial client a JWT bound to its certificate (cnf.x5t#S256)', async () => {
    const res = await t.requestToken();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body['token_type'], 'Bearer');
    assert.equal(res.body['expires_in'], 60);
    const token = res.access_token ?? assert.fail('no access_token');
    const { payload, protectedHeader } = await verify(token);
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(typeof protectedHeader.kid, 'string');
    assert.deepEqual(payload.cnf, { 'x5t#S256': certificateThumbprint(t.pki.client.certPem) });
    assert.equal(payload.sub, 'kong');
    assert.equal(payload['client_id'], 'kong');
    assert.equal(payload.aud, 'urn:portcullis:api');
    assert.equal(typeof payload.jti, 'string');
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 60);
  });

  for (const [name, opts] of [
    ['no certificate', { certPath: null }],
    ['the same subject from another CA', { credential: 'otherCaClient' }],
    ['a trusted certificate with another subject', { credential: 'otherClient' }],
    ['an expired certificate', { credential: 'expiredClient' }],
  ] as const) {
    it(`refuses the tutorial client with ${name}: 401 invalid_client`, async () => {
      const res = await t.requestToken(
        'credential' in opts ? { credential: t.pki[opts.credential] } : { certPath: opts.certPath },
      );
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.body['error'], 'invalid_client');
      assert.equal(res.access_token, undefined);
    });
  }

  it('verifies a client certificate from an intermediate CA when the client sends the chain', async () => {
    const res = await t.requestToken({ clientId: 'kong-intermediate', credential: t.pki.intermediateClient });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const { payload } = await verify(res.access_token ?? '');
    assert.deepEqual(payload.cnf, { 'x5t#S256': t.pki.intermediateClient.thumbprint });
  });

  it('issues opaque bound tokens whose introspection carries a top-level cnf (RFC 8705 §3.2)', async () => {
    const res = await t.requestToken({ clientId: testIdpClientIds.opaque });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const token = res.access_token ?? assert.fail('no access_token');
    assert.equal(token.split('.').length, 1, 'an opaque token, not a JWT');
    const info = await t.introspect(token);
    assert.equal(info.status, 200);
    assert.equal(info.body['active'], true);
    assert.deepEqual(info.body['cnf'], { 'x5t#S256': t.pki.client.thumbprint });
    assert.equal(info.body['client_id'], testIdpClientIds.opaque);
    assert.equal(info.body['sub'], testIdpClientIds.opaque);
    assert.equal(info.body['iss'], t.issuer);
    assert.equal(info.body['token_type'], 'Bearer');
    assert.equal(typeof info.body['exp'], 'number');
  });

  it('keeps introspection to the introspection client and the token owner', async () => {
    const token = (await t.requestToken({ clientId: testIdpClientIds.opaque })).access_token ?? assert.fail('no token');
    assert.equal((await t.introspect(token, { clientSecret: 'wrong-secret' })).status, 401);
    const other = await t.introspect(token, { clientId: testIdpClientIds.secret, clientSecret: devClientSecret });
    assert.deepEqual(other.body, { active: false });
    assert.deepEqual((await t.introspect('not-a-token')).body, { active: false });
  });

  it('authenticates a self_signed_tls_client_auth client by its registered certificate', async () => {
    const ok = await t.requestToken({ clientId: testIdpClientIds.selfSigned, credential: t.pki.selfSignedClient });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const { payload } = await verify(ok.access_token ?? '');
    assert.deepEqual(payload.cnf, { 'x5t#S256': t.pki.selfSignedClient.thumbprint });
    const wrong = await t.requestToken({ clientId: testIdpClientIds.selfSigned, credential: t.pki.client });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body['error'], 'invalid_client');
  });

  it('gives the secret client an unbound token, even when it presents a certificate', async () => {
    for (const secretIn of ['basic', 'body'] as const) {
      const res = await t.requestToken({ clientId: testIdpClientIds.secret, clientSecret: devClientSecret, secretIn });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { payload } = await verify(res.access_token ?? '');
      assert.equal(payload.cnf, undefined);
      assert.equal(payload['client_id'], testIdpClientIds.secret);
    }
    const bad = await t.requestToken({ clientId: testIdpClientIds.secret, clientSecret: 'not-the-secret' });
    assert.equal(bad.status, 401);
    assert.equal(bad.body['error'], 'invalid_client');
  });

  it('grants allowed scopes and refuses others with invalid_scope', async () => {
    const res = await t.requestToken({ scope: 'read write' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body['scope'], 'read write');
    assert.equal((await verify(res.access_token ?? '')).payload['scope'], 'read write');
    const refused = await t.requestToken({ scope: 'read admin' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'invalid_scope');
  });

  it('signs with ES256 for a client configured so, under a kid from the JWKS', async () => {
    const res = await t.requestToken({ clientId: testIdpClientIds.es256 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const header = decodeProtectedHeader(res.access_token ?? '');
    assert.equal(header.alg, 'ES256');
    const { payload } = await verify(res.access_token ?? '');
    assert.equal((payload.cnf as Record<string, unknown>)['x5t#S256'], t.pki.client.thumbprint);
  });

  it('changes the lifetime of new tokens with setAccessTokenTtl', async () => {
    t.setAccessTokenTtl(5);
    try {
      const res = await t.requestToken();
      assert.equal(res.body['expires_in'], 5);
      const { payload } = await verify(res.access_token ?? '');
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 5);
    } finally {
      t.setAccessTokenTtl(60);
    }
  });

  it('mints tokens for negative tests with the same key and claims', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await t.mintToken({ iat: now - 120, exp: now - 60 });
    await assert.rejects(verify(expired), { code: 'ERR_JWT_EXPIRED' });
    const unbound = await t.mintToken({ scope: 'read' }, { boundTo: null });
    const { payload } = await verify(unbound);
    assert.equal(payload.cnf, undefined);
    assert.equal(payload['scope'], 'read');
    const other = await t.mintToken({}, { boundTo: t.pki.otherClient });
    assert.deepEqual((await verify(other)).payload.cnf, { 'x5t#S256': t.pki.otherClient.thumbprint });
  });
});

describe('development IdP with short-lived tokens', () => {
  let t: TestIdp;
  before(async () => {
    t = await startTestIdp({ accessTokenTtlSeconds: 1, realm: 'portcullis' });
  });
  after(() => t.close());

  it('issues tokens that expire after the configured lifetime (and introspect as inactive)', async () => {
    assert.match(t.issuer, /\/realms\/portcullis$/);
    const jwt = await t.requestToken();
    assert.equal(jwt.body['expires_in'], 1);
    const opaque = await t.requestToken({ clientId: testIdpClientIds.opaque });
    const token = opaque.access_token ?? assert.fail('no token');
    assert.equal((await t.introspect(token)).body['active'], true);
    // Poll instead of sleeping a fixed time: the token is gone once its second is over.
    const deadline = Date.now() + 4000;
    let active: unknown = true;
    while (active === true && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      active = (await t.introspect(token)).body['active'];
    }
    assert.equal(active, false);
  });
});
