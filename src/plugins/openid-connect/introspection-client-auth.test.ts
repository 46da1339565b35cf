// How the gateway authenticates to the introspection endpoint with private_key_jwt (RFC 7523):
// the development IdP (src/idp) cannot register a private_key_jwt client, so the assertion is
// checked here against the local test IdP. tls_client_auth is covered end to end in
// test/integration/openid-connect.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, jwtVerify } from 'jose';
import type { PluginInstance } from '../../pipeline/plugin.js';
import { buildInstance, fakeContext, FakeIdp } from './test-fixtures.js';

describe('openid-connect introspection client authentication: private_key_jwt', () => {
  let idp: FakeIdp;
  let plugin: PluginInstance;
  let publicKey: Awaited<ReturnType<typeof generateKeyPair>>['publicKey'];

  before(async () => {
    idp = await FakeIdp.start();
    const pair = await generateKeyPair('ES256', { extractable: true });
    publicKey = pair.publicKey;
    const jwk = { ...(await exportJWK(pair.privateKey)), kid: 'gw-key-1' };
    plugin = buildInstance({
      issuer: idp.issuer,
      auth_methods: ['introspection'],
      client_id: ['gateway'],
      introspection_endpoint_auth_method: 'private_key_jwt',
      client_jwk: [jwk],
      client_alg: ['ES256'],
    });
  });
  after(async () => {
    await plugin.close?.();
    await idp.close();
  });

  it('sends a fresh signed client assertion naming the gateway, for the endpoint and the issuer', async () => {
    idp.introspection.set('opaque-1', { active: true, sub: 'svc', exp: Math.floor(Date.now() / 1000) + 60 });
    const ctx = fakeContext({ headers: { authorization: 'Bearer opaque-1' } });
    await plugin.access!(ctx);
    assert.equal(ctx.auth?.reason, 'introspection_active');
    const form = idp.lastIntrospectionForm!;
    assert.equal(idp.lastIntrospectionAuth, undefined, 'no Basic credentials');
    assert.equal(form.get('client_id'), 'gateway');
    assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const endpoint = `${idp.issuer}/protocol/openid-connect/token/introspect`;
    const { payload, protectedHeader } = await jwtVerify(form.get('client_assertion')!, publicKey, { issuer: 'gateway', subject: 'gateway', audience: endpoint });
    assert.deepEqual(protectedHeader, { alg: 'ES256', kid: 'gw-key-1' });
    assert.ok(Array.isArray(payload.aud) && payload.aud.includes(idp.issuer));
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.exp! - payload.iat! <= 60);
  });
});
