/**
 * RFC 8705 §3 certificate binding: the token's `cnf["x5t#S256"]` (for introspection, the response's
 * top-level `cnf`, §3.2) must equal base64url(SHA-256(DER)) of this request's client certificate.
 * Runs on every request, cached token or not, because the certificate belongs to the connection.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ClientCertificate } from '../../connection/connection-info.js';
import { AuthFailure } from './responses.js';
import type { Claims } from './verify-jwt.js';

export type PopMode = 'off' | 'strict' | 'optional';

// 32 bytes of SHA-256 in unpadded base64url are exactly 43 characters.
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/** The `x5t#S256` confirmation of a claims set: a string, null when there is none, or an AuthFailure when `cnf` is malformed. */
export function boundThumbprint(claims: Claims): string | null {
  return confirmation(claims, 'x5t#S256', 'pop_claim_invalid');
}

/** The `jkt` confirmation (RFC 9449 §6): the SHA-256 thumbprint of the DPoP key, same rules. */
export function boundKeyThumbprint(claims: Claims): string | null {
  return confirmation(claims, 'jkt', 'dpop_binding_invalid');
}

function confirmation(claims: Claims, member: string, invalid: 'pop_claim_invalid' | 'dpop_binding_invalid'): string | null {
  const cnf = claims.cnf;
  if (cnf === undefined || cnf === null) return null;
  if (typeof cnf !== 'object' || Array.isArray(cnf)) throw new AuthFailure(invalid, 'cnf is not an object');
  if (!Object.hasOwn(cnf, member)) return null;
  const value = (cnf as Record<string, unknown>)[member];
  // Hex (WSO2's old docs) or padded/standard base64 never equals a real thumbprint: refuse, do not normalise.
  if (typeof value !== 'string' || !THUMBPRINT.test(value)) throw new AuthFailure(invalid, `${member} is not 43 base64url characters`);
  return value;
}

/**
 * Checks the binding. `bound` is the token's thumbprint (null: the token is not certificate-bound).
 * strict: a bound token and a matching certificate are required; optional: only bound tokens are checked.
 */
export function checkCertificateBinding(mode: PopMode, bound: string | null, certificate: ClientCertificate | null): void {
  if (mode === 'off') return;
  if (bound === null) {
    if (mode === 'strict') throw new AuthFailure('pop_claim_missing');
    return;
  }
  if (certificate === null) throw new AuthFailure('pop_certificate_missing');
  if (!sameThumbprint(bound, certificate.thumbprint)) throw new AuthFailure('pop_certificate_mismatch');
}

/** Constant-time comparison of two thumbprints (lengths are public: both are 43 when well-formed). */
export function sameThumbprint(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}
