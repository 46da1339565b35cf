// verifyProof on its own: proofs for every algorithm (signed by jose), the alg/jwk fit, the key
// cache in use, and a comparison with jose's own jwtVerify(EmbeddedJWK) — what verifyProof did
// before it verified with node:crypto — over a corpus of altered proofs: the same outcome and
// reason for every one, except that a jwk WebCrypto could not import for the alg (a curve or key
// type that does not fit, unusable key material, key_ops, RSA under 2048 bits) is now
// `dpop_jwk_invalid` where jose's DOMException or TypeError fell through as `dpop_proof_malformed`.
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, EmbeddedJWK, errors, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { normaliseHtu } from './htu.js';
import { accessTokenHash, DPOP_ALGORITHMS, ProofError, verifyProof, type ProofExpectations } from './proof.js';
import { ProofKeyCache } from './proof-key.js';

const HTU = 'https://gw.example/api';
const TOKEN = 'eyJ.token.value';
const ATH = accessTokenHash(TOKEN);
const EXPECT: ProofExpectations = { method: 'GET', htu: HTU, accessToken: TOKEN, algorithms: DPOP_ALGORITHMS };
const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** The outcome of a verification: `ok <jkt>` or the reason. */
async function outcome(run: Promise<{ jkt: string }>): Promise<string> {
  try {
    return `ok ${(await run).jkt}`;
  } catch (error) {
    if (error instanceof ProofError) return error.reason;
    throw error;
  }
}

/** A test key: its public JWK and a node:crypto signer for any JWS alg (the key's own kind when alg does not fit). */
interface TestKey {
  readonly name: string;
  readonly algs: readonly string[];
  readonly jwk: JsonWebKey;
  readonly privateJwk: JsonWebKey;
  readonly sign: (alg: string, input: string) => string;
}

function testKey(name: string, algs: readonly string[], pair: { publicKey: KeyObject; privateKey: KeyObject }): TestKey {
  const kind = pair.privateKey.asymmetricKeyType;
  return {
    name,
    algs,
    jwk: pair.publicKey.export({ format: 'jwk' }),
    privateJwk: pair.privateKey.export({ format: 'jwk' }),
    sign: (alg, input) => {
      const data = Buffer.from(input);
      const family = alg.slice(0, 2);
      const digest = `sha${alg.slice(2)}`;
      if (kind === 'ed25519' || kind === 'ed448') return sign(null, data, pair.privateKey).toString('base64url');
      if (kind === 'ec') return sign(family === 'ES' && digest !== 'sha' ? digest : 'sha256', data, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      const pss = family === 'PS' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : {};
      try {
        return sign(family === 'RS' || family === 'PS' ? digest : 'sha256', data, { key: pair.privateKey, ...pss }).toString('base64url');
      } catch {
        return sign('sha256', data, pair.privateKey).toString('base64url'); // PS512 does not fit RSA-1024
      }
    },
  };
}

interface Alteration {
  readonly header?: Record<string, unknown>;
  readonly claims?: Record<string, unknown>;
  /** The payload segment's bytes instead of the claims. */
  readonly payload?: string | Buffer;
  /** The header segment's bytes instead of the header. */
  readonly rawHeader?: string | Buffer;
  /** The signature segment, or a change of the real one. */
  readonly signature?: string | ((real: string) => string);
}

/** A proof by `key` with `change` applied (an undefined member removes it). */
function proofBy(key: TestKey, change: Alteration = {}): string {
  const header = clean({ typ: 'dpop+jwt', alg: key.algs[0], jwk: key.jwk, ...change.header });
  const claims = clean({ jti: createHash('sha256').update(String(Math.random())).digest('base64url'), htm: 'GET', htu: HTU, iat: now(), ath: ATH, ...change.claims });
  const input = `${b64(change.rawHeader ?? JSON.stringify(header))}.${b64(change.payload ?? JSON.stringify(claims))}`;
  const alg = typeof header['alg'] === 'string' ? header['alg'] : (key.algs[0] ?? 'ES256');
  const signature = typeof change.signature === 'string' ? change.signature : (change.signature ?? ((s: string) => s))(key.sign(alg, input));
  return `${input}.${signature}`;
}

function clean(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** verifyProof as it was, on jose's jwtVerify with EmbeddedJWK (the reference for every check jose made). */
async function joseReference(proof: string, expected: ProofExpectations): Promise<{ jkt: string }> {
  const fail = (reason: ConstructorParameters<typeof ProofError>[0]): ProofError => new ProofError(reason, 'reference');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(proof)) throw fail('dpop_proof_malformed');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(proof.split('.')[0]!, 'base64url'))) as Record<string, unknown>;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error();
  } catch {
    throw fail('dpop_proof_malformed');
  }
  if (typeof header['typ'] !== 'string') throw fail('dpop_typ_invalid');
  if (typeof header['alg'] !== 'string' || !expected.algorithms.includes(header['alg'])) throw fail('dpop_alg_not_allowed');
  const jwk = header['jwk'];
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw fail('dpop_jwk_invalid');
  if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'].some((m) => Object.hasOwn(jwk, m))) throw fail('dpop_jwk_invalid');
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...expected.algorithms] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) throw fail('dpop_signature_invalid');
    if (error instanceof errors.JOSEAlgNotAllowed) throw fail('dpop_alg_not_allowed');
    if (error instanceof errors.JWTClaimValidationFailed) throw fail(error.claim === 'typ' ? 'dpop_typ_invalid' : 'dpop_claim_invalid');
    if (error instanceof errors.JWSInvalid && /jwk|JWK/.test(error.message)) throw fail('dpop_jwk_invalid');
    if (error instanceof errors.JOSENotSupported || error instanceof errors.JWKInvalid) throw fail('dpop_jwk_invalid');
    throw fail('dpop_proof_malformed');
  }
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number' || !Number.isFinite(iat) || typeof ath !== 'string') throw fail('dpop_claim_invalid');
  if (nonce !== undefined && typeof nonce !== 'string') throw fail('dpop_claim_invalid');
  if (jti.length === 0 || jti.length > 256) throw fail('dpop_jti_invalid');
  if (htm !== expected.method) throw fail('dpop_htm_mismatch');
  if (normaliseHtu(htu) !== expected.htu) throw fail('dpop_htu_mismatch');
  if (ath !== accessTokenHash(TOKEN)) throw fail('dpop_ath_mismatch');
  try {
    return { jkt: await calculateJwkThumbprint(jwk, 'sha256') };
  } catch {
    throw fail('dpop_jwk_invalid');
  }
}

const KEYS: readonly TestKey[] = [
  testKey('P-256', ['ES256'], generateKeyPairSync('ec', { namedCurve: 'P-256' })),
  testKey('P-384', ['ES384'], generateKeyPairSync('ec', { namedCurve: 'P-384' })),
  testKey('P-521', ['ES512'], generateKeyPairSync('ec', { namedCurve: 'P-521' })),
  testKey('Ed25519', ['EdDSA', 'Ed25519'], generateKeyPairSync('ed25519')),
  testKey('RSA-2048', ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'], generateKeyPairSync('rsa', { modulusLength: 2048 })),
  testKey('RSA-1024', ['RS256'], generateKeyPairSync('rsa', { modulusLength: 1024 })),
  testKey('secp256k1', ['ES256'], generateKeyPairSync('ec', { namedCurve: 'secp256k1' })),
  testKey('Ed448', ['EdDSA'], generateKeyPairSync('ed448')),
];

/** The altered proofs of one key, by name. */
function alterations(key: TestKey): Array<[string, Alteration]> {
  const out: Array<[string, Alteration]> = [['as made', {}]];
  for (const alg of DPOP_ALGORITHMS) out.push([`alg ${alg}`, { header: { alg } }]);
  for (const alg of ['none', 'HS256', 'es256', undefined]) out.push([`alg ${String(alg)}`, { header: { alg } }]);
  for (const typ of [undefined, 5, 'JWT', 'DPOP+JWT', 'application/dpop+jwt', 'Application/DPoP+JWT', 'x/dpop+jwt', 'application/application/dpop+jwt', ' dpop+jwt', '']) out.push([`typ ${String(typ)}`, { header: { typ } }]);
  for (const jwk of [undefined, 'jwk', [key.jwk], {}, null, key.privateJwk]) out.push([`jwk ${JSON.stringify(jwk)?.slice(0, 24)}`, { header: { jwk } }]);
  const member = (m: Record<string, unknown>): Alteration => ({ header: { jwk: { ...key.jwk, ...m } } });
  for (const use of ['sig', 'enc', 5]) out.push([`use ${use}`, member({ use })]);
  for (const ops of [['verify'], ['sign'], [], ['verify', 'verify'], 'verify', ['verify', 'sign'], [1], ['foo']]) out.push([`key_ops ${JSON.stringify(ops)}`, member({ key_ops: ops })]);
  for (const ext of [true, false, 'yes']) out.push([`ext ${String(ext)}`, member({ ext })]);
  for (const alg of [key.algs[0], 'RS256', 'EdDSA', 'Ed25519', 5]) out.push([`jwk alg ${String(alg)}`, member({ alg })]);
  out.push(['jwk kid, x5c, extra', member({ kid: 'k', x5c: ['AAAA'], extra: { a: 1 } })]);
  for (const kty of ['EC', 'RSA', 'OKP', 'oct', 5]) if (kty !== key.jwk.kty) out.push([`kty ${kty}`, member({ kty })]);
  for (const crv of ['P-256', 'P-384', 'P-521', 'secp256k1', 'Ed25519', 'Ed448', 'X25519', 5, undefined]) if (crv !== key.jwk.crv) out.push([`crv ${String(crv)}`, member({ crv })]);
  for (const name of ['x', 'y', 'n', 'e'] as const) {
    const value = key.jwk[name];
    if (value === undefined) continue;
    const bytes = Buffer.from(value, 'base64url');
    const flipped = Buffer.from(bytes);
    flipped[3] = flipped[3]! ^ 1;
    const variants: Record<string, unknown> = { empty: '', short: 'AAAA', padded: `${value}=`, standard: bytes.toString('base64'), zero: Buffer.alloc(bytes.length).toString('base64url'), longer: `${value}AA`, flipped: flipped.toString('base64url'), number: 5, missing: undefined, delete: `${value}\x7f` };
    for (const [variant, v] of Object.entries(variants)) out.push([`${name} ${variant}`, member({ [name]: v })]);
  }
  const crits: Record<string, unknown> = { b64: ['b64'], foo: ['foo'], empty: [], string: 'b64', emptyName: [''], number: [1], twice: ['b64', 'b64'], 'b64 foo': ['b64', 'foo'], 'foo b64': ['foo', 'b64'] };
  for (const [name, crit] of Object.entries(crits)) for (const b64v of [undefined, true, false, 'no']) out.push([`crit ${name}, b64 ${String(b64v)}`, { header: { crit, b64: b64v } }]);
  out.push(['b64 false without crit', { header: { b64: false } }]);
  const t = now();
  const payloads: Record<string, string | Buffer> = {
    null: 'null',
    array: '[]',
    number: '5',
    string: '"s"',
    truncated: '{"htm":',
    empty: '',
    bom: `\ufeff{"jti":"a","htm":"GET","htu":"${HTU}","iat":${t},"ath":"${ATH}"}`,
    'not UTF-8': Buffer.concat([Buffer.from('{"jti":"'), Buffer.from([0xff, 0xfe]), Buffer.from(`","htm":"GET","htu":"${HTU}","iat":${t},"ath":"${ATH}"}`)]),
    'iat 1e400': `{"jti":"a","htm":"GET","htu":"${HTU}","iat":1e400,"ath":"${ATH}"}`,
    __proto__: `{"__proto__":{"iat":"x"},"jti":"a","htm":"GET","htu":"${HTU}","iat":${t},"ath":"${ATH}"}`,
  };
  for (const [name, payload] of Object.entries(payloads)) out.push([`payload ${name}`, { payload }]);
  const claims: Record<string, Record<string, unknown>> = {
    'exp passed': { exp: t - 10 },
    'exp now': { exp: t },
    'exp ahead': { exp: t + 100 },
    'exp a string': { exp: 'x' },
    'nbf ahead': { nbf: t + 100 },
    'nbf passed': { nbf: t - 10 },
    'nbf a string': { nbf: '1' },
    'iat a string': { iat: '1' },
    'iat null': { iat: null },
    'iat a fraction': { iat: t + 0.5 },
    'iat missing': { iat: undefined },
    'iat a string, exp passed': { iat: '1', exp: t - 10 },
    'exp passed, nbf ahead': { exp: t - 10, nbf: t + 100 },
    'jti missing': { jti: undefined },
    'jti empty': { jti: '' },
    'jti 257': { jti: 'j'.repeat(257) },
    'htm POST': { htm: 'POST' },
    'htu other': { htu: 'https://other.example/api' },
    'ath other': { ath: 'x' },
    'nonce 5': { nonce: 5 },
  };
  for (const [name, c] of Object.entries(claims)) out.push([`claims ${name}`, { claims: c }]);
  const signatures: Record<string, string | ((s: string) => string)> = {
    empty: '',
    'one character': 'A',
    'five characters': 'AAAAA',
    flipped: (s) => {
      const bytes = Buffer.from(s, 'base64url');
      bytes[5] = bytes[5]! ^ 1;
      return bytes.toString('base64url');
    },
    'one more character': (s) => `${s}A`,
    'one character less': (s) => s.slice(0, -1),
    doubled: (s) => s + s,
  };
  for (const [name, signature] of Object.entries(signatures)) out.push([`signature ${name}`, { signature }]);
  out.push(['typ JWT and a bad signature', { header: { typ: 'JWT' }, signature: 'AAAA' }]);
  out.push(['typ JWT and payload null', { header: { typ: 'JWT' }, payload: 'null' }]);
  out.push(['alg ES384 and a five-character signature', { header: { alg: 'ES384' }, signature: 'AAAAA' }]);
  out.push(['crit foo and use enc', { header: { crit: ['foo'], jwk: { ...key.jwk, use: 'enc' } } }]);
  out.push(['b64 false and a bad signature', { header: { crit: ['b64'], b64: false }, signature: 'AAAA' }]);
  out.push(['header not UTF-8', { rawHeader: Buffer.concat([Buffer.from(`{"typ":"dpop+jwt","alg":"${key.algs[0]}","x":"`), Buffer.from([0xff]), Buffer.from(`","jwk":${JSON.stringify(key.jwk)}}`)]) }]);
  out.push(['header an array', { rawHeader: '[1]' }]);
  return out;
}

describe('DPoP proof verification (verifyProof)', () => {
  it('verifies proofs jose signs, for every algorithm, with jose\'s thumbprint as jkt', async () => {
    for (const alg of DPOP_ALGORITHMS) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const jwk = await exportJWK(publicKey);
      const proof = await new SignJWT({ jti: `jti-${alg}`, htm: 'GET', htu: HTU, iat: now(), ath: ATH }).setProtectedHeader({ typ: 'dpop+jwt', alg, jwk }).sign(privateKey);
      const verified = await verifyProof(proof, EXPECT, new ProofKeyCache(4));
      assert.equal(verified.jkt, await calculateJwkThumbprint(jwk, 'sha256'), alg);
      assert.equal(verified.alg, alg);
      assert.equal(verified.jti, `jti-${alg}`);
      assert.deepEqual(verified.jwk, jwk);
    }
  });

  it('refuses a jwk that does not fit alg (kty or curve) as dpop_jwk_invalid, never as malformed', async () => {
    const [p256, p384, p521, ed25519, rsa] = KEYS;
    const cases: Array<[TestKey, string]> = [
      [p256!, 'ES384'],
      [p256!, 'ES512'],
      [p384!, 'ES256'],
      [p521!, 'ES384'],
      [p256!, 'RS256'],
      [p256!, 'PS256'],
      [p256!, 'EdDSA'],
      [p256!, 'Ed25519'],
      [ed25519!, 'ES256'],
      [rsa!, 'ES256'],
      [rsa!, 'EdDSA'],
      [KEYS[6]!, 'ES256'], // secp256k1
      [KEYS[7]!, 'EdDSA'], // Ed448
    ];
    for (const [key, alg] of cases) {
      assert.equal(await outcome(verifyProof(proofBy(key, { header: { alg } }), EXPECT, new ProofKeyCache(4))), 'dpop_jwk_invalid', `${key.name} under ${alg}`);
    }
    // Also when the route does not allow it: the allow-list comes first.
    assert.equal(await outcome(verifyProof(proofBy(p256!, { header: { alg: 'ES384' } }), { ...EXPECT, algorithms: ['ES256'] })), 'dpop_alg_not_allowed');
  });

  it('refuses an RSA key under 2048 bits, and a jwk that does not import, as dpop_jwk_invalid', async () => {
    assert.equal(await outcome(verifyProof(proofBy(KEYS[5]!), EXPECT, new ProofKeyCache(4))), 'dpop_jwk_invalid');
    assert.equal(await outcome(verifyProof(proofBy(KEYS[0]!, { header: { jwk: { ...KEYS[0]!.jwk, y: 'AAAA' } } }), EXPECT, new ProofKeyCache(4))), 'dpop_jwk_invalid');
  });

  it('keeps what jose refused: crit, b64 false, exp passed, nbf ahead, a payload that is not a JSON object', async () => {
    const key = KEYS[0]!;
    const t = now();
    const cases: Array<[Alteration, string]> = [
      [{ header: { crit: ['foo'] } }, 'dpop_jwk_invalid'], // jose's JOSENotSupported
      [{ header: { crit: 'b64', b64: true } }, 'dpop_proof_malformed'],
      [{ header: { crit: ['b64'] } }, 'dpop_proof_malformed'],
      [{ header: { crit: ['b64'], b64: false } }, 'dpop_proof_malformed'],
      [{ header: { crit: ['b64'], b64: false }, signature: 'AAAA' }, 'dpop_signature_invalid'],
      [{ claims: { exp: t - 1 } }, 'dpop_proof_malformed'], // jose's JWTExpired
      [{ claims: { exp: 'soon' } }, 'dpop_claim_invalid'],
      [{ claims: { nbf: t + 60 } }, 'dpop_claim_invalid'],
      [{ payload: 'null' }, 'dpop_proof_malformed'],
      [{ payload: Buffer.from([0x7b, 0xff, 0x7d]) }, 'dpop_proof_malformed'],
      [{ signature: 'AAAAA' }, 'dpop_proof_malformed'],
    ];
    for (const [change, reason] of cases) assert.equal(await outcome(verifyProof(proofBy(key, change), EXPECT)), reason, JSON.stringify(change));
    // What jose accepted stays accepted.
    for (const change of [{ header: { crit: ['b64'], b64: true } }, { header: { b64: false } }, { claims: { exp: t + 60, nbf: t } }, { header: { typ: 'APPLICATION/DPOP+JWT' } }]) {
      assert.match(await outcome(verifyProof(proofBy(key, change), EXPECT)), /^ok /, JSON.stringify(change));
    }
  });

  it('keeps one imported key per thumbprint in the cache it is given, within its bound', async () => {
    const cache = new ProofKeyCache(2);
    const [a, b, c] = KEYS;
    const first = await verifyProof(proofBy(a!), EXPECT, cache);
    assert.equal(cache.size, 1);
    assert.ok(cache.has(first.jkt));
    await verifyProof(proofBy(a!), EXPECT, cache);
    assert.equal(cache.size, 1, 'the same key again: a hit');
    // A refused proof with a cached key is still refused (the cache holds key material only).
    assert.equal(await outcome(verifyProof(proofBy(a!, { header: { jwk: { ...a!.jwk, use: 'enc' } } }), EXPECT, cache)), 'dpop_jwk_invalid');
    assert.equal(await outcome(verifyProof(proofBy(a!, { header: { alg: 'ES384' } }), EXPECT, cache)), 'dpop_jwk_invalid');
    assert.equal(await outcome(verifyProof(proofBy(a!, { signature: (s) => s.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')) }), EXPECT, cache)), 'dpop_signature_invalid');
    const second = await verifyProof(proofBy(b!), EXPECT, cache);
    const third = await verifyProof(proofBy(c!), EXPECT, cache);
    assert.equal(cache.size, 2);
    assert.deepEqual([cache.has(first.jkt), cache.has(second.jkt), cache.has(third.jkt)], [false, true, true]);
    assert.match(await outcome(verifyProof(proofBy(a!), EXPECT, cache)), /^ok /, 'an evicted key is imported again');
  });

  it('keeps every check of the jwk when its key is already cached', async () => {
    const cache = new ProofKeyCache(4);
    const key = KEYS[0]!;
    await verifyProof(proofBy(key), EXPECT, cache);
    for (const [change, reason] of [
      [{ header: { jwk: { ...key.jwk, key_ops: ['sign'] } } }, 'dpop_jwk_invalid'],
      [{ header: { jwk: { ...key.jwk, alg: 'ES384' } } }, 'dpop_jwk_invalid'],
      [{ header: { jwk: { ...key.jwk, ext: 'yes' } } }, 'dpop_jwk_invalid'],
      [{ header: { jwk: { ...key.jwk, d: 'AAAA' } } }, 'dpop_jwk_invalid'],
      [{ header: { jwk: { ...key.jwk, crv: 'P-384' } } }, 'dpop_jwk_invalid'],
      [{ header: { typ: 'JWT' } }, 'dpop_typ_invalid'],
      [{ header: { crit: ['exp'] } }, 'dpop_jwk_invalid'],
    ] as Array<[Alteration, string]>) {
      assert.equal(await outcome(verifyProof(proofBy(key, change), EXPECT, cache)), reason, JSON.stringify(change));
    }
    // The cached key's jwk, signed by another key: the signature does not verify.
    assert.equal(await outcome(verifyProof(proofBy({ ...KEYS[1]!, jwk: key.jwk, algs: key.algs }), EXPECT, cache)), 'dpop_signature_invalid');
    assert.equal(cache.size, 1);
  });

  it('answers as jose jwtVerify with EmbeddedJWK did, for every altered proof (except unusable jwks: dpop_jwk_invalid)', async () => {
    let compared = 0;
    let intended = 0;
    const differences: string[] = [];
    for (const key of KEYS) {
      // One cache for all of a key's proofs: its key is known when most of them come (hits).
      const cache = new ProofKeyCache(8);
      for (const [name, change] of alterations(key)) {
        const proof = proofBy(key, change);
        const reference = await outcome(joseReference(proof, EXPECT));
        const actual = await outcome(verifyProof(proof, EXPECT, cache));
        const fresh = await outcome(verifyProof(proof, EXPECT, new ProofKeyCache(1)));
        compared++;
        if (fresh !== actual) differences.push(`${key.name} ${name}: ${actual} with the key cached, ${fresh} without`);
        if (reference === actual) continue;
        // The one intended change: a jwk WebCrypto could not import for the alg (keys no proof
        // algorithm takes, a curve or kty that does not fit, altered key material, key_ops) fell
        // through jose's error mapping as malformed; an RSA jwk with an empty e has no thumbprint.
        const unusableJwk = ['RSA-1024', 'secp256k1', 'Ed448'].includes(key.name) || /^(alg [A-Z]|key_ops |crv |[xyne] )/.test(name);
        if (unusableJwk && actual === 'dpop_jwk_invalid' && (reference === 'dpop_proof_malformed' || (key.name === 'RSA-2048' && /^e (empty|number)$/.test(name)))) {
          intended++;
          continue;
        }
        differences.push(`${key.name} ${name}: jose ${reference}, now ${actual}`);
      }
    }
    assert.deepEqual(differences, []);
    assert.ok(compared > 900, `${compared} proofs compared`);
    assert.ok(intended > 0 && intended < compared / 2, `${intended} intended differences`);
  });
});
