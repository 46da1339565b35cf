/**
 * Kong's entity check of jwt_secrets (kong/plugins/jwt/daos.lua), made a little stricter so that a
 * credential that could never verify a token is refused when the file loads instead of answering
 * 401 on every request: the key an asymmetric algorithm needs must be there, be a public key in
 * PEM, and fit the algorithm (RFC 8725 §3.1); an HS* credential in a file needs its secret.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { algorithmFitsKey, MIN_RSA_BITS } from '../../util/jws-algorithms.js';
import type { CredentialDraft } from '../collect.js';
import { JWT_ALGORITHMS } from '../types.js';
import type { ErrorList } from '../errors.js';
import { joinPath } from '../paths.js';

/** Whether `algorithm` is an HMAC one (verified with `secret`, not `rsa_public_key`). */
export function isHmacAlgorithm(algorithm: string): boolean {
  return algorithm.startsWith('HS');
}

/** The public key of a PEM (a private key's public half, as Kong's openssl_pkey.new accepts one), or null. */
export function publicKeyOf(pem: string): KeyObject | null {
  try {
    return createPublicKey(pem);
  } catch {
    return null;
  }
}

/** What is wrong with `key` for `algorithm`, or null. */
export function keyProblem(algorithm: string, key: KeyObject): string | null {
  const jwk = key.export({ format: 'jwk' });
  if (!algorithmFitsKey(algorithm, jwk.kty, jwk.crv)) {
    const what = jwk.crv === undefined ? String(jwk.kty) : `${String(jwk.kty)} ${jwk.crv}`;
    return `a ${what} key cannot verify ${algorithm} signatures`;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < MIN_RSA_BITS) return `an RSA key of ${bits} bits is too small (at least ${MIN_RSA_BITS}, RFC 7518 §3.3)`;
  return null;
}

/** Adds the errors of one jwt_secrets entry (its schema already checked). */
export function checkJwtSecret(credential: CredentialDraft, errors: ErrorList): void {
  const raw = credential.raw;
  const algorithm = typeof raw.algorithm === 'string' ? raw.algorithm : 'HS256';
  // An algorithm Kong does not know is the schema's error already.
  if (!(JWT_ALGORITHMS as readonly string[]).includes(algorithm)) return;
  if (isHmacAlgorithm(algorithm)) {
    // Kong would generate a random secret that nobody can sign with.
    if (raw.secret === undefined) errors.add(joinPath(credential.path, 'secret'), `required for ${algorithm}`);
    return;
  }
  const path = joinPath(credential.path, 'rsa_public_key');
  const pem = raw.rsa_public_key;
  if (typeof pem !== 'string') {
    if (pem === undefined) errors.add(path, `required for ${algorithm}`);
    return;
  }
  const key = publicKeyOf(pem);
  if (key === null) return errors.add(path, 'invalid key');
  const problem = keyProblem(algorithm, key);
  if (problem !== null) errors.add(path, problem);
}
