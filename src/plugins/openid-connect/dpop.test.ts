// RFC 9449 at the resource server, through the openid-connect access phase: the cases of
// ../shared/reference/dpop.md §8 that need no network beyond the fake IdP. Good proofs come from
// panva's `dpop` package (an independent implementation); malformed ones are built by hand with jose.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as dpop from 'dpop';
import { CompactSign, decodeJwt, exportJWK, type JWK } from 'jose';
import { RSA_CERT } from '../../config/test-fixtures.js';
import { NonceMinter } from '../../dpop/nonce.js';
import { accessTokenHash, verifyProof } from '../../dpop/proof.js';
import type { GatewayError } from '../../pipeline/gateway-error.js';
import { formatChallenge } from '../../pipeline/www-authenticate.js';
import type { NodeServices } from '../../state/node-services.js';
import { MemoryReplayCache, type ClaimResult, type ReplayCache } from '../../state/replay-cache.js';
import { createOpenIdConnect } from './handler.js';
import { buildConfig, buildInstance, clientCertificate, fakeContext, FakeIdp, runAccess, silentLogger, testNodeServices, type ExtraEntities } from './test-fixtures.js';

const HTU = 'https://localhost/anything';
const ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519';

type KeyPair = Awaited<ReturnType<typeof dpop.generateKeyPair>>;

interface HandProof {
  header?: Record<string, unknown>;
  payload?: Record<string, unknown>;
  key?: KeyPair;
  /** Replaces the signature part. */
  signature?: string;
}

describe('openid-connect DPoP (RFC 9449)', () => {
  let idp: FakeIdp;
  let key: KeyPair;
  let otherKey: KeyPair;
  let jwk: JWK;
  let jkt: string;
  let token: string;
  let realm: string;

  before(async () => {
    idp = await FakeIdp.start();
    realm = new URL(idp.issuer).host;
    key = await dpop.generateKeyPair('ES256');
    otherKey = await dpop.generateKeyPair('ES256');
    jwk = await exportJWK(key.publicKey);
    jkt = await dpop.calculateThumbprint(key.publicKey);
    token = await idp.sign({ cnf: { jkt } });
  });
  after(() => idp.close());

  const strict = (extra: Record<string, unknown> = {}, entities: ExtraEntities = {}) => buildInstance({ issuer: idp.issuer, proof_of_possession_dpop: 'strict', ...extra }, entities);
  const optional = (extra: Record<string, unknown> = {}) => buildInstance({ issuer: idp.issuer, proof_of_possession_dpop: 'optional', ...extra });
  const proof = (options: { htu?: string; method?: string; nonce?: string; accessToken?: string | null; k?: KeyPair; extra?: Record<string, string> } = {}) =>
    dpop.generateProof(options.k ?? key, options.htu ?? HTU, options.method ?? 'GET', options.nonce, options.accessToken === null ? undefined : (options.accessToken ?? token), options.extra);

  /** A proof with any header or claim changed or removed (undefined removes). */
  async function handProof(options: HandProof = {}): Promise<string> {
    const k = options.key ?? key;
    const header = clean({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(k.publicKey), ...options.header });
    const payload = clean({ jti: crypto.randomUUID(), htm: 'GET', htu: HTU, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(token), ...options.payload });
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header as never).sign(k.privateKey);
    if (options.signature === undefined) return jws;
    return `${jws.slice(0, jws.lastIndexOf('.'))}.${options.signature}`;
  }

  const request = (proofValue: string | undefined, options: { scheme?: string; tok?: string; method?: string; authority?: string; trustedPeer?: boolean; headers?: Record<string, string>; query?: string } = {}) =>
    fakeContext({
      method: options.method ?? 'GET',
      query: options.query,
      authority: options.authority,
      trustedPeer: options.trustedPeer,
      headers: { authorization: `${options.scheme ?? 'DPoP'} ${options.tok ?? token}`, ...(proofValue === undefined ? {} : { dpop: proofValue }), ...options.headers },
    });

  async function refused(instance: ReturnType<typeof strict>, ctx: ReturnType<typeof request>, reason: string): Promise<GatewayError> {
    const refusal = await runAccess(instance, ctx);
    assert.ok(refusal !== null, `expected a refusal for ${reason}`);
    assert.equal(refusal.code, reason);
    assert.equal(refusal.status, 401);
    assert.equal(ctx.auth?.reason, reason);
    return refusal;
  }

  const challenge = (refusal: GatewayError) => refusal.challenges.map(formatChallenge).join(', ');
  const proofError = `DPoP algs="${ALGS}", realm="${'R'}", error="invalid_dpop_proof"`;
  const expectProofError = (refusal: GatewayError) => assert.equal(challenge(refusal), proofError.replace('"R"', `"${realm}"`));

  it('accepts a valid proof; the upstream gets a Bearer token and no proof (Kong)', async () => {
    const ctx = request(await proof());
    assert.equal(await runAccess(strict(), ctx), null);
    assert.equal(ctx.upstreamHeaders['authorization'], `Bearer ${token}`);
    assert.equal(ctx.upstreamHeaders['dpop'], undefined);
    assert.equal(ctx.auth?.reason, 'jwt_verified_dpop');
  });

  it('reads the DPoP scheme case-insensitively', async () => {
    const plugin = strict();
    for (const scheme of ['dpop', 'DPOP', 'dPoP']) assert.equal(await runAccess(plugin, request(await proof(), { scheme })), null, scheme);
  });

  it('challenges without an error when no credentials were sent (Fig. 15), both schemes in optional mode (Fig. 17)', async () => {
    const none = fakeContext();
    assert.equal(challenge((await runAccess(strict(), none))!), `DPoP algs="${ALGS}", realm="${realm}"`);
    assert.equal(challenge((await runAccess(optional(), fakeContext()))!), `Bearer realm="${realm}", DPoP algs="${ALGS}", realm="${realm}"`);
  });

  it('refuses a DPoP-scheme token without a proof, with an empty proof, and with two proofs', async () => {
    const plugin = strict();
    expectProofError(await refused(plugin, request(undefined), 'dpop_proof_missing'));
    await refused(plugin, request(''), 'dpop_proof_missing');
    const p = await proof();
    await refused(plugin, request(`${p}, ${await proof()}`), 'dpop_proof_multiple');
  });

  it('refuses a bound token sent as Bearer, with or without a valid proof (downgrade, §7.2)', async () => {
    expectProofError(await refused(strict(), request(undefined, { scheme: 'Bearer' }), 'dpop_token_downgraded'));
    await refused(strict(), request(await proof(), { scheme: 'Bearer' }), 'dpop_token_downgraded');
    const inOptional = await refused(optional(), request(await proof(), { scheme: 'Bearer' }), 'dpop_token_downgraded');
    assert.equal(challenge(inOptional), `Bearer realm="${realm}", error="invalid_token", DPoP algs="${ALGS}", realm="${realm}"`);
  });

  it('refuses malformed proofs with 401, never 500', async () => {
    const plugin = strict();
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    for (const value of ['wrong_proof', 'a.b', `${b64('not json')}.${b64({})}.sig`, `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk })}.${b64('null')}.AAAA`, '..', `${b64([1])}.${b64({})}.x`]) {
      const refusal = await runAccess(plugin, request(value));
      assert.equal(refusal?.status, 401, value);
      assert.match(refusal.code, /^dpop_/, value);
    }
    await refused(plugin, request(await handProof({ payload: { jti: undefined } }).then((p) => p.replace(/\.[^.]+\./, `.${b64('null')}.`))), 'dpop_signature_invalid');
  });

  it('checks typ: missing, JWT or a longer type refused; upper case and application/ accepted as jose normalises them', async () => {
    const plugin = strict();
    for (const typ of [undefined, 'JWT', 'dpop+jwt+wrongyousee', 'at+jwt']) await refused(plugin, request(await handProof({ header: { typ } })), 'dpop_typ_invalid');
    for (const typ of ['DPOP+JWT', 'application/dpop+jwt']) assert.equal(await runAccess(plugin, request(await handProof({ header: { typ } }))), null, typ);
  });

  it('checks alg: none, HS256, a missing alg and one outside the configured list are refused; algs lists the list', async () => {
    const plugin = strict();
    const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ jti: 'x', htm: 'GET', htu: HTU, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(token) })).toString('base64url');
    await refused(plugin, request(`${header}.${payload}.`), 'dpop_alg_not_allowed');
    const hs = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } })).toString('base64url');
    await refused(plugin, request(`${hs}.${payload}.c2ln`), 'dpop_alg_not_allowed');
    const signed = await handProof();
    const noAlg = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', jwk })).toString('base64url');
    await refused(plugin, request(`${noAlg}${signed.slice(signed.indexOf('.'))}`), 'dpop_alg_not_allowed');
    const fapi = strict({ dpop_proof_algorithms: ['PS256', 'ES256', 'EdDSA'] });
    const rsa = await dpop.generateKeyPair('RS256');
    const refusal = await refused(fapi, request(await proof({ k: rsa })), 'dpop_alg_not_allowed');
    assert.match(challenge(refusal), /^DPoP algs="PS256 ES256 EdDSA"/);
  });

  it('checks jwk: missing, private, and a valid signature by another key', async () => {
    const plugin = strict();
    await refused(plugin, request(await handProof({ header: { jwk: undefined } })), 'dpop_jwk_invalid');
    await refused(plugin, request(await handProof({ header: { jwk: { ...jwk, d: 'AAAA' } } })), 'dpop_jwk_invalid');
    await refused(plugin, request(await handProof({ header: { jwk: 'not an object' } })), 'dpop_jwk_invalid');
    await refused(plugin, request(await proof({ k: otherKey })), 'dpop_key_mismatch');
  });

  it('refuses a corrupted signature', async () => {
    const good = await handProof();
    const signature = Buffer.from(good.slice(good.lastIndexOf('.') + 1), 'base64url');
    signature[5] = signature[5]! ^ 0xff;
    await refused(strict(), request(await handProof({ signature: signature.toString('base64url') })), 'dpop_signature_invalid');
  });

  it('compares htm exactly', async () => {
    const plugin = strict();
    await refused(plugin, request(await proof({ method: 'PUT' })), 'dpop_htm_mismatch');
    await refused(plugin, request(await proof({ method: 'get' })), 'dpop_htm_mismatch');
    assert.equal(await runAccess(plugin, request(await proof({ method: 'POST' }), { method: 'POST' })), null);
  });

  it('compares htu after normalisation, without query and fragment', async () => {
    const plugin = strict();
    await refused(plugin, request(await proof({ htu: `${HTU}ohnonotagain` })), 'dpop_htu_mismatch');
    await refused(plugin, request(await proof({ htu: 'http://localhost/anything' })), 'dpop_htu_mismatch');
    await refused(plugin, request(await proof({ htu: 'https://localhost:8443/anything' })), 'dpop_htu_mismatch');
    for (const htu of [`${HTU}?a=1#f`, 'HTTPS://LOCALHOST/anything', 'https://localhost:443/anything', 'https://localhost/./x/../anything', 'https://localhost/%61nything']) {
      assert.equal(await runAccess(plugin, request(await proof({ htu }))), null, htu);
    }
    assert.equal(await runAccess(plugin, request(await proof(), { query: 'x=1' })), null);
  });

  it('builds the request URI from the Host the client sent, and from X-Forwarded-* only for a trusted peer', async () => {
    const plugin = strict();
    assert.equal(await runAccess(plugin, request(await proof({ htu: 'https://gw.test:8443/anything' }), { authority: 'gw.test:8443' })), null);
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example', 'x-forwarded-port': '443' };
    const htu = 'https://api.example/anything';
    assert.equal(await runAccess(plugin, request(await proof({ htu }), { authority: '10.0.0.5:8000', trustedPeer: true, headers: forwarded })), null);
    await refused(plugin, request(await proof({ htu }), { authority: '10.0.0.5:8000', trustedPeer: false, headers: forwarded }), 'dpop_htu_mismatch');
    // A Host that smuggles a path or query into the compared URI is no authority at all.
    await refused(plugin, request(await proof({ htu: 'https://localhost/other' }), { authority: 'localhost/other?' }), 'dpop_htu_mismatch');
    await refused(plugin, request(await proof({ htu: 'https://evil@localhost/anything' }), { authority: 'evil@localhost' }), 'dpop_htu_mismatch');
  });

  it('accepts iat within the lifetime and a few seconds ahead, not beyond', async () => {
    const plugin = strict();
    const now = Math.floor(Date.now() / 1000);
    for (const iat of [now + 4, now - 298, now + 0.5]) assert.equal(await runAccess(plugin, request(await handProof({ payload: { iat } }))), null, String(iat - now));
    for (const iat of [now + 7, now + 3600]) await refused(plugin, request(await handProof({ payload: { iat } })), 'dpop_iat_future');
    for (const iat of [now - 302, now - 3600]) await refused(plugin, request(await handProof({ payload: { iat } })), 'dpop_proof_expired');
    for (const iat of [undefined, String(now), null]) await refused(plugin, request(await handProof({ payload: { iat } })), 'dpop_claim_invalid');
  });

  it('requires jti, htm, htu and ath of the right types and bounds jti and the proof', async () => {
    const plugin = strict();
    for (const payload of [{ jti: undefined }, { jti: 7 }, { htm: undefined }, { htu: undefined }, { htu: 5 }, { ath: undefined }]) {
      await refused(plugin, request(await handProof({ payload })), 'dpop_claim_invalid');
    }
    await refused(plugin, request(await handProof({ payload: { jti: 'j'.repeat(300) } })), 'dpop_jti_invalid');
    await refused(plugin, request(await handProof({ payload: { pad: 'p'.repeat(9000) } })), 'dpop_proof_too_large');
  });

  it('checks ath exactly', async () => {
    const plugin = strict();
    const hash = createHash('sha256').update(token).digest();
    for (const ath of [accessTokenHash('another token'), hash.toString('base64'), `${hash.toString('base64url')}=`, accessTokenHash(`DPoP ${token}`)]) {
      await refused(plugin, request(await handProof({ payload: { ath } })), 'dpop_ath_mismatch');
    }
  });

  it('accepts a proof once: the same proof again is a replay, on another instance of the node too', async () => {
    const p = await proof();
    assert.equal(await runAccess(strict(), request(p)), null);
    expectProofError(await refused(strict(), request(p), 'dpop_proof_replayed'));
  });

  it('refuses a DPoP-scheme token without cnf.jkt in strict mode, lets it through in optional mode (Kong)', async () => {
    const unbound = await idp.sign();
    await refused(strict(), request(await proof({ accessToken: unbound }), { tok: unbound }), 'dpop_binding_missing');
    assert.equal(await runAccess(optional(), request(undefined, { scheme: 'Bearer', tok: unbound })), null);
    assert.equal(await runAccess(optional(), request(await proof())), null);
    await refused(strict(), request(undefined, { scheme: 'Bearer', tok: unbound }), 'dpop_scheme_required');
  });

  it('refuses a malformed cnf.jkt', async () => {
    const bad = await idp.sign({ cnf: { jkt: 'not-a-thumbprint' } });
    await refused(strict(), request(await proof({ accessToken: bad }), { tok: bad }), 'dpop_binding_invalid');
  });

  it('binds opaque tokens through introspection (cnf.jkt nested in cnf, ath over the opaque string)', async () => {
    const plugin = strict({ auth_methods: ['introspection'], client_id: ['gw'], client_secret: ['s'] });
    const opaque = `opaque-${crypto.randomUUID()}`;
    idp.introspection.set(opaque, { active: true, sub: 'svc', exp: Math.floor(Date.now() / 1000) + 60, token_type: 'DPoP', cnf: { jkt } });
    assert.equal(await runAccess(plugin, request(await proof({ accessToken: opaque }), { tok: opaque })), null);
    const otherJkt = `other-${crypto.randomUUID()}`;
    idp.introspection.set(otherJkt, { active: true, exp: Math.floor(Date.now() / 1000) + 60, cnf: { jkt: await dpop.calculateThumbprint(otherKey.publicKey) } });
    await refused(plugin, request(await proof({ accessToken: otherJkt }), { tok: otherJkt }), 'dpop_key_mismatch');
    const noCnf = `none-${crypto.randomUUID()}`;
    idp.introspection.set(noCnf, { active: true, exp: Math.floor(Date.now() / 1000) + 60 });
    await refused(plugin, request(await proof({ accessToken: noCnf }), { tok: noCnf }), 'dpop_binding_missing');
    const bearerType = `bearer-${crypto.randomUUID()}`;
    idp.introspection.set(bearerType, { active: true, exp: Math.floor(Date.now() / 1000) + 60, token_type: 'Bearer', cnf: { jkt } });
    await refused(plugin, request(await proof({ accessToken: bearerType }), { tok: bearerType }), 'dpop_token_type_mismatch');
  });

  it('runs both bindings on one request when mTLS and DPoP are both on; either failing refuses', async () => {
    const certificate = clientCertificate(RSA_CERT);
    const both = await idp.sign({ cnf: { jkt, 'x5t#S256': certificate.thumbprint } });
    const plugin = strict({ proof_of_possession_mtls: 'strict' }, { plugins: [{ name: 'tls-handshake-modifier', route: 'r' }] });
    const ctx = (p: string, withCertificate: boolean) =>
      fakeContext({ headers: { authorization: `DPoP ${both}`, dpop: p }, certificate: withCertificate ? certificate : null });
    assert.equal(await runAccess(plugin, ctx(await proof({ accessToken: both }), true)), null);
    assert.equal((await runAccess(plugin, ctx(await proof({ accessToken: both }), false)))?.code, 'pop_certificate_missing');
    assert.equal((await runAccess(plugin, ctx(await proof({ accessToken: both, k: otherKey }), true)))?.code, 'dpop_key_mismatch');
  });

  it('with dpop_use_nonce: use_dpop_nonce and a DPoP-Nonce for a proof without one; the nonce then works; forged and expired ones are refused', async () => {
    const plugin = strict({ dpop_use_nonce: true });
    const first = await refused(plugin, request(await proof()), 'dpop_nonce_missing');
    assert.equal(challenge(first), `DPoP algs="${ALGS}", realm="${realm}", error="use_dpop_nonce"`);
    const nonce = first.headers?.['dpop-nonce'];
    assert.match(nonce ?? '', /^[A-Za-z0-9_-]{30}$/);
    const ok = request(await proof({ nonce }));
    assert.equal(await runAccess(plugin, ok), null);
    assert.equal(ok.responseHeaders['dpop-nonce'], undefined, 'a young nonce is not renewed');
    const forged = await refused(plugin, request(await proof({ nonce: `${nonce!.slice(0, 29)}${nonce!.endsWith('A') ? 'B' : 'A'}` })), 'dpop_nonce_invalid');
    assert.match(challenge(forged), /error="use_dpop_nonce"/);
    assert.notEqual(forged.headers?.['dpop-nonce'], undefined);
    const minter = new NonceMinter(testNodeServices.nonceKey);
    await refused(plugin, request(await proof({ nonce: minter.issue(Date.now() / 1000 - 301) })), 'dpop_nonce_expired');
    await refused(plugin, request(await proof({ nonce: new NonceMinter(Buffer.alloc(32, 7)).issue(Date.now() / 1000) })), 'dpop_nonce_invalid');
    // With a nonce the client's clock does not matter: an hour-old iat passes.
    assert.equal(await runAccess(plugin, request(await handProof({ payload: { nonce, iat: Math.floor(Date.now() / 1000) - 3600 } }))), null);
    const ageing = request(await proof({ nonce: minter.issue(Date.now() / 1000 - 250) }));
    assert.equal(await runAccess(plugin, ageing), null);
    assert.match(String(ageing.responseHeaders['dpop-nonce']), /^[A-Za-z0-9_-]{30}$/);
    assert.equal(ageing.responseHeaders['cache-control'], 'no-store');
  });

  it('ignores extra header parameters and claims', async () => {
    assert.equal(await runAccess(strict(), request(await handProof({ header: { tx_id: 'x' }, payload: { extra: 'y' } }))), null);
  });

  it('lets browsers read WWW-Authenticate and DPoP-Nonce', async () => {
    const plugin = strict({ dpop_use_nonce: true });
    const refusal = await runAccess(plugin, request(await proof(), { headers: { origin: 'https://app.example' } }));
    assert.equal(refusal?.headers?.['access-control-expose-headers'], 'WWW-Authenticate, DPoP-Nonce');
    const head = { status: 200, headers: { 'access-control-expose-headers': 'X-Trace' } as Record<string, string | string[]> };
    plugin.headerFilter!(request(undefined, { headers: { origin: 'https://app.example' } }), head);
    assert.equal(head.headers['access-control-expose-headers'], 'X-Trace, WWW-Authenticate, DPoP-Nonce');
  });

  it('verifies the RFC 9449 Fig. 13 proof with its clock (golden vector)', async () => {
    const rfcToken = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
    assert.equal(accessTokenHash(rfcToken), 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
    const verified = await verifyProof(RFC_FIG_13_PROOF, {
      method: 'GET',
      htu: 'https://resource.example.org/protectedresource',
      accessToken: rfcToken,
      algorithms: ['ES256'],
    });
    assert.equal(verified.jkt, '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
    assert.equal(verified.iat, 1562262618);
    assert.equal(verified.jti, 'e1j3V_bKic8-LAEB');
  });

  /** A replay store that records its claims and answers with `answer` (which may throw or reject). */
  class ScriptedReplayCache implements ReplayCache {
    readonly claims: Array<[string, number, number]> = [];
    constructor(readonly answer: () => Promise<ClaimResult>) {}
    claim(key: string, createdAtMs: number, expiresAtMs: number): Promise<ClaimResult> {
      this.claims.push([key, createdAtMs, expiresAtMs]);
      return this.answer();
    }
  }

  /** A strict instance on its own node services (the replay store under test, the shared nonce key). */
  function withReplayCache(replayCache: ReplayCache, extra: Record<string, unknown> = {}, entities: ExtraEntities = {}) {
    const built = buildConfig({ issuer: idp.issuer, proof_of_possession_dpop: 'strict', ...extra }, entities);
    const node: NodeServices = { ...testNodeServices, replayCache };
    return { plugin: createOpenIdConnect(built.plugin, built.config.plugins[0]!, { config: built.config, logger: silentLogger, trustedCaPems: [], node }), settings: built.plugin };
  }

  /** What a refused request must show: nothing authenticated, nothing rewritten for the upstream. */
  function nothingPassedOn(ctx: ReturnType<typeof request>, proofValue: string, reason: string): void {
    assert.equal(ctx.identity, null);
    assert.deepEqual(ctx.auth, { plugin: 'openid-connect', outcome: 'failure', reason });
    assert.equal(ctx.upstreamHeaders['authorization'], `DPoP ${token}`, 'the token was not turned into the Bearer the upstream gets on success');
    assert.equal(ctx.upstreamHeaders['dpop'], proofValue);
  }

  it('fails closed with a 401 dpop_replay_unavailable when the replay store rejects, after checking everything else', async () => {
    const store = new ScriptedReplayCache(() => Promise.reject(new Error('no answer from the primary')));
    const { plugin, settings } = withReplayCache(store);
    const p = await proof();
    const ctx = request(p);
    const refusal = await runAccess(plugin, ctx);
    assert.ok(refusal !== null, 'a store that cannot be reached must not let the request through');
    assert.equal(refusal.status, 401);
    assert.equal(refusal.code, 'dpop_replay_unavailable');
    // The proof cannot be vouched for: an RFC 9449 challenge, so the client may retry with a new
    // proof; the cause is kept for the log, not told to the client.
    expectProofError(refusal);
    assert.doesNotMatch(challenge(refusal), /primary/);
    assert.match(refusal.description ?? '', /no answer from the primary/);
    nothingPassedOn(ctx, p, 'dpop_replay_unavailable');
    // The store was asked once, with the proof's mark: sha256(jkt NUL jti), created at iat, for lifetime + skew.
    const { jti, iat } = decodeJwt(p);
    assert.equal(store.claims.length, 1);
    assert.deepEqual(store.claims[0], [
      createHash('sha256').update(jkt).update('\0').update(String(jti)).digest('base64url'),
      iat! * 1000,
      (iat! + settings.dpop_proof_lifetime + settings.dpop_proof_clock_skew) * 1000,
    ]);
  });

  it('answers dpop_replay_unavailable also for a store that throws synchronously or rejects with a non-Error', async () => {
    for (const answer of [
      (): Promise<ClaimResult> => {
        throw new Error('channel closed');
      },
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      (): Promise<ClaimResult> => Promise.reject('gone'),
    ]) {
      const p = await proof();
      const ctx = request(p);
      const refusal = await runAccess(withReplayCache(new ScriptedReplayCache(answer)).plugin, ctx);
      assert.equal(refusal?.status, 401);
      assert.equal(refusal.code, 'dpop_replay_unavailable');
      nothingPassedOn(ctx, p, 'dpop_replay_unavailable');
    }
  });

  it('does not ask the replay store about a proof that fails another check', async () => {
    const store = new ScriptedReplayCache(() => Promise.reject(new Error('must not be asked')));
    const { plugin } = withReplayCache(store);
    await refused(plugin, request(await proof({ method: 'PUT' })), 'dpop_htm_mismatch');
    await refused(plugin, request(await proof({ k: otherKey })), 'dpop_key_mismatch');
    assert.equal(store.claims.length, 0);
  });

  it('an unreachable replay store is refused even with anonymous set: it never falls back to the anonymous consumer', async () => {
    const store = new ScriptedReplayCache(() => Promise.reject(new Error('down')));
    const { plugin } = withReplayCache(store, { anonymous: 'guest' }, { consumers: [{ username: 'guest' }] });
    const p = await proof();
    const ctx = request(p);
    const refusal = await runAccess(plugin, ctx);
    assert.equal(refusal?.status, 401);
    assert.equal(refusal.code, 'dpop_replay_unavailable');
    nothingPassedOn(ctx, p, 'dpop_replay_unavailable');
  });

  it('refuses with 401 dpop_replay_beyond_capacity and an invalid_dpop_proof challenge when the store answers beyond_capacity', async () => {
    const { plugin } = withReplayCache(new ScriptedReplayCache(() => Promise.resolve('beyond_capacity')));
    const p = await proof();
    const ctx = request(p);
    const refusal = await refused(plugin, ctx, 'dpop_replay_beyond_capacity');
    expectProofError(refusal);
    assert.equal(refusal.oauthError, 'invalid_dpop_proof');
    assert.equal(refusal.body?.text, JSON.stringify({ message: 'Unauthorized' }));
    nothingPassedOn(ctx, p, 'dpop_replay_beyond_capacity');
  });

  it('beyond_capacity in optional mode and with nonces: the error on the DPoP challenge, a fresh nonce to retry with', async () => {
    const store = new ScriptedReplayCache(() => Promise.resolve('beyond_capacity'));
    const optionalMode = withReplayCache(store, { proof_of_possession_dpop: 'optional' }).plugin;
    const inOptional = await refused(optionalMode, request(await proof()), 'dpop_replay_beyond_capacity');
    assert.equal(challenge(inOptional), `Bearer realm="${realm}", DPoP algs="${ALGS}", realm="${realm}", error="invalid_dpop_proof"`);
    const withNonce = withReplayCache(store, { dpop_use_nonce: true }).plugin;
    const nonce = new NonceMinter(testNodeServices.nonceKey).issue(Date.now() / 1000);
    const refusal = await refused(withNonce, request(await proof({ nonce })), 'dpop_replay_beyond_capacity');
    assert.equal(challenge(refusal), `DPoP algs="${ALGS}", realm="${realm}", error="invalid_dpop_proof"`);
    assert.match(refusal.headers?.['dpop-nonce'] ?? '', /^[A-Za-z0-9_-]{30}$/);
  });

  it('with a real full store: a proof whose mark was dropped under a flood is refused beyond_capacity, never accepted again', async () => {
    const { plugin } = withReplayCache(new MemoryReplayCache(1));
    const now = Math.floor(Date.now() / 1000);
    const older = await handProof({ payload: { iat: now - 20 } });
    assert.equal(await runAccess(plugin, request(older)), null);
    // A second proof pushes the first one's mark out of the one-mark store.
    assert.equal(await runAccess(plugin, request(await handProof({ payload: { iat: now - 10 } }))), null);
    await refused(plugin, request(older), 'dpop_replay_beyond_capacity');
    // An unseen proof as old as the dropped mark cannot be vouched for either; a younger one still passes.
    await refused(plugin, request(await handProof({ payload: { iat: now - 25 } })), 'dpop_replay_beyond_capacity');
    assert.equal(await runAccess(plugin, request(await handProof({ payload: { iat: now } }))), null);
  });
});

/** RFC 9449 Figure 13 (line breaks removed). */
const RFC_FIG_13_PROOF =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19' +
  '.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9' +
  '.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA';

function clean(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
