// Attack corpus, part 1: forged, confused and malformed access tokens (RFC 8725's list and jwt_tool's
// attack modes) against a real gateway process, with the development IdP as the issuer. Every token
// here is presented on a TLS connection with the certificate it is bound to (`pki.client`), so that
// the one thing wrong with it is the thing under test. Each refusal is checked for its status, its
// RFC 6750 challenge, its reason code in the access log, and that the upstream saw nothing.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSelfSignedCertificate, pemToDer } from '../../src/certs/index.js';
import { MAX_TOKEN_LENGTH } from '../../src/plugins/openid-connect/handler.js';
import {
  b64url,
  attackerKeys,
  ecSigner,
  edgeLeeway,
  hmacSigner,
  hsSecret,
  jwsWithSignature,
  rsaSigner,
  signJws,
  signingInput,
  startAttackerServer,
  useAttackSuite,
  type AttackSuite,
  type Refusal,
} from './attack-harness.js';

const suite = useAttackSuite();

/** An attack: a token built once the suite runs, and the refusal it must meet. */
interface TokenCase {
  readonly name: string;
  /** Default `/strict/anything`. */
  readonly path?: string;
  readonly token: (s: AttackSuite) => string | Promise<string>;
  readonly expect: Refusal;
}

const invalidToken = (reason: string): Refusal => ({ status: 401, reason, error: 'invalid_token' });

/** Sends `token` with the certificate it is bound to and checks the refusal. */
async function refuse(c: TokenCase): Promise<void> {
  const token = await c.token(suite);
  const res = await suite.send({ path: c.path ?? '/strict/anything', token }, { credential: suite.pki.client });
  await suite.expectRefused(res, c.expect, c.name);
}

function table(title: string, cases: readonly TokenCase[]): void {
  describe(title, () => {
    for (const c of cases) it(c.name, () => refuse(c));
  });
}

const header = (s: AttackSuite, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ alg: 'RS256', typ: 'at+jwt', kid: s.keys.rsa.kid, ...extra });
const ecHeader = (s: AttackSuite, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ alg: 'ES256', typ: 'at+jwt', kid: s.keys.ec.kid, ...extra });
const idpPublicPem = (s: AttackSuite): string => createPublicKey(s.keys.rsa.privateKey).export({ type: 'spki', format: 'pem' }).toString();

// The attacker's material, made once per file (RSA key generation is the slow part).
const attacker = attackerKeys();
const attackerKid = 'attacker-key-1';

// ---------------------------------------------------------------------------------------------

describe('controls: the corpus can tell a good token from a bad one', () => {
  it('a token the IdP issued over mTLS, with its certificate: 200, reaches the upstream', async () => {
    const res = await suite.send({ path: '/strict/anything', token: suite.idpToken }, { credential: suite.pki.client });
    const record = await suite.expectPassed(res);
    assert.equal(record.thumbprint, suite.pki.client.thumbprint);
    const seen = suite.upstream.requests.find((r) => r.requestId === res.requestId);
    assert.equal(seen?.headers.authorization, `Bearer ${suite.idpToken}`);
  });

  it("a token the corpus signs itself with the IdP's real key is accepted on every route", async () => {
    // What makes every refusal below meaningful: the harness's own tokens pass when nothing is wrong.
    for (const [path, alg] of [['/strict', 'RS256'], ['/strict', 'ES256'], ['/typ-pinned', 'RS256'], ['/edges', 'RS256'], ['/hs', 'RS256']] as const) {
      const res = await suite.send({ path: `${path}/anything`, token: suite.sign(suite.claims(), { alg }) }, { credential: suite.pki.client });
      await suite.expectPassed(res, `${path} ${alg}`);
    }
  });

  it('HS256 with the configured client secret passes where enable_hs_signatures is on', async () => {
    const token = signJws({ alg: 'HS256', typ: 'at+jwt' }, suite.claims(), hmacSigner(hsSecret));
    await suite.expectPassed(await suite.send({ path: '/hs/anything', token }, { credential: suite.pki.client }));
  });

  it('duplicate header members: the lexically last counts for the alg check and the signature alike (RFC 7515 §4)', async () => {
    // The refusals in "duplicate JSON member names" show the checks read the last value; this shows
    // the signature verification does too: "none" first, RS256 last, a real RS256 signature → verified.
    const token = signJws(`{"alg":"none","typ":"at+jwt","kid":"${suite.keys.rsa.kid}","alg":"RS256"}`, suite.claims(), suite.keys.rsa.signer);
    await suite.expectPassed(await suite.send({ path: '/strict/anything', token }, { credential: suite.pki.client }));
  });

  it('the same token in the Authorization header and the query counts once, and is removed from the query', async () => {
    const token = suite.sign(suite.claims());
    const res = await suite.send({ path: `/strict/anything?access_token=${token}&keep=1`, token }, { credential: suite.pki.client });
    await suite.expectPassed(res);
    const seen = suite.upstream.requests.find((r) => r.requestId === res.requestId);
    // The route strips /strict; the service path is /anything.
    assert.equal(seen?.url, '/anything/anything?keep=1');
  });
});

// ---------------------------------------------------------------------------------------------

const noneCasings = ['none', 'None', 'NONE', 'nOnE'] as const;
table('alg none (RFC 8725 §2.1)', [
  ...noneCasings.flatMap((alg): TokenCase[] => [
    {
      // A real RS256 signature over the same input: the header alone must decide.
      name: `alg "${alg}" with a signature segment`,
      token: (s) => {
        const input = signingInput({ alg, typ: 'at+jwt' }, s.claims());
        return `${input}.${s.keys.rsa.signer.sign(Buffer.from(input)).toString('base64url')}`;
      },
      expect: invalidToken('alg_not_allowed'),
    },
    { name: `alg "${alg}" with an empty signature segment`, token: (s) => jwsWithSignature({ alg, typ: 'at+jwt' }, s.claims(), ''), expect: invalidToken('token_malformed') },
    // Two segments: not a JWS at all, and introspection is off.
    { name: `alg "${alg}" without a signature segment`, token: (s) => signingInput({ alg, typ: 'at+jwt' }, s.claims()), expect: invalidToken('token_not_jwt') },
  ]),
  { name: 'alg "none" with the IdP\'s kid', token: (s) => jwsWithSignature({ alg: 'none', kid: s.keys.rsa.kid }, s.claims(), b64url('x')), expect: invalidToken('alg_not_allowed') },
  { name: 'no alg at all', token: (s) => jwsWithSignature({ typ: 'at+jwt', kid: s.keys.rsa.kid }, s.claims(), b64url('x')), expect: invalidToken('token_malformed') },
  { name: 'alg as a list ["RS256"]', token: (s) => signJws(header(s, { alg: ['RS256'] }), s.claims(), s.keys.rsa.signer), expect: invalidToken('token_malformed') },
  { name: 'alg "rs256" (wrong case)', token: (s) => signJws(header(s, { alg: 'rs256' }), s.claims(), s.keys.rsa.signer), expect: invalidToken('alg_not_allowed') },
]);

table('stripped and zeroed signatures', [
  { name: 'RS256 with an empty signature', token: (s) => jwsWithSignature(header(s), s.claims(), ''), expect: invalidToken('token_malformed') },
  { name: 'RS256 with 256 zero bytes as signature', token: (s) => jwsWithSignature(header(s), s.claims(), b64url(Buffer.alloc(256))), expect: invalidToken('signature_invalid') },
  { name: 'RS256 with one zero byte as signature', token: (s) => jwsWithSignature(header(s), s.claims(), b64url(Buffer.alloc(1))), expect: invalidToken('signature_invalid') },
  {
    name: 'RS256 signature of another payload (claims swapped after signing)',
    token: (s) => {
      const signed = s.sign(s.claims({ sub: 'someone-else' }));
      return `${signingInput(header(s), s.claims())}.${signed.split('.')[2]!}`;
    },
    expect: invalidToken('signature_invalid'),
  },
  { name: 'RS256 signature padded with "=" (not base64url)', token: (s) => `${s.sign(s.claims())}=`, expect: invalidToken('token_malformed') },
  { name: 'RS256 signature in standard base64 (+ and /)', token: (s) => jwsWithSignature(header(s), s.claims(), Buffer.alloc(256, 0xfb).toString('base64')), expect: invalidToken('token_malformed') },
]);

// The public key as an HMAC secret (RFC 8725 §2.1, jwt_tool -X k): refused as an algorithm where
// HS* is off, and never verified with anything but the client secret where it is on.
const publicKeyAsSecret: ReadonlyArray<readonly [string, (s: AttackSuite) => Buffer | string]> = [
  ['the SPKI PEM text', idpPublicPem],
  ['the SPKI PEM text without its final newline', (s) => idpPublicPem(s).trimEnd()],
  ['the PKCS#1 PEM text', (s) => createPublicKey(s.keys.rsa.privateKey).export({ type: 'pkcs1', format: 'pem' }).toString()],
  ['the SPKI DER bytes', (s) => createPublicKey(s.keys.rsa.privateKey).export({ type: 'spki', format: 'der' })],
  ["the JWK's n bytes", (s) => Buffer.from(String(s.keys.rsa.publicJwk.n), 'base64url')],
  ["the JWK's n as text", (s) => String(s.keys.rsa.publicJwk.n)],
];
table('HS256 signed with the IdP public key (key confusion)', [
  ...publicKeyAsSecret.map(([what, secret]): TokenCase => ({
    name: `${what}, HS* disabled`,
    token: (s) => signJws(header(s, { alg: 'HS256' }), s.claims(), hmacSigner(secret(s))),
    expect: invalidToken('alg_not_allowed'),
  })),
  ...publicKeyAsSecret.map(([what, secret]): TokenCase => ({
    name: `${what}, on the route with enable_hs_signatures`,
    path: '/hs/anything',
    token: (s) => signJws(header(s, { alg: 'HS256' }), s.claims(), hmacSigner(secret(s))),
    expect: invalidToken('signature_invalid'),
  })),
  {
    name: 'HS256 with an empty secret and kid "/dev/null", HS* disabled',
    token: (s) => signJws({ alg: 'HS256', typ: 'at+jwt', kid: '../../../../../../dev/null' }, s.claims(), hmacSigner(Buffer.alloc(0))),
    expect: invalidToken('alg_not_allowed'),
  },
  {
    // The binding is checked for HS-signed tokens too.
    name: 'HS256 with the real client secret, bound to another certificate',
    path: '/hs/anything',
    token: (s) => signJws({ alg: 'HS256', typ: 'at+jwt' }, s.claims({}, s.pki.otherClient), hmacSigner(hsSecret)),
    expect: invalidToken('pop_certificate_mismatch'),
  },
  {
    name: 'HS256 with the real client secret, not bound',
    path: '/hs/anything',
    token: (s) => signJws({ alg: 'HS256', typ: 'at+jwt' }, s.claims({}, null), hmacSigner(hsSecret)),
    expect: invalidToken('pop_claim_missing'),
  },
  {
    name: 'HS256 with the real client secret and the wrong issuer',
    path: '/hs/anything',
    token: (s) => signJws({ alg: 'HS256', typ: 'at+jwt' }, s.claims({ iss: 'https://attacker.example' }), hmacSigner(hsSecret)),
    expect: invalidToken('issuer_mismatch'),
  },
  {
    name: 'HS256 with an empty secret and kid "/dev/null", on the route with enable_hs_signatures',
    path: '/hs/anything',
    token: (s) => signJws({ alg: 'HS256', typ: 'at+jwt', kid: '../../../../../../dev/null' }, s.claims(), hmacSigner(Buffer.alloc(0))),
    expect: invalidToken('signature_invalid'),
  },
]);

// CVE-2022-21449: (r, s) = (0, 0) verified as valid by some ECDSA implementations.
const p256Order = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');
table('"psychic signature" ECDSA ES256 (CVE-2022-21449)', [
  { name: 'r = s = 0, 64 zero bytes', token: (s) => jwsWithSignature(ecHeader(s), s.claims(), b64url(Buffer.alloc(64))), expect: invalidToken('signature_invalid') },
  { name: 'r = s = 0, DER SEQUENCE { INTEGER 0, INTEGER 0 }', token: (s) => jwsWithSignature(ecHeader(s), s.claims(), b64url(Buffer.from('3006020100020100', 'hex'))), expect: invalidToken('signature_invalid') },
  {
    name: 'r = s = 0, DER with 32-byte zero integers',
    token: (s) => jwsWithSignature(ecHeader(s), s.claims(), b64url(Buffer.concat([Buffer.from('30440220', 'hex'), Buffer.alloc(32), Buffer.from('0220', 'hex'), Buffer.alloc(32)]))),
    expect: invalidToken('signature_invalid'),
  },
  { name: 'r = s = n (the curve order)', token: (s) => jwsWithSignature(ecHeader(s), s.claims(), b64url(Buffer.concat([p256Order, p256Order]))), expect: invalidToken('signature_invalid') },
  {
    name: 'r = 0 with a real s',
    token: (s) => {
      const real = Buffer.from(s.sign(s.claims(), { alg: 'ES256' }).split('.')[2]!, 'base64url');
      return jwsWithSignature(ecHeader(s), s.claims(), b64url(Buffer.concat([Buffer.alloc(32), real.subarray(32)])));
    },
    expect: invalidToken('signature_invalid'),
  },
  { name: 'ES256 over the RSA key (kid of the RS256 key)', token: (s) => signJws(ecHeader(s, { kid: s.keys.rsa.kid }), s.claims(), s.keys.ec.signer), expect: invalidToken('key_not_found') },
  { name: 'RS256 over the EC key (kid of the ES256 key)', token: (s) => signJws(header(s, { kid: s.keys.ec.kid }), s.claims(), s.keys.rsa.signer), expect: invalidToken('key_not_found') },
  // The IdP's JWK says alg RS256: that key is never used for another algorithm (RFC 8725 §3.1).
  { name: 'PS256 header with an RS256 signature', token: (s) => signJws(header(s, { alg: 'PS256' }), s.claims(), s.keys.rsa.signer), expect: invalidToken('key_not_found') },
]);

table("keys from the token's own header (jwk, x5c): never used", [
  { name: 'embedded jwk, no kid', token: (s) => signJws({ alg: 'RS256', typ: 'at+jwt', jwk: attacker.rsa.publicJwk }, s.claims(), rsaSigner(attacker.rsa.privateKey)), expect: invalidToken('signature_invalid') },
  {
    name: "embedded jwk with the IdP's kid",
    token: (s) => signJws(header(s, { jwk: { ...attacker.rsa.publicJwk, kid: s.keys.rsa.kid } }), s.claims(), rsaSigner(attacker.rsa.privateKey)),
    expect: invalidToken('signature_invalid'),
  },
  {
    name: 'embedded jwk with its own kid',
    token: (s) => signJws(header(s, { kid: attackerKid, jwk: { ...attacker.rsa.publicJwk, kid: attackerKid } }), s.claims(), rsaSigner(attacker.rsa.privateKey)),
    expect: invalidToken('key_not_found'),
  },
  { name: 'embedded EC jwk, ES256, no kid', token: (s) => signJws({ alg: 'ES256', typ: 'at+jwt', jwk: attacker.ec.publicJwk }, s.claims(), ecSigner(attacker.ec.privateKey)), expect: invalidToken('signature_invalid') },
]);

describe("keys from the token's own header (x5c): an attacker's self-signed certificate", () => {
  // Named like the test root CA, to look the part.
  const attackerCert = createSelfSignedCertificate({ subject: 'CN=Portcullis Test Root CA', usage: 'client', keyType: 'ec-p256' });
  attackerCert.catch(() => undefined); // awaited (and so reported) by each test below
  const x5cCases: ReadonlyArray<readonly [string, (s: AttackSuite, x5c: string, x5t: string) => Record<string, unknown>, string]> = [
    ['x5c, no kid', (_s, x5c) => ({ alg: 'ES256', typ: 'at+jwt', x5c: [x5c] }), 'signature_invalid'],
    ["x5c with the IdP's ES256 kid", (s, x5c) => ecHeader(s, { x5c: [x5c] }), 'signature_invalid'],
    ['x5c and x5t#S256 of that certificate', (_s, x5c, x5t) => ({ alg: 'ES256', typ: 'at+jwt', x5c: [x5c], 'x5t#S256': x5t }), 'signature_invalid'],
    ['x5c with a kid of its own', (_s, x5c) => ({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, x5c: [x5c] }), 'key_not_found'],
  ];
  for (const [name, makeHeader, reason] of x5cCases) {
    it(name, async () => {
      const cert = await attackerCert;
      const der = pemToDer(cert.certPem);
      const signer = ecSigner(createPrivateKey(cert.keyPem));
      await refuse({ name, token: (s) => signJws(makeHeader(s, der.toString('base64'), cert.thumbprint), s.claims(), signer), expect: invalidToken(reason) });
    });
  }
});

describe('jku and x5u pointing at an attacker: refused, and the URL is never fetched', () => {
  const cases: ReadonlyArray<readonly [string, (s: AttackSuite, url: string) => { header: Record<string, unknown>; rsa: boolean }, string]> = [
    ['jku with a kid only the attacker serves', (_s, url) => ({ header: { alg: 'RS256', typ: 'at+jwt', kid: attackerKid, jku: `${url}/jwks.json` }, rsa: true }), 'key_not_found'],
    ["jku with the IdP's kid", (s, url) => ({ header: header(s, { jku: `${url}/jwks.json` }), rsa: true }), 'signature_invalid'],
    ['jku without a kid', (_s, url) => ({ header: { alg: 'RS256', typ: 'at+jwt', jku: `${url}/jwks.json` }, rsa: true }), 'signature_invalid'],
    ['x5u with a kid only the attacker serves', (_s, url) => ({ header: { alg: 'ES256', typ: 'at+jwt', kid: attackerKid, x5u: `${url}/cert.pem` }, rsa: false }), 'key_not_found'],
    ['x5u without a kid', (_s, url) => ({ header: { alg: 'ES256', typ: 'at+jwt', x5u: `${url}/cert.pem` }, rsa: false }), 'signature_invalid'],
    ['jku and x5u with the IdP\'s ES256 kid', (s, url) => ({ header: ecHeader(s, { jku: `${url}/jwks.json`, x5u: `${url}/cert.pem` }), rsa: false }), 'signature_invalid'],
  ];
  for (const [name, make, reason] of cases) {
    it(name, async () => {
      const jwks = JSON.stringify({ keys: [{ ...attacker.rsa.publicJwk, kid: attackerKid, alg: 'RS256', use: 'sig' }, { ...attacker.ec.publicJwk, kid: attackerKid, alg: 'ES256', use: 'sig' }] });
      const server = await startAttackerServer(jwks);
      try {
        await refuse({
          name,
          token: (s) => {
            const { header: h, rsa } = make(s, server.url);
            return signJws(h, s.claims(), rsa ? rsaSigner(attacker.rsa.privateKey) : ecSigner(attacker.ec.privateKey));
          },
          expect: invalidToken(reason),
        });
        // An unknown kid makes the gateway refetch the issuer's JWKS; give a stray fetch time to land.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(server.hits(), 0, 'the attacker URL was contacted');
      } finally {
        await server.close();
      }
    });
  }
});

table('kid injection (token signed with the real key, only the kid is wrong)', [
  { name: 'kid "../../dev/null"', token: (s) => s.sign(s.claims(), { header: { kid: '../../dev/null' } }), expect: invalidToken('key_not_found') },
  { name: 'kid "/dev/null" with a NUL byte', token: (s) => s.sign(s.claims(), { header: { kid: '/dev/null\u0000' } }), expect: invalidToken('key_not_found') },
  { name: "kid \"' OR 1=1 --\"", token: (s) => s.sign(s.claims(), { header: { kid: "' OR 1=1 --" } }), expect: invalidToken('key_not_found') },
  { name: 'kid "x\' UNION SELECT \'key\' --"', token: (s) => s.sign(s.claims(), { header: { kid: "x' UNION SELECT 'key' --" } }), expect: invalidToken('key_not_found') },
  { name: 'kid "| id" (command injection)', token: (s) => s.sign(s.claims(), { header: { kid: '| id; cat /etc/passwd' } }), expect: invalidToken('key_not_found') },
  { name: 'kid of 10,000 characters', token: (s) => s.sign(s.claims(), { header: { kid: 'k'.repeat(10_000) } }), expect: invalidToken('key_not_found') },
  { name: 'kid of a key that does not exist', token: (s) => s.sign(s.claims(), { header: { kid: randomUUID() } }), expect: invalidToken('key_not_found') },
  { name: "kid that is the IdP's kid with a suffix", token: (s) => s.sign(s.claims(), { header: { kid: `${s.keys.rsa.kid}x` } }), expect: invalidToken('key_not_found') },
  { name: 'kid "__proto__"', token: (s) => s.sign(s.claims(), { header: { kid: '__proto__' } }), expect: invalidToken('key_not_found') },
  { name: 'kid ""', token: (s) => s.sign(s.claims(), { header: { kid: '' } }), expect: invalidToken('token_malformed') },
  { name: 'kid as a number', token: (s) => s.sign(s.claims(), { header: { kid: 12345 } }), expect: invalidToken('token_malformed') },
  { name: 'kid as an object', token: (s) => s.sign(s.claims(), { header: { kid: { $ne: null } } }), expect: invalidToken('token_malformed') },
]);

table('crit and b64 (RFC 7515 §4.1.11, RFC 7797)', [
  { name: 'crit naming an unknown extension', token: (s) => s.sign(s.claims(), { header: { crit: ['urn:example:policy'], 'urn:example:policy': true } }), expect: invalidToken('crit_unsupported') },
  { name: 'crit naming a registered claim ("exp")', token: (s) => s.sign(s.claims(), { header: { crit: ['exp'], exp: 1 } }), expect: invalidToken('crit_unsupported') },
  { name: 'crit: [] (empty)', token: (s) => s.sign(s.claims(), { header: { crit: [] } }), expect: invalidToken('crit_unsupported') },
  { name: 'crit ["b64"] with b64: false', token: (s) => s.sign(s.claims(), { header: { crit: ['b64'], b64: false } }), expect: invalidToken('crit_unsupported') },
  { name: 'crit as a string', token: (s) => s.sign(s.claims(), { header: { crit: 'urn:example:policy' } }), expect: invalidToken('crit_unsupported') },
  { name: 'b64: false without crit', token: (s) => s.sign(s.claims(), { header: { b64: false } }), expect: invalidToken('token_malformed') },
]);

// RFC 7515 §4 / RFC 7519 §4: duplicate member names are refused or the lexically last one counts.
// The gateway parses with JSON.parse (the last counts), so each case puts the wrong value last: the
// refusal shows that every check, signature verification included, read the same (last) value.
table('duplicate JSON member names (signed with the real key)', [
  {
    name: 'header with two alg: RS256, then none',
    token: (s) => signJws(`{"alg":"RS256","typ":"at+jwt","kid":"${s.keys.rsa.kid}","alg":"none"}`, s.claims(), s.keys.rsa.signer),
    expect: invalidToken('alg_not_allowed'),
  },
  {
    name: 'header with two alg: RS256, then HS256',
    token: (s) => signJws(`{"alg":"RS256","typ":"at+jwt","kid":"${s.keys.rsa.kid}","alg":"HS256"}`, s.claims(), s.keys.rsa.signer),
    expect: invalidToken('alg_not_allowed'),
  },
  {
    name: 'header with two alg: ES256, then RS256 (signed ES256)',
    token: (s) => signJws(`{"alg":"ES256","typ":"at+jwt","kid":"${s.keys.ec.kid}","alg":"RS256"}`, s.claims(), s.keys.ec.signer),
    expect: invalidToken('key_not_found'),
  },
  {
    name: 'header with two kid: the real one, then an unknown one',
    token: (s) => signJws(`{"alg":"RS256","typ":"at+jwt","kid":"${s.keys.rsa.kid}","kid":"nope"}`, s.claims(), s.keys.rsa.signer),
    expect: invalidToken('key_not_found'),
  },
  {
    name: 'header with two typ on the typ-pinned route: at+jwt, then JWT',
    path: '/typ-pinned/anything',
    token: (s) => signJws(`{"alg":"RS256","typ":"at+jwt","kid":"${s.keys.rsa.kid}","typ":"JWT"}`, s.claims(), s.keys.rsa.signer),
    expect: invalidToken('typ_not_allowed'),
  },
  {
    name: 'payload with two iss: the issuer, then another',
    token: (s) => s.sign(withDuplicate(s.claims(), 'iss', JSON.stringify('https://attacker.example/realms/master'))),
    expect: invalidToken('issuer_mismatch'),
  },
  {
    name: 'payload with two exp: future, then past',
    token: (s) => s.sign(withDuplicate(s.claims(), 'exp', String(Math.floor(Date.now() / 1000) - 3600))),
    expect: invalidToken('token_expired'),
  },
  {
    name: "payload with two cnf: the presented certificate's, then another's",
    token: (s) => s.sign(withDuplicate(s.claims(), 'cnf', JSON.stringify({ 'x5t#S256': s.pki.otherClient.thumbprint }))),
    expect: invalidToken('pop_certificate_mismatch'),
  },
  {
    name: 'payload with two cnf: bound, then without x5t#S256',
    token: (s) => s.sign(withDuplicate(s.claims(), 'cnf', '{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}')),
    expect: invalidToken('pop_claim_missing'),
  },
  {
    name: 'payload with two aud on the audience route: right, then wrong',
    path: '/edges/anything',
    token: (s) => s.sign(withDuplicate(s.claims(), 'aud', '"urn:other:api"')),
    expect: { status: 403, reason: 'audience_mismatch', error: 'insufficient_scope' },
  },
]);

/** The claims as JSON text with `name` repeated at the end with the raw JSON `value`. */
function withDuplicate(claims: Record<string, unknown>, name: string, value: string): string {
  return `${JSON.stringify(claims).slice(0, -1)},${JSON.stringify(name)}:${value}}`;
}

table('nested JWT, JWE and other shapes', [
  {
    name: 'nested JWT: payload is another (valid) JWT, cty: JWT',
    token: (s) => signJws(header(s, { cty: 'JWT' }), s.sign(s.claims()), s.keys.rsa.signer),
    expect: invalidToken('token_malformed'),
  },
  {
    name: 'nested JWT: payload is a JSON string holding a valid JWT',
    token: (s) => signJws(header(s, { cty: 'JWT' }), JSON.stringify(s.sign(s.claims())), s.keys.rsa.signer),
    expect: invalidToken('token_malformed'),
  },
  { name: 'payload is JSON null', token: (s) => signJws(header(s), 'null', s.keys.rsa.signer), expect: invalidToken('token_malformed') },
  { name: 'payload is a JSON array of claims', token: (s) => signJws(header(s), JSON.stringify([s.claims()]), s.keys.rsa.signer), expect: invalidToken('token_malformed') },
  { name: 'header is a JSON array', token: (s) => signJws('["RS256"]', s.claims(), s.keys.rsa.signer), expect: invalidToken('token_malformed') },
  { name: 'header is not JSON', token: (s) => `${b64url('{alg:RS256}')}.${b64url(JSON.stringify(s.claims()))}.${b64url('x')}`, expect: invalidToken('token_malformed') },
  {
    name: 'JWE compact serialisation (five segments, RSA-OAEP/A256GCM)',
    token: (s) => [b64url(JSON.stringify({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: s.keys.rsa.kid, cty: 'JWT' })), b64url(randomBytes(256)), b64url(randomBytes(12)), b64url(randomBytes(300)), b64url(randomBytes(16))].join('.'),
    expect: invalidToken('token_malformed'),
  },
  {
    name: 'JWE compact serialisation with alg "dir" and an empty key segment',
    token: () => [b64url(JSON.stringify({ alg: 'dir', enc: 'A128GCM' })), '', b64url(randomBytes(12)), b64url(randomBytes(64)), b64url(randomBytes(16))].join('.'),
    expect: invalidToken('token_malformed'),
  },
  { name: 'four segments', token: (s) => `${s.sign(s.claims())}.${b64url('x')}`, expect: invalidToken('token_not_jwt') },
  { name: 'a JSON serialisation instead of compact', token: (s) => b64url(JSON.stringify({ payload: s.sign(s.claims()).split('.')[1] })), expect: invalidToken('token_not_jwt') },
  { name: 'JWT with whitespace inside (not token68)', token: (s) => s.sign(s.claims()).replace('.', '. '), expect: invalidToken('token_malformed') },
]);

table('typ pinned to at+jwt (token_typ_allowed: [at+jwt])', [
  { name: 'typ "JWT"', path: '/typ-pinned/anything', token: (s) => s.sign(s.claims(), { header: { typ: 'JWT' } }), expect: invalidToken('typ_not_allowed') },
  { name: 'typ absent (counts as JWT)', path: '/typ-pinned/anything', token: (s) => signJws({ alg: 'RS256', kid: s.keys.rsa.kid }, s.claims(), s.keys.rsa.signer), expect: invalidToken('typ_not_allowed') },
  { name: 'typ "application/jwt"', path: '/typ-pinned/anything', token: (s) => s.sign(s.claims(), { header: { typ: 'application/jwt' } }), expect: invalidToken('typ_not_allowed') },
  { name: 'typ "dpop+jwt"', path: '/typ-pinned/anything', token: (s) => s.sign(s.claims(), { header: { typ: 'dpop+jwt' } }), expect: invalidToken('typ_not_allowed') },
  { name: 'typ "at+jwt " (trailing space)', path: '/typ-pinned/anything', token: (s) => s.sign(s.claims(), { header: { typ: 'at+jwt ' } }), expect: invalidToken('typ_not_allowed') },
  { name: 'typ as a number', path: '/typ-pinned/anything', token: (s) => s.sign(s.claims(), { header: { typ: 1 } }), expect: invalidToken('token_malformed') },
  { name: 'typ "logout+jwt" on the default route too', token: (s) => s.sign(s.claims(), { header: { typ: 'logout+jwt' } }), expect: invalidToken('typ_not_allowed') },
]);

describe('typ pinned to at+jwt: what still passes', () => {
  it('the IdP-issued token (typ at+jwt) and typ "application/AT+JWT" (RFC 7515 §4.1.9 comparison)', async () => {
    await suite.expectPassed(await suite.send({ path: '/typ-pinned/anything', token: suite.idpToken }, { credential: suite.pki.client }));
    const token = suite.sign(suite.claims(), { header: { typ: 'application/AT+JWT' } });
    await suite.expectPassed(await suite.send({ path: '/typ-pinned/anything', token }, { credential: suite.pki.client }));
  });
});

// ---------------------------------------------------------------------------------------------
// Claim edges on /edges (leeway 5, audience_required urn:portcullis:api). claims.ts, with now the
// gateway's clock in (fractional) seconds and L the leeway:
//   exp: refused when now >= exp + L        nbf: refused when now + L < nbf      iat: as nbf
// With t = floor(test's now) <= gateway's now: exp = t - L is refused whatever the latency; exp =
// t - L + 2 (a token that expired L - 2 s ago) passes unless the request takes over a second.
// nbf = iat = t + L always passes; t + L + 2 is refused unless the request takes over a second.

const L = edgeLeeway;
const nowFloor = (): number => Math.floor(Date.now() / 1000);
table(`time claims at the edges of leeway (${L} s)`, [
  { name: `exp = now - leeway (boundary, refused)`, path: '/edges/anything', token: (s) => s.sign(s.claims({ exp: nowFloor() - L, iat: nowFloor() - 60 })), expect: invalidToken('token_expired') },
  { name: 'exp long past', path: '/edges/anything', token: (s) => s.sign(s.claims({ exp: nowFloor() - 3600, iat: nowFloor() - 4000 })), expect: invalidToken('token_expired') },
  { name: `nbf = now + leeway + 2`, path: '/edges/anything', token: (s) => s.sign(s.claims({ nbf: nowFloor() + L + 2 })), expect: invalidToken('token_not_yet_valid') },
  { name: `iat = now + leeway + 2`, path: '/edges/anything', token: (s) => s.sign(s.claims({ iat: nowFloor() + L + 2 })), expect: invalidToken('token_issued_in_future') },
  { name: 'exp missing', path: '/edges/anything', token: (s) => s.sign(s.claims({ exp: undefined })), expect: invalidToken('exp_missing') },
  { name: 'exp as a numeric string', path: '/edges/anything', token: (s) => s.sign(s.claims({ exp: String(nowFloor() + 60) })), expect: invalidToken('claim_invalid') },
  { name: 'exp null', path: '/edges/anything', token: (s) => s.sign(s.claims({ exp: null })), expect: invalidToken('claim_invalid') },
  { name: 'exp as a list', path: '/edges/anything', token: (s) => s.sign(s.claims({ exp: [nowFloor() + 60] })), expect: invalidToken('claim_invalid') },
  { name: 'exp -1e308 (far past)', path: '/edges/anything', token: (s) => s.sign(s.claims({ exp: -1e308 })), expect: invalidToken('token_expired') },
  { name: 'nbf as a string', path: '/edges/anything', token: (s) => s.sign(s.claims({ nbf: 'yesterday' })), expect: invalidToken('claim_invalid') },
  { name: 'iat as a boolean', path: '/edges/anything', token: (s) => s.sign(s.claims({ iat: true })), expect: invalidToken('claim_invalid') },
]);

describe(`time claims at the edges of leeway (${L} s): the accepted side`, () => {
  for (const [name, claims] of [
    [`exp = now - leeway + 2 (expired, inside leeway)`, () => ({ exp: nowFloor() - L + 2, iat: nowFloor() - 60 })],
    [`nbf = now + leeway`, () => ({ nbf: nowFloor() + L })],
    [`iat = now + leeway`, () => ({ iat: nowFloor() + L })],
  ] as const) {
    it(name, async () => {
      const token = suite.sign(suite.claims(claims()));
      await suite.expectPassed(await suite.send({ path: '/edges/anything', token }, { credential: suite.pki.client }), name);
    });
  }
});

table('iss and aud edges', [
  { name: 'iss of another realm on the same IdP', path: '/edges/anything', token: (s) => s.sign(s.claims({ iss: s.idp.issuer.replace(/master$/, 'other') })), expect: invalidToken('issuer_mismatch') },
  { name: 'iss with another scheme (http)', path: '/edges/anything', token: (s) => s.sign(s.claims({ iss: s.idp.issuer.replace(/^https/, 'http') })), expect: invalidToken('issuer_mismatch') },
  { name: 'iss as a prefix of the issuer', path: '/edges/anything', token: (s) => s.sign(s.claims({ iss: s.idp.issuer.slice(0, -1) })), expect: invalidToken('issuer_mismatch') },
  { name: 'iss with a suffix', path: '/edges/anything', token: (s) => s.sign(s.claims({ iss: `${s.idp.issuer}.attacker.example` })), expect: invalidToken('issuer_mismatch') },
  { name: 'iss upper-cased', path: '/edges/anything', token: (s) => s.sign(s.claims({ iss: s.idp.issuer.toUpperCase() })), expect: invalidToken('issuer_mismatch') },
  { name: 'iss missing', path: '/edges/anything', token: (s) => s.sign(s.claims({ iss: undefined })), expect: invalidToken('issuer_mismatch') },
  { name: 'iss as a list holding the issuer', path: '/edges/anything', token: (s) => s.sign(s.claims({ iss: [s.idp.issuer] })), expect: invalidToken('issuer_mismatch') },
  { name: 'aud of another API', path: '/edges/anything', token: (s) => s.sign(s.claims({ aud: 'urn:other:api' })), expect: { status: 403, reason: 'audience_mismatch', error: 'insufficient_scope' } },
  { name: 'aud missing', path: '/edges/anything', token: (s) => s.sign(s.claims({ aud: undefined })), expect: { status: 403, reason: 'audience_mismatch', error: 'insufficient_scope' } },
  { name: 'aud with a suffix', path: '/edges/anything', token: (s) => s.sign(s.claims({ aud: 'urn:portcullis:api:evil' })), expect: { status: 403, reason: 'audience_mismatch', error: 'insufficient_scope' } },
  { name: 'aud upper-cased', path: '/edges/anything', token: (s) => s.sign(s.claims({ aud: 'URN:PORTCULLIS:API' })), expect: { status: 403, reason: 'audience_mismatch', error: 'insufficient_scope' } },
  { name: 'aud as an object', path: '/edges/anything', token: (s) => s.sign(s.claims({ aud: { 'urn:portcullis:api': true } })), expect: { status: 403, reason: 'audience_mismatch', error: 'insufficient_scope' } },
]);

describe('iss and aud edges: the accepted side', () => {
  it('iss with a trailing slash, and aud as a list holding the audience', async () => {
    for (const claims of [{ iss: `${suite.idp.issuer}/` }, { aud: ['urn:other:api', 'urn:portcullis:api'] }]) {
      const token = suite.sign(suite.claims(claims));
      await suite.expectPassed(await suite.send({ path: '/edges/anything', token }, { credential: suite.pki.client }), JSON.stringify(claims));
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** A token signed with the real key whose length is exactly `length` (padding in a claim and a header member). */
function tokenOfLength(s: AttackSuite, length: number): string {
  for (let extra = 0; extra < 4; extra++) {
    const base = s.sign(s.claims({ pad: '' }), { header: { p: 'p'.repeat(extra) } });
    for (let pad = Math.floor(((length - base.length) * 3) / 4) - 4; pad < length; pad++) {
      const token = s.sign(s.claims({ pad: 'x'.repeat(Math.max(pad, 0)) }), { header: { p: 'p'.repeat(extra) } });
      if (token.length === length) return token;
      if (token.length > length) break;
    }
  }
  throw new Error(`no token of exactly ${length} characters`);
}

describe('oversized tokens and headers', () => {
  it(`a token of exactly MAX_TOKEN_LENGTH (${MAX_TOKEN_LENGTH}) characters passes (control)`, async () => {
    const token = tokenOfLength(suite, MAX_TOKEN_LENGTH);
    await suite.expectPassed(await suite.send({ path: '/strict/anything', token }, { credential: suite.pki.client }));
  });

  it(`a validly signed token of MAX_TOKEN_LENGTH + 1 characters: token_too_large`, async () => {
    await refuse({ name: 'one over', token: (s) => tokenOfLength(s, MAX_TOKEN_LENGTH + 1), expect: invalidToken('token_too_large') });
  });

  it('a 30,000-character garbage token: token_too_large', async () => {
    await refuse({ name: 'garbage', token: () => 'A'.repeat(30_000), expect: invalidToken('token_too_large') });
  });

  it('a request head over --max-header-size (32 KiB): 431 before any plugin, nothing upstream', async () => {
    const before = suite.upstream.total();
    const res = await suite.send({ path: '/strict/anything', token: 'A'.repeat(40_000) }, { credential: suite.pki.client });
    assert.equal(res.status, 431);
    assert.equal(res.headers['www-authenticate'], undefined);
    assert.equal(suite.upstream.hitsFor(res.requestId), 0);
    assert.equal(suite.upstream.total(), before);
    // Node's parser refuses the head before the handler: the client's X-Request-Id is never read, and
    // the access-log line carries the fresh id the answer names.
    const id = res.headers['x-request-id'];
    assert.ok(id !== undefined && id !== res.requestId, `a fresh X-Request-Id on the 431 (${id})`);
    const record = await suite.record(id);
    assert.equal(record.status, 431);
    assert.equal(record.reason, 'request_header_fields_too_large');
    assert.equal(record.auth, null);
    assert.equal(record.route, null);
    assert.equal(suite.gateway.logs.some((l) => JSON.stringify(l).includes(res.requestId)), false);
  });
});

describe('tokens in two places at once', () => {
  const twoPlaces: ReadonlyArray<readonly [string, (s: AttackSuite) => { path: string; token: string | null; headers: Array<[string, string]> }]> = [
    ['Authorization and a different access_token query argument', (s) => ({ path: `/strict/anything?access_token=${s.sign(s.claims())}`, token: s.idpToken, headers: [] })],
    ['Authorization and a garbage access_token query argument', (s) => ({ path: '/strict/anything?access_token=garbage', token: s.idpToken, headers: [] })],
    ['two different access_token query arguments', (s) => ({ path: `/strict/anything?access_token=${s.idpToken}&access_token=${s.sign(s.claims())}`, token: null, headers: [] })],
    ['a percent-encoded access%5Ftoken beside Authorization', (s) => ({ path: '/strict/anything?access%5Ftoken=other', token: s.idpToken, headers: [] })],
    ['Authorization and a different X-Access-Token header', (s) => ({ path: '/strict/anything', token: s.idpToken, headers: [['X-Access-Token', s.sign(s.claims())]] })],
    ['Authorization and a different Access-Token header', (s) => ({ path: '/strict/anything', token: s.idpToken, headers: [['Access-Token', 'other']] })],
  ];
  for (const [name, make] of twoPlaces) {
    it(`${name}: 400 multiple_tokens`, async () => {
      const req = make(suite);
      const res = await suite.send(req, { credential: suite.pki.client });
      await suite.expectRefused(res, { status: 400, reason: 'multiple_tokens', error: 'invalid_request' }, name);
    });
  }

  it('two Authorization headers, a bad one first: 400 header_duplicated before any plugin runs', async () => {
    const res = await suite.send({ path: '/strict/anything', headers: [['Authorization', 'Bearer not.a.jwt'], ['Authorization', `Bearer ${suite.idpToken}`]] }, { credential: suite.pki.client });
    await suite.expectRefused(res, { status: 400, reason: 'header_duplicated', error: 'none', byPlugin: false });
  });

  it('"Authorization: Bearer" with no token: token_malformed', async () => {
    const res = await suite.send({ path: '/strict/anything', headers: [['Authorization', 'Bearer']] }, { credential: suite.pki.client });
    await suite.expectRefused(res, invalidToken('token_malformed'));
  });

  it('"Authorization: Bearer <token> <token>": token_malformed', async () => {
    const res = await suite.send({ path: '/strict/anything', headers: [['Authorization', `Bearer ${suite.idpToken} ${suite.idpToken}`]] }, { credential: suite.pki.client });
    await suite.expectRefused(res, invalidToken('token_malformed'));
  });

  // Node's HTTP parser keeps only the first of repeated Authorization fields, so the plugin could
  // never see the second token; the gateway refuses a repeated Authorization (or Host) itself, from
  // the raw header list, before routing (src/server/proxy-handler.ts).
  it('two Authorization headers with different tokens, the valid one first: 400 header_duplicated', async () => {
    const res = await suite.send(
      { path: '/strict/anything', headers: [['Authorization', `Bearer ${suite.idpToken}`], ['Authorization', `Bearer ${suite.sign(suite.claims({ sub: 'someone-else' }))}`]] },
      { credential: suite.pki.client },
    );
    await suite.expectRefused(res, { status: 400, reason: 'header_duplicated', error: 'none', byPlugin: false });
  });
});
