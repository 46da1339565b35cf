import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, exportJWK, type JWK } from 'jose';
import { HmacSecret, IssuerKey } from './jwks.js';
import { AuthFailure } from './responses.js';
import { verifyJwtSignature } from './verify-jwt.js';

/** The token's claims if `key` verifies it with `alg` (as authenticate.ts calls it), else the AuthFailure. */
function verifyWith(key: IssuerKey | HmacSecret, alg: string, token: string): unknown {
  const header = { alg, kid: undefined, typ: undefined };
  return key instanceof IssuerKey ? verifyJwtSignature(token, header, [key], []) : verifyJwtSignature(token, header, [], [key]);
}

const refused = (reason: string, detail?: RegExp) => (error: unknown): boolean =>
  error instanceof AuthFailure && error.reason === reason && (detail === undefined || detail.test(error.message));

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
      const key = new IssuerKey(jwk);
      assert.deepEqual(verifyWith(key, alg, token), { sub: 'alice' });
      const [h, , sig] = token.split('.');
      const forged = `${h}.${Buffer.from('{"sub":"mallory"}').toString('base64url')}.${sig}`;
      assert.throws(() => verifyWith(key, alg, forged), refused('signature_invalid'));
      const truncated = `${h}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.${sig!.slice(0, -4)}`;
      assert.throws(() => verifyWith(key, alg, truncated), refused('signature_invalid'));
    });
  }

  it('imports the key once, when the JWKS is read: an unusable key gives the same reason every time', async () => {
    const key = new IssuerKey((await keyPair('rsa', 1024)).jwk);
    let first: unknown;
    try {
      key.verify('RS256', 'a.b', Buffer.alloc(128));
    } catch (error) {
      first = error;
    }
    assert.throws(() => key.verify('RS256', 'a.b', Buffer.alloc(128)), (error: unknown) => error === first);
  });

  it('a key node:crypto cannot import refuses as signature_invalid, never a 500', () => {
    const key = new IssuerKey({ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'broken' });
    assert.throws(() => verifyWith(key, 'ES256', 'e30.e30.AAAA'), refused('signature_invalid'));
  });

  it('refuses an RSA key under 2048 bits (RFC 7518 §3.3)', async () => {
    const key = new IssuerKey((await keyPair('rsa', 1024)).jwk);
    assert.throws(() => key.verify('RS256', 'a.b', Buffer.alloc(128)), /1024 bits/);
    assert.throws(() => verifyWith(key, 'RS256', 'e30.e30.AAAA'), refused('signature_invalid', /1024 bits/));
  });

  it("a key refuses another algorithm's signature by the same key", async () => {
    const { privateKey, jwk } = await keyPair('rsa');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'PS256' }).sign(privateKey);
    assert.deepEqual(verifyWith(new IssuerKey(jwk), 'PS256', token), {});
    assert.throws(() => verifyWith(new IssuerKey(jwk), 'RS256', token), refused('signature_invalid'));
    assert.throws(() => verifyWith(new IssuerKey(jwk), 'RS512', token), refused('signature_invalid'));
  });

  it('a verified payload that is not JSON is token_malformed, after the signature', async () => {
    const { privateKey, jwk } = await keyPair('ec');
    const { CompactSign } = await import('jose');
    const token = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    assert.throws(() => verifyWith(new IssuerKey(jwk), 'ES256', token), refused('token_malformed', /payload is not JSON/));
    const other = await keyPair('ec');
    assert.throws(() => verifyWith(new IssuerKey(other.jwk), 'ES256', token), refused('signature_invalid'), 'the signature is checked first');
  });

  it('an HMAC secret verifies HS256 with its own bytes only', async () => {
    const token = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from('s3cret-s3cret-s3cret-s3cret-s3cr'));
    assert.deepEqual(verifyWith(new HmacSecret('s3cret-s3cret-s3cret-s3cret-s3cr'), 'HS256', token), { a: 1 });
    const other = new HmacSecret('another-secret-another-secret-12');
    assert.throws(() => verifyWith(other, 'HS256', token), refused('signature_invalid'));
    assert.throws(() => verifyWith(new HmacSecret('s3cret-s3cret-s3cret-s3cret-s3cr'), 'HS512', token), refused('signature_invalid'));
  });
});
