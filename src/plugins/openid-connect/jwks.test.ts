import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { HmacSecret, IssuerKey } from './jwks.js';

async function keyPair(type: 'rsa' | 'ec' | 'ed25519', bits = 2048): Promise<{ privateKey: KeyObject; jwk: JWK }> {
  const pair =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits })
    : type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('ed25519');
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'k1' } };
}

describe('issuer key verifiers', () => {
  for (const [type, alg] of [['rsa', 'RS256'], ['rsa', 'PS256'], ['ec', 'ES256'], ['ed25519', 'EdDSA'], ['ed25519', 'Ed25519']] as const) {
    it(`${alg}: verifies a genuine signature and refuses a changed payload`, async () => {
      const { privateKey, jwk } = await keyPair(type);
      const token = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg }).sign(privateKey);
      const verify = await new IssuerKey(jwk).verifierFor(alg);
      assert.deepEqual(await verify(token), { sub: 'alice' });
      const [h, , sig] = token.split('.');
      const forged = `${h}.${Buffer.from('{"sub":"mallory"}').toString('base64url')}.${sig}`;
      await assert.rejects(Promise.resolve().then(() => verify(forged)));
    });
  }

  it('the verifier is built once per algorithm', async () => {
    const key = new IssuerKey((await keyPair('rsa')).jwk);
    assert.equal(await key.verifierFor('RS256'), await key.verifierFor('RS256'));
    assert.notEqual(await key.verifierFor('RS256'), await key.verifierFor('PS256'));
  });

  it('refuses an RSA key under 2048 bits (RFC 7518 §3.3)', async () => {
    const key = new IssuerKey((await keyPair('rsa', 1024)).jwk);
    await assert.rejects(key.verifierFor('RS256'), /1024 bits/);
  });

  it('a verifier for one algorithm refuses a token naming another', async () => {
    const { privateKey, jwk } = await keyPair('rsa');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'PS256' }).sign(privateKey);
    const verify = await new IssuerKey(jwk).verifierFor('RS256');
    assert.throws(() => verify(token), { code: 'FAST_JWT_INVALID_ALGORITHM' });
  });

  it('an HMAC secret verifies HS256 with its own bytes only', async () => {
    const token = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from('s3cret-s3cret-s3cret-s3cret-s3cr'));
    assert.deepEqual(await (await new HmacSecret('s3cret-s3cret-s3cret-s3cret-s3cr').verifierFor('HS256'))(token), { a: 1 });
    const other = await new HmacSecret('another-secret-another-secret-12').verifierFor('HS256');
    assert.throws(() => other(token), { code: 'FAST_JWT_INVALID_SIGNATURE' });
  });
});
