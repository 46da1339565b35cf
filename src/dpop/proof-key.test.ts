// The DPoP proof key: RFC 7638 thumbprints computed synchronously (checked against jose), the
// bounded key cache (bound, least-recently-used eviction, failures not kept), and node:crypto
// signature checks for every JWS algorithm a proof may use (signatures made by jose).
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, KeyObject, sign, verify, type JsonWebKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { DPOP_ALGORITHMS } from './proof.js';
import { importProofKey, jwkThumbprint, PROOF_KEY_CACHE_SIZE, ProofKeyCache, ProofKeyUnusable, thumbprintMembers } from './proof-key.js';
import { verifySignature } from '../util/jws-algorithms.js';

const thumbprintOf = (jwk: JsonWebKey | JWK): string | undefined => {
  const members = thumbprintMembers(jwk);
  return members === undefined ? undefined : jwkThumbprint(members);
};

const publicJwks = (): Array<[string, JsonWebKey]> => [
  ['EC P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })],
  ['EC P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' })],
  ['EC P-521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({ format: 'jwk' })],
  ['OKP Ed25519', generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' })],
  ['RSA 2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' })],
  ['RSA 4096', generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey.export({ format: 'jwk' })],
];

describe('DPoP proof key: RFC 7638 thumbprint', () => {
  it('equals jose calculateJwkThumbprint for EC P-256, P-384, P-521, OKP Ed25519 and RSA keys', async () => {
    for (const [name, jwk] of publicJwks()) {
      assert.equal(thumbprintOf(jwk), await calculateJwkThumbprint(jwk as JWK, 'sha256'), name);
      // Members outside RFC 7638 §3.2 do not count, for jose neither.
      const decorated = { ...jwk, kid: 'k1', alg: 'ES256', use: 'sig', key_ops: ['verify'], ext: true };
      assert.equal(thumbprintOf(decorated), await calculateJwkThumbprint(decorated as JWK, 'sha256'), `${name} with kid, alg, use, key_ops, ext`);
    }
  });

  it('gives the RFC 7638 §3.1 example value', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    assert.equal(thumbprintOf({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: '2011-04-29' }), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('is undefined where jose refuses: a required member missing, empty or not a string, an unknown kty, non-ASCII', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    const cases: Array<Record<string, unknown>> = [
      { ...ec, y: undefined },
      { ...ec, x: '' },
      { ...ec, crv: 5 },
      { kty: 'RSA', n: 'AQAB' },
      { kty: 'OKP', x: 'AAAA' },
      { kty: 'oct', k: 'AAAA' },
      { kty: 'EC2', crv: 'P-256', x: 'AAAA', y: 'AAAA' },
      { ...ec, x: `${String(ec['x'])}é` },
    ];
    for (const jwk of cases) {
      assert.equal(thumbprintOf(jwk), undefined, JSON.stringify(jwk));
      if (jwk['kty'] === 'oct') continue; // jose has oct thumbprints; a proof key is never oct
      await assert.rejects(calculateJwkThumbprint(jwk, 'sha256'), JSON.stringify(jwk));
    }
  });
});

describe('DPoP proof key: the cache', () => {
  const ecMembers = (): Record<string, string> => thumbprintMembers(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }))!;
  const entry = (): [string, Record<string, string>] => {
    const members = ecMembers();
    return [jwkThumbprint(members)!, members];
  };

  it('has a documented default bound', () => {
    assert.equal(new ProofKeyCache().capacity, PROOF_KEY_CACHE_SIZE);
    assert.ok(PROOF_KEY_CACHE_SIZE >= 1000 && PROOF_KEY_CACHE_SIZE <= 10_000);
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new ProofKeyCache(bad), RangeError);
  });

  it('imports a key once and answers the same KeyObject for the same thumbprint', () => {
    const cache = new ProofKeyCache(4);
    const [jkt, members] = entry();
    const first = cache.get(jkt, members);
    assert.ok(first instanceof KeyObject && first.type === 'public');
    assert.equal(cache.get(jkt, members), first);
    assert.equal(cache.size, 1);
  });

  it('never holds more than its capacity and drops the least recently used key first', () => {
    const cache = new ProofKeyCache(3);
    const [a, b, c, d, e] = [entry(), entry(), entry(), entry(), entry()];
    for (const [jkt, members] of [a, b, c]) cache.get(jkt, members);
    assert.equal(cache.size, 3);
    const keptA = cache.get(a[0], a[1]); // a is now the most recently used: b is the oldest
    cache.get(d[0], d[1]);
    assert.equal(cache.size, 3);
    assert.deepEqual([cache.has(a[0]), cache.has(b[0]), cache.has(c[0]), cache.has(d[0])], [true, false, true, true]);
    assert.equal(cache.get(a[0], a[1]), keptA, 'a was not imported again');
    cache.get(e[0], e[1]); // c is the oldest now
    assert.deepEqual([cache.has(c[0]), cache.has(d[0]), cache.has(e[0])], [false, true, true]);
    // A dropped key comes back on its next proof (imported again).
    const again = cache.get(b[0], b[1]);
    assert.ok(again instanceof KeyObject);
    assert.equal(cache.size, 3);
  });

  it('keeps under its bound through many distinct keys', () => {
    const cache = new ProofKeyCache(16);
    for (let i = 0; i < 100; i++) {
      const [jkt, members] = entry();
      cache.get(jkt, members);
      assert.ok(cache.size <= 16);
    }
    assert.equal(cache.size, 16);
  });

  it('does not keep keys that fail to import, nor RSA keys under 2048 bits', () => {
    const cache = new ProofKeyCache(4);
    const bad = { crv: 'P-256', kty: 'EC', x: 'AAAA', y: 'AAAA' };
    assert.throws(() => cache.get(jwkThumbprint(bad)!, bad), ProofKeyUnusable);
    const small = thumbprintMembers(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }))!;
    assert.throws(() => cache.get(jwkThumbprint(small)!, small), (error: unknown) => error instanceof ProofKeyUnusable && /1024 bits/.test(error.message));
    assert.equal(cache.size, 0);
  });

  it('imports from the thumbprint members only (a P-256 curve name with P-384 coordinates does not import)', () => {
    const p384 = thumbprintMembers(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }))!;
    assert.throws(() => importProofKey({ ...p384, crv: 'P-256' }), ProofKeyUnusable);
  });
});

describe('DPoP proof key: signatures with node:crypto', () => {
  it('verifies jose signatures for every proof algorithm, and refuses a changed input, a changed signature, a wrong size', async () => {
    for (const alg of DPOP_ALGORITHMS) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const members = thumbprintMembers((await exportJWK(publicKey)))!;
      const key = importProofKey(members);
      const jws = await new CompactSign(new TextEncoder().encode('{"jti":"x"}')).setProtectedHeader({ alg }).sign(privateKey);
      const dot = jws.lastIndexOf('.');
      const input = Buffer.from(jws.slice(0, dot));
      const signature = Buffer.from(jws.slice(dot + 1), 'base64url');
      assert.equal(verifySignature(alg, key, input, signature), true, alg);
      assert.equal(verifySignature(alg, key, Buffer.concat([input, Buffer.from('x')]), signature), false, `${alg} other input`);
      const flipped = Buffer.from(signature);
      flipped[7] = flipped[7]! ^ 0x01;
      assert.equal(verifySignature(alg, key, input, flipped), false, `${alg} flipped`);
      assert.equal(verifySignature(alg, key, input, signature.subarray(1)), false, `${alg} short`);
      assert.equal(verifySignature(alg, key, input, new Uint8Array(0)), false, `${alg} empty`);
    }
  });

  it('refuses an RSA signature shorter than the modulus (a leading zero byte dropped), which OpenSSL takes for PSS', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = importProofKey(thumbprintMembers(publicKey.export({ format: 'jwk' }))!);
    for (const [alg, options] of [
      ['RS256', { key: privateKey }],
      ['PS256', { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }],
    ] as const) {
      // About one signature in 256 starts with a zero byte: sign until one does.
      let input = Buffer.alloc(0);
      let signature = Buffer.alloc(0);
      for (let n = 0; signature[0] !== 0; n++) {
        input = Buffer.from(`eyJhbGciOiJSUzI1NiJ9.${n}`);
        signature = sign('sha256', input, options);
      }
      assert.equal(verifySignature(alg, key, input, signature), true, alg);
      // OpenSSL's PKCS#1 v1.5 check refuses the short one itself; its PSS check takes it.
      const openssl = verify('sha256', input, options.padding === undefined ? publicKey : { ...options, key: publicKey }, signature.subarray(1));
      assert.equal(openssl, alg === 'PS256', `${alg}: what OpenSSL says of the short one`);
      assert.equal(verifySignature(alg, key, input, signature.subarray(1)), false, `${alg} without its leading zero`);
      assert.equal(verifySignature(alg, key, input, Buffer.concat([Buffer.alloc(1), signature])), false, `${alg} with one more zero`);
    }
  });

  it('refuses an algorithm it has no parameters for, and a key of another type without throwing', () => {
    const ec = importProofKey(thumbprintMembers(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }))!);
    assert.equal(verifySignature('HS256', ec, Buffer.from('a.b'), Buffer.alloc(32)), false);
    assert.equal(verifySignature('none', ec, Buffer.from('a.b'), Buffer.alloc(0)), false);
    assert.equal(verifySignature('RS256', ec, Buffer.from('a.b'), Buffer.alloc(256)), false);
  });
});
