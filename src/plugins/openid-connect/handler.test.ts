import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { EC_CERT, RSA_CERT } from '../../config/test-fixtures.js';
import type { PluginInstance } from '../../pipeline/plugin.js';
import { formatChallenge } from '../../pipeline/www-authenticate.js';
import { buildInstance, clientCertificate, fakeContext, FakeIdp, makeKey, runAccess } from './test-fixtures.js';

const alice = clientCertificate(RSA_CERT);
const mallory = clientCertificate(EC_CERT);

const run = runAccess;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('openid-connect access phase', () => {
  let idp: FakeIdp;
  const instances: PluginInstance[] = [];
  const make = (config: Record<string, unknown>, extra?: Parameters<typeof buildInstance>[1]) => {
    const instance = buildInstance({ issuer: idp.issuer, ...config }, extra);
    instances.push(instance);
    return instance;
  };

  before(async () => {
    idp = await FakeIdp.start();
  });
  /** Signs any header with the IdP's RS256 key, bypassing jose's own header checks. */
  const signRaw = async (header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> => {
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', idp.keys[0]!.privateKey, new TextEncoder().encode(input));
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  };
  after(async () => {
    for (const instance of instances) await instance.close?.();
    await idp.close();
  });

  it('lets a certificate-bound token through with the certificate it was issued to (strict)', async () => {
    const plugin = make({ proof_of_possession_mtls: 'strict', proof_of_possession_mtls_from_header: null }, { plugins: [{ name: 'tls-handshake-modifier', route: 'r' }] });
    const token = await idp.sign({ cnf: { 'x5t#S256': alice.thumbprint } });
    const ctx = fakeContext({ headers: bearer(token), certificate: alice });
    assert.equal(await run(plugin, ctx), null);
    assert.deepEqual(ctx.auth, { plugin: 'openid-connect', outcome: 'success', reason: 'jwt_verified' });
    assert.equal(ctx.identity?.credentialId, 'svc');
    // hide_credentials + upstream_access_token_header: the token goes upstream as Authorization: Bearer.
    assert.equal(ctx.upstreamHeaders['authorization'], `Bearer ${token}`);
  });

  it('strict PoP refuses a token presented with another client certificate, without a certificate, and an unbound token', async () => {
    const plugin = make({ proof_of_possession_mtls: 'strict' }, { plugins: [{ name: 'tls-handshake-modifier' }] });
    const bound = await idp.sign({ cnf: { 'x5t#S256': alice.thumbprint } });
    const other = await run(plugin, fakeContext({ headers: bearer(bound), certificate: mallory }));
    assert.equal(other?.status, 401);
    assert.equal(other?.code, 'pop_certificate_mismatch');
    assert.equal(formatChallenge(other.challenges[0]!), `Bearer realm="${new URL(idp.issuer).host}", error="invalid_token"`);
    assert.equal(other?.body?.text, '{"message":"Unauthorized"}');
    assert.equal((await run(plugin, fakeContext({ headers: bearer(bound) })))?.code, 'pop_certificate_missing');
    const unbound = await idp.sign();
    assert.equal((await run(plugin, fakeContext({ headers: bearer(unbound), certificate: alice })))?.code, 'pop_claim_missing');
    // The binding is checked on every request: a cached token is still refused with the wrong certificate.
    assert.equal(await run(plugin, fakeContext({ headers: bearer(bound), certificate: alice })), null);
    assert.equal((await run(plugin, fakeContext({ headers: bearer(bound), certificate: mallory })))?.code, 'pop_certificate_mismatch');
  });

  it('optional PoP checks only bound tokens; off checks nothing', async () => {
    const optional = make({ proof_of_possession_mtls: 'optional' }, { plugins: [{ name: 'tls-handshake-modifier' }] });
    const bound = await idp.sign({ cnf: { 'x5t#S256': alice.thumbprint } });
    const unbound = await idp.sign();
    assert.equal(await run(optional, fakeContext({ headers: bearer(unbound) })), null);
    assert.equal(await run(optional, fakeContext({ headers: bearer(bound), certificate: alice })), null);
    assert.equal((await run(optional, fakeContext({ headers: bearer(bound), certificate: mallory })))?.code, 'pop_certificate_mismatch');
    assert.equal((await run(optional, fakeContext({ headers: bearer(bound) })))?.code, 'pop_certificate_missing');
    const off = make({});
    assert.equal(await run(off, fakeContext({ headers: bearer(bound), certificate: mallory })), null);
  });

  it('refuses malformed cnf values instead of normalising them', async () => {
    const plugin = make({ proof_of_possession_mtls: 'strict' }, { plugins: [{ name: 'tls-handshake-modifier' }] });
    const hex = await idp.sign({ cnf: { 'x5t#S256': Buffer.from(alice.thumbprint, 'base64url').toString('hex') } });
    assert.equal((await run(plugin, fakeContext({ headers: bearer(hex), certificate: alice })))?.code, 'pop_claim_invalid');
  });

  it('answers 401 without an error code when no token was sent, with one when display_errors is on', async () => {
    const plugin = make({});
    const refusal = await run(plugin);
    assert.equal(refusal?.status, 401);
    assert.equal(refusal?.code, 'no_token');
    assert.equal(formatChallenge(refusal.challenges[0]!), `Bearer realm="${new URL(idp.issuer).host}"`);
    const verbose = make({ display_errors: true, unauthorized_error_message: 'Nope' });
    assert.equal((await run(verbose))?.body?.text, '{"message":"Nope (no suitable authorization credentials were provided)"}');
  });

  it('reads the scheme case-insensitively and refuses two different tokens with 400 invalid_request', async () => {
    const plugin = make({});
    const token = await idp.sign();
    assert.equal(await run(plugin, fakeContext({ headers: { authorization: `bEARER ${token}` } })), null);
    const two = await run(plugin, fakeContext({ headers: bearer(token), query: `access_token=${await idp.sign()}` }));
    assert.equal(two?.status, 400);
    assert.equal(two?.code, 'multiple_tokens');
    assert.equal(two?.challenges[0]?.params['error'], 'invalid_request');
    assert.equal(await run(plugin, fakeContext({ headers: bearer(token), query: `access_token=${token}` })), null);
  });

  it('refuses expired tokens, honours leeway, and never serves a cached token past its exp', async () => {
    const plugin = make({});
    const now = Math.floor(Date.now() / 1000);
    const expired = await idp.sign({ exp: now - 10, iat: now - 70 });
    assert.equal((await run(plugin, fakeContext({ headers: bearer(expired) })))?.code, 'token_expired');
    const lenient = make({ leeway: 30 });
    assert.equal(await run(lenient, fakeContext({ headers: bearer(expired) })), null);
    const strictLeeway = make({ leeway: 5 });
    assert.equal((await run(strictLeeway, fakeContext({ headers: bearer(expired) })))?.code, 'token_expired');
    const future = await idp.sign({ nbf: now + 20, iat: now + 20 });
    assert.equal((await run(plugin, fakeContext({ headers: bearer(future) })))?.code, 'token_not_yet_valid');
    assert.equal(await run(lenient, fakeContext({ headers: bearer(future) })), null);

    const short = await idp.sign({ exp: now + 2 });
    assert.equal(await run(plugin, fakeContext({ headers: bearer(short) })), null);
    mock.timers.enable({ apis: ['Date'], now: (now + 3) * 1000 });
    try {
      assert.equal((await run(plugin, fakeContext({ headers: bearer(short) })))?.code, 'token_expired');
    } finally {
      mock.timers.reset();
    }
  });

  it('checks the issuer, accepting issuers_allowed', async () => {
    const plugin = make({});
    const foreign = await idp.sign({ iss: 'https://evil.example/realms/test' });
    assert.equal((await run(plugin, fakeContext({ headers: bearer(foreign) })))?.code, 'issuer_mismatch');
    const allowed = make({ issuers_allowed: ['https://evil.example/realms/test'] });
    assert.equal(await run(allowed, fakeContext({ headers: bearer(foreign) })), null);
  });

  it("applies Kong's AND/OR rules for audience and scopes, with 403 insufficient_scope", async () => {
    const plugin = make({ audience_required: ['urn:other', 'urn:api'], scopes_required: ['admin', 'read write'] });
    assert.equal(await run(plugin, fakeContext({ headers: bearer(await idp.sign()) })), null);
    const noScope = await run(plugin, fakeContext({ headers: bearer(await idp.sign({ scope: 'read' })) }));
    assert.equal(noScope?.status, 403);
    assert.equal(noScope?.code, 'scope_insufficient');
    assert.equal(noScope?.body?.text, '{"message":"Forbidden"}');
    assert.equal(formatChallenge(noScope.challenges[0]!), `Bearer realm="${new URL(idp.issuer).host}", error="insufficient_scope", scope="admin"`);
    const wrongAud = await run(plugin, fakeContext({ headers: bearer(await idp.sign({ aud: ['urn:x'] })) }));
    assert.equal(wrongAud?.status, 403);
    assert.equal(wrongAud?.code, 'audience_mismatch');
    const roles = make({ roles_required: ['admin'], roles_claim: ['realm_access', 'roles'] });
    assert.equal(await run(roles, fakeContext({ headers: bearer(await idp.sign({ realm_access: { roles: ['admin'] } })) })), null);
    assert.equal((await run(roles, fakeContext({ headers: bearer(await idp.sign()) })))?.code, 'roles_insufficient');
    const forbidden = make({ claims_forbidden: ['act'] });
    assert.equal((await run(forbidden, fakeContext({ headers: bearer(await idp.sign({ act: { sub: 'x' } })) })))?.code, 'claim_forbidden');
  });

  describe('RFC 8725 attacks', () => {
    it('refuses alg none, with or without a signature', async () => {
      const plugin = make({});
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const payload = b64({ iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 });
      const r1 = await run(plugin, fakeContext({ headers: bearer(`${b64({ alg: 'none' })}.${payload}.`) }));
      assert.equal(r1?.status, 401);
      assert.equal(r1?.code, 'token_malformed');
      assert.equal((await run(plugin, fakeContext({ headers: bearer(`${b64({ alg: 'none' })}.${payload}.c2ln`) })))?.code, 'alg_not_allowed');
      assert.equal((await run(plugin, fakeContext({ headers: bearer(`${b64({ alg: 'nOnE' })}.${payload}.c2ln`) })))?.code, 'alg_not_allowed');
    });

    it('refuses HS256 signed with the public key (RS/HS confusion), even with enable_hs_signatures', async () => {
      const publicPem = Buffer.from(JSON.stringify(idp.keys[0]!.jwk));
      const forged = await new SignJWT({ iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(publicPem);
      assert.equal((await run(make({}), fakeContext({ headers: bearer(forged) })))?.code, 'alg_not_allowed');
      const hs = make({ enable_hs_signatures: true, client_secret: ['s3cret-s3cret-s3cret-s3cret-s3cret'] });
      assert.equal((await run(hs, fakeContext({ headers: bearer(forged) })))?.code, 'signature_invalid');
      const real = await new SignJWT({ iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('s3cret-s3cret-s3cret-s3cret-s3cret'));
      assert.equal(await run(hs, fakeContext({ headers: bearer(real) })), null);
    });

    it('never fetches or uses keys named by jku, x5u, x5c or an embedded jwk', async () => {
      let hits = 0;
      const attacker = createServer((_req, res) => {
        hits++;
        res.end('{}');
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/jwks`;
      try {
        const { privateKey, publicKey } = await generateKeyPair('RS256');
        const jwk = await exportJWK(publicKey);
        const plugin = make({});
        for (const header of [{ jku: url }, { x5u: url }, { jwk }, { jku: url, kid: 'attacker' }]) {
          const token = await new SignJWT({ iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 })
            .setProtectedHeader({ alg: 'RS256', kid: 'k1', ...header })
            .sign(privateKey);
          const refusal = await run(plugin, fakeContext({ headers: bearer(token) }));
          assert.equal(refusal?.status, 401);
          assert.ok(['signature_invalid', 'key_not_found'].includes(refusal.code), refusal.code);
        }
        assert.equal(hits, 0);
      } finally {
        attacker.close();
      }
    });

    it('refuses an unknown crit, kid tricks, tampering and malformed tokens with 401, never 500', async () => {
      const plugin = make({});
      const crit = await signRaw({ alg: 'RS256', kid: 'k1', crit: ['urn:x-unknown'], 'urn:x-unknown': 1 }, { iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 });
      assert.equal((await run(plugin, fakeContext({ headers: bearer(crit) })))?.code, 'crit_unsupported');
      for (const kid of ['../../../../dev/null', "' OR 1=1 --", '__proto__', 'constructor']) {
        const token = await idp.sign({}, { header: { kid } });
        assert.equal((await run(plugin, fakeContext({ headers: bearer(token) })))?.code, 'key_not_found', kid);
      }
      const good = await idp.sign();
      const [h, p, s] = good.split('.') as [string, string, string];
      const tampered = `${h}.${Buffer.from(JSON.stringify({ iss: idp.issuer, sub: 'admin', exp: 9999999999 })).toString('base64url')}.${s}`;
      assert.equal((await run(plugin, fakeContext({ headers: bearer(tampered) })))?.code, 'signature_invalid');
      const nullPayload = await new CompactSign(new TextEncoder().encode('null')).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(idp.keys[0]!.privateKey);
      for (const token of [nullPayload, `${h}.${p}`, `${h}.${p}.${s}.x.y`, `%%%.${p}.${s}`, `${Buffer.from('{"alg":').toString('base64url')}.${p}.${s}`, `bnVsbA.${p}.${s}`, 'a'.repeat(20_000)]) {
        const refusal = await run(plugin, fakeContext({ headers: bearer(token) }));
        assert.equal(refusal?.status, 401, token.slice(0, 40));
      }
      assert.equal((await run(plugin, fakeContext({ headers: bearer('a'.repeat(20_000)) })))?.code, 'token_too_large');
      const typ = make({ token_typ_allowed: ['at+jwt'] });
      assert.equal((await run(typ, fakeContext({ headers: bearer(await idp.sign({}, { header: { typ: 'JWT' } })) })))?.code, 'typ_not_allowed');
      assert.equal(await run(typ, fakeContext({ headers: bearer(await idp.sign({}, { header: { typ: 'application/AT+JWT' } })) })), null);
      assert.equal((await run(plugin, fakeContext({ headers: bearer(await idp.sign({}, { header: { typ: 'dpop+jwt' } })) })))?.code, 'typ_not_allowed');
    });
  });

  it('follows a key rollover with one rate-limited refetch, shared by concurrent misses', async () => {
    const plugin = make({ rediscovery_lifetime: 0 });
    assert.equal(await run(plugin, fakeContext({ headers: bearer(await idp.sign()) })), null);
    const k2 = await makeKey('k2', 'ES256');
    idp.keys.push(k2);
    const before = idp.counts.jwks;
    const tokens = await Promise.all([1, 2, 3, 4, 5].map(() => idp.sign({}, { key: k2 })));
    const results = await Promise.all(tokens.map((t) => run(plugin, fakeContext({ headers: bearer(t) }))));
    assert.deepEqual(results, [null, null, null, null, null]);
    assert.equal(idp.counts.jwks - before, 1, 'concurrent misses must share one fetch');

    // With Kong's 30 s cooldown, random kids cannot make the gateway hammer the IdP.
    const cooled = make({ rediscovery_lifetime: 30, extra_jwks_uris: [`${idp.issuer}/protocol/openid-connect/certs`] });
    assert.equal(await run(cooled, fakeContext({ headers: bearer(await idp.sign()) })), null);
    const start = idp.counts.jwks;
    for (let i = 0; i < 20; i++) {
      const refusal = await run(cooled, fakeContext({ headers: bearer(await idp.sign({}, { header: { kid: `random-${i}` } })) }));
      assert.equal(refusal?.code, 'key_not_found');
    }
    assert.equal(idp.counts.jwks - start, 0);
  });

  it('keeps verifying with known keys while the IdP is down, and gives a 500 when it was never reached', async () => {
    const plugin = make({ cache_ttl: 0 });
    assert.equal(await run(plugin, fakeContext({ headers: bearer(await idp.sign()) })), null);
    idp.up = false;
    try {
      assert.equal(await run(plugin, fakeContext({ headers: bearer(await idp.sign()) })), null);
      const unreachable = make({ issuer: 'http://127.0.0.1:1/realms/nowhere', timeout: 500 });
      const started = Date.now();
      const refusal = await run(unreachable, fakeContext({ headers: bearer(await idp.sign()) }));
      assert.equal(refusal?.status, 500);
      assert.equal(refusal?.code, 'issuer_unavailable');
      assert.equal(refusal?.message, 'An unexpected error occurred');
      assert.ok(Date.now() - started < 2000);
    } finally {
      idp.up = true;
    }
  });

  it('introspects opaque tokens, uses their top-level cnf, and caches them', async () => {
    const plugin = make(
      { auth_methods: ['bearer', 'introspection'], client_id: ['gw'], client_secret: ['pw'], proof_of_possession_mtls: 'strict' },
      { plugins: [{ name: 'tls-handshake-modifier' }] },
    );
    idp.introspection.set('opaque-bound', { active: true, sub: 'svc', exp: Math.floor(Date.now() / 1000) + 60, cnf: { 'x5t#S256': alice.thumbprint } });
    idp.introspection.set('opaque-unbound', { active: true, sub: 'svc' });
    const before = idp.counts.introspection;
    const ok = fakeContext({ headers: bearer('opaque-bound'), certificate: alice });
    assert.equal(await run(plugin, ok), null);
    assert.equal(ok.auth?.reason, 'introspection_active');
    assert.equal(idp.lastIntrospectionAuth, `Basic ${Buffer.from('gw:pw').toString('base64')}`);
    assert.equal((await run(plugin, fakeContext({ headers: bearer('opaque-bound'), certificate: mallory })))?.code, 'pop_certificate_mismatch');
    assert.equal(idp.counts.introspection - before, 1, 'the second request used the cache');
    assert.equal((await run(plugin, fakeContext({ headers: bearer('opaque-unbound'), certificate: alice })))?.code, 'pop_claim_missing');
    assert.equal((await run(plugin, fakeContext({ headers: bearer('revoked'), certificate: alice })))?.code, 'token_inactive');
  });

  it('falls back to introspection when a JWT fails verification, as Kong', async () => {
    const plugin = make({ auth_methods: ['bearer', 'introspection'], client_id: ['gw'], client_secret: ['pw'] });
    const { privateKey } = await generateKeyPair('RS256');
    const foreignJwt = await new SignJWT({ iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    assert.equal((await run(plugin, fakeContext({ headers: bearer(foreignJwt) })))?.code, 'signature_invalid');
    idp.introspection.set(foreignJwt, { active: true, sub: 'svc' });
    const ctx = fakeContext({ headers: bearer(foreignJwt) });
    assert.equal(await run(plugin, ctx), null);
    assert.equal(ctx.auth?.reason, 'introspection_active');
  });

  it('maps consumers, falls back to anonymous, and never forwards a refused credential', async () => {
    const consumers = [{ username: 'svc', custom_id: 'C-1' }, { username: 'guest' }];
    const plugin = make({ consumer_claims: ['sub'], consumer_by: ['username'], authenticated_groups_claim: ['groups'], upstream_headers_claims: ['sub'], upstream_headers_names: ['x-sub'] }, { consumers });
    const ctx = fakeContext({ headers: bearer(await idp.sign({ groups: ['a', 'b'] })) });
    assert.equal(await run(plugin, ctx), null);
    assert.equal(ctx.identity?.consumer?.username, 'svc');
    assert.deepEqual(ctx.identity?.groups, ['a', 'b']);
    assert.equal(ctx.upstreamHeaders['x-sub'], 'svc');
    const unknown = await run(plugin, fakeContext({ headers: bearer(await idp.sign({ sub: 'nobody' })) }));
    assert.equal(unknown?.status, 403);
    assert.equal(unknown?.code, 'consumer_not_found');
    const anon = make({ anonymous: 'guest' }, { consumers });
    const refused = fakeContext({ headers: { ...bearer('bad.token.x'), 'x-access-token': 'bad.token.x' } });
    assert.equal(await run(anon, refused), null);
    assert.equal(refused.identity?.anonymous, true);
    assert.equal(refused.identity?.consumer?.username, 'guest');
    assert.deepEqual(refused.auth, { plugin: 'openid-connect', outcome: 'anonymous', reason: 'token_malformed' });
    assert.equal(refused.upstreamHeaders['authorization'], undefined);
    // Kong's logical OR: a request an earlier plugin authenticated passes untouched, token or not.
    const earlier = fakeContext({ headers: {} });
    earlier.identity = { consumer: { id: 'c-svc', username: 'svc', custom_id: 'C-1', tags: [] }, credentialId: 'k1', groups: null, anonymous: false };
    assert.equal(await run(anon, earlier), null);
    assert.equal(earlier.identity?.consumer?.username, 'svc');
    assert.equal(earlier.auth, null);
  });

  it('skips preflight requests only when run_on_preflight is false', async () => {
    assert.equal((await run(make({}), fakeContext({ method: 'OPTIONS' })))?.code, 'no_token');
    assert.equal(await run(make({ run_on_preflight: false }), fakeContext({ method: 'OPTIONS' })), null);
  });
});
