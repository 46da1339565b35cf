import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { HmacSecret, IssuerKey, JwsRefused } from './jwks.js';

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
      const verify = new IssuerKey(jwk).verifierFor(alg);
      assert.deepEqual(verify(token), { sub: 'alice' });
      const [h, , sig] = token.split('.');
      const forged = `${h}.${Buffer.from('{"sub":"mallory"}').toString('base64url')}.${sig}`;
      assert.throws(() => verify(forged), new JwsRefused('signature_invalid'));
      const truncated = `${h}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.${sig!.slice(0, -4)}`;
      assert.throws(() => verify(truncated), new JwsRefused('signature_invalid'));
    });
  }

  it('the verifier is built once per algorithm', async () => {
    const key = new IssuerKey((await keyPair('rsa')).jwk);
    assert.equal(key.verifierFor('RS256'), key.verifierFor('RS256'));
    assert.notEqual(key.verifierFor('RS256'), key.verifierFor('PS256'));
  });

  it('refuses an RSA key under 2048 bits (RFC 7518 §3.3)', async () => {
    const key = new IssuerKey((await keyPair('rsa', 1024)).jwk);
    assert.throws(() => key.verifierFor('RS256'), /1024 bits/);
  });

  it("a verifier for one algorithm refuses another algorithm's signature by the same key", async () => {
    const { privateKey, jwk } = await keyPair('rsa');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'PS256' }).sign(privateKey);
    assert.deepEqual(new IssuerKey(jwk).verifierFor('PS256')(token), {});
    assert.throws(() => new IssuerKey(jwk).verifierFor('RS256')(token), new JwsRefused('signature_invalid'));
    assert.throws(() => new IssuerKey(jwk).verifierFor('RS512')(token), new JwsRefused('signature_invalid'));
  });

  it('a verified payload that is not JSON is payload_malformed, after the signature', async () => {
    const { privateKey, jwk } = await keyPair('ec');
    const { CompactSign } = await import('jose');
    const token = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    assert.throws(() => new IssuerKey(jwk).verifierFor('ES256')(token), new JwsRefused('payload_malformed'));
  });

  it('an HMAC secret verifies HS256 with its own bytes only', async () => {
    const token = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from('s3cret-s3cret-s3cret-s3cret-s3cr'));
    assert.deepEqual(new HmacSecret('s3cret-s3cret-s3cret-s3cret-s3cr').verifierFor('HS256')(token), { a: 1 });
    const other = new HmacSecret('another-secret-another-secret-12').verifierFor('HS256');
    assert.throws(() => other(token), new JwsRefused('signature_invalid'));
    assert.throws(() => new HmacSecret('s3cret-s3cret-s3cret-s3cret-s3cr').verifierFor('HS512')(token), new JwsRefused('signature_invalid'));
  });
});
