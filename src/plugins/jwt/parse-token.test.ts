import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerToken, cookieValue } from './find-token.js';
import { parseToken } from './parse-token.js';
import { maximumExpirationError, registeredClaimErrors } from './registered-claims.js';

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const token = (header: unknown, claims: unknown, signature = 'c2ln'): string => `${b64(header)}.${b64(claims)}.${signature}`;
const reason = (text: string): string | null => {
  const result = parseToken(text);
  return result.ok ? null : result.reason;
};

describe("jwt: Kong's token parsing", () => {
  it('reads the header, claims and signature of a well-formed token', () => {
    const result = parseToken(token({ alg: 'HS256', kid: 'k' }, { iss: 'a' }));
    assert.ok(result.ok);
    assert.equal(result.token.alg, 'HS256');
    assert.deepEqual(result.token.claims, { iss: 'a' });
    assert.equal(result.token.header.kid, 'k');
    assert.equal(result.token.signature.toString(), 'sig');
    assert.equal(result.token.signingInput, token({ alg: 'HS256', kid: 'k' }, { iss: 'a' }).split('.').slice(0, 2).join('.'));
  });

  it("gives Kong's reasons: invalid JSON, invalid alg, invalid claims, invalid signature", () => {
    assert.equal(reason('abc'), 'invalid JSON');
    assert.equal(reason('a.b'), 'invalid JSON');
    assert.equal(reason(`${b64('{not json')}.${b64({})}.x`), 'invalid JSON');
    assert.equal(reason(`${b64({ alg: 'HS256' })}.***.x`), 'invalid JSON');
    assert.equal(reason(token({ alg: 'none' }, {})), 'invalid alg');
    assert.equal(reason(token({ alg: 'hs256' }, {})), 'invalid alg');
    assert.equal(reason(token({ typ: 'JWT' }, {})), 'invalid alg');
    assert.equal(reason(token([1], {})), 'invalid alg');
    assert.equal(reason(token({ alg: 'HS256' }, 'null')), 'invalid claims');
    assert.equal(reason(token({ alg: 'HS256' }, [1, 2])), 'invalid claims');
    assert.equal(reason(token({ alg: 'HS256' }, {}, 'a+b')), 'invalid signature');
    assert.equal(reason(token({ alg: 'HS256' }, {}, 'sig.more')), 'invalid signature', 'a fourth segment belongs to the signature, as Kong tokenizes');
  });
});

describe('jwt: where tokens are found', () => {
  it('takes the first cookie of a name, unparsed, and a Bearer token anywhere in a header value', () => {
    assert.equal(cookieValue('a=1; session=tok; session=other', 'session'), 'tok');
    assert.equal(cookieValue('xsession=1', 'session'), undefined);
    assert.equal(cookieValue(undefined, 'session'), undefined);
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer   abc'), 'abc');
    assert.equal(bearerToken('Basic x, Bearer abc'), 'abc');
    assert.equal(bearerToken('Bearerabc'), undefined);
    assert.equal(bearerToken('Basic abc'), undefined);
  });
});

describe("jwt: Kong's registered claims", () => {
  const now = 1_000_000;
  it('checks exp and nbf when asked, each a number', () => {
    assert.equal(registeredClaimErrors({ exp: now + 1, nbf: now }, ['exp', 'nbf'], now), null);
    assert.deepEqual(registeredClaimErrors({ exp: now }, ['exp'], now), { exp: 'token expired' });
    assert.deepEqual(registeredClaimErrors({ nbf: now + 1 }, ['nbf'], now), { nbf: 'token not valid yet' });
    assert.deepEqual(registeredClaimErrors({ exp: '1' }, ['exp', 'exp'], now), { exp: 'must be a number' });
    assert.equal(registeredClaimErrors({ exp: now - 10 }, [], now), null, 'nothing asked, nothing checked');
  });
  it('limits the lifetime with maximum_expiration', () => {
    assert.equal(maximumExpirationError({ exp: now + 60 }, 60, now), null);
    assert.deepEqual(maximumExpirationError({ exp: now + 61 }, 60, now), { exp: 'exceeds maximum allowed expiration' });
    assert.deepEqual(maximumExpirationError({}, 60, now), { exp: 'exceeds maximum allowed expiration' });
    assert.equal(maximumExpirationError({}, 0, now), null);
  });
});
