/**
 * One DPoP proof checked as RFC 9449 §4.3 asks, with jose doing the JOSE: a compact JWS of
 * `typ: dpop+jwt`, an asymmetric `alg` from the allow-list, a public `jwk` that verifies the
 * signature; `jti`, `htm`, `htu`, `iat` (and `ath` when a token is presented) of the right types;
 * `htm` equal to the method, `htu` equal to the request URI after normalisation, `ath` equal to
 * the token's hash. Time, nonce, binding and replay are the caller's (they depend on its settings).
 * Every failure is a `ProofError` with a stable reason; nothing here throws anything else.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors, jwtVerify, type JWK } from 'jose';
import { normaliseHtu } from './htu.js';
import { privateJwkMember } from '../util/jwk-private-members.js';

/**
 * Asymmetric JWS algorithms a proof may use: Kong's list (RFC 7518 RSA, RSA-PSS, ECDSA, EdDSA),
 * plus the fully specified `Ed25519` (RFC 9864) that current clients send. Never `none`, never HS*.
 */
export const DPOP_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/** Longest proof read, in characters: an RSA-4096 proof is about 1.5 KiB. */
export const MAX_PROOF_LENGTH = 8192;
/** Longest `jti` accepted (RFC 9449 §11.1: refuse unnecessarily large ones). */
export const MAX_JTI_LENGTH = 256;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export type ProofFailure =
  | 'dpop_proof_malformed'
  | 'dpop_typ_invalid'
  | 'dpop_alg_not_allowed'
  | 'dpop_jwk_invalid'
  | 'dpop_signature_invalid'
  | 'dpop_claim_invalid'
  | 'dpop_jti_invalid'
  | 'dpop_htm_mismatch'
  | 'dpop_htu_mismatch'
  | 'dpop_ath_mismatch';

export class ProofError extends Error {
  readonly reason: ProofFailure;
  constructor(reason: ProofFailure, detail: string) {
    super(detail);
    this.name = 'ProofError';
    this.reason = reason;
  }
}

export interface ProofExpectations {
  /** The request method (compared exactly: methods are case-sensitive). */
  readonly method: string;
  /** The request URI, already normalised (`requestHtu`); null when the request has none (never matches). */
  readonly htu: string | null;
  /** The access token presented with the proof; null for a proof without a token (token requests). */
  readonly accessToken: string | null;
  readonly algorithms: readonly string[];
}

/** What a verified proof says. */
export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key. */
  readonly jkt: string;
  readonly jti: string;
  /** Seconds; any JSON number (fractions allowed, as oidc-provider). */
  readonly iat: number;
  readonly nonce: string | undefined;
  readonly alg: string;
  readonly jwk: JWK;
}

/** base64url(SHA-256(token)), the `ath` of RFC 9449 §4.2. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

export async function verifyProof(proof: string, expected: ProofExpectations): Promise<VerifiedProof> {
  if (!COMPACT_JWS.test(proof)) throw new ProofError('dpop_proof_malformed', 'not a compact JWS');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new ProofError('dpop_proof_malformed', 'the protected header is not a JSON object');
  }
  if (typeof header.typ !== 'string') throw new ProofError('dpop_typ_invalid', 'typ is missing');
  if (typeof header.alg !== 'string') throw new ProofError('dpop_alg_not_allowed', 'alg is missing');
  if (!expected.algorithms.includes(header.alg)) throw new ProofError('dpop_alg_not_allowed', `alg ${header.alg.slice(0, 16)} is not allowed`);
  const jwk = header.jwk as unknown;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new ProofError('dpop_jwk_invalid', 'jwk is missing or not an object');
  const privateMember = privateJwkMember(jwk);
  if (privateMember !== undefined) throw new ProofError('dpop_jwk_invalid', `jwk has the private member ${privateMember}`);

  let payload: Record<string, unknown>;
  try {
    // `typ` compared as jose does (case-insensitive, `application/` optional), like Kong's lower-casing.
    // The cast only drops `readonly`: jose reads the list and never keeps or changes it (no copy per request).
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: expected.algorithms as string[] }));
  } catch (error) {
    throw joseFailure(error);
  }

  const { jti, htm, htu, iat, ath, nonce } = payload;
  const missing = [typeof jti !== 'string' && 'jti', typeof htm !== 'string' && 'htm', typeof htu !== 'string' && 'htu', !finiteNumber(iat) && 'iat'].filter((m) => m !== false);
  if (expected.accessToken !== null && typeof ath !== 'string') missing.push('ath');
  if (missing.length > 0) throw new ProofError('dpop_claim_invalid', `${missing.join(', ')} missing or of the wrong type`);
  if (nonce !== undefined && typeof nonce !== 'string') throw new ProofError('dpop_claim_invalid', 'nonce is not a string');
  const jtiText = jti as string;
  if (jtiText.length === 0 || jtiText.length > MAX_JTI_LENGTH) throw new ProofError('dpop_jti_invalid', `jti has ${jtiText.length} characters (1 to ${MAX_JTI_LENGTH} accepted)`);
  if (htm !== expected.method) throw new ProofError('dpop_htm_mismatch', 'htm is not the request method');
  const proofHtu = normaliseHtu(htu as string);
  if (proofHtu === null || expected.htu === null || proofHtu !== expected.htu) throw new ProofError('dpop_htu_mismatch', 'htu is not the request URI');
  if (expected.accessToken !== null && ath !== accessTokenHash(expected.accessToken)) throw new ProofError('dpop_ath_mismatch', 'ath is not the hash of the access token');

  let jkt: string;
  try {
    jkt = await calculateJwkThumbprint(jwk, 'sha256');
  } catch {
    throw new ProofError('dpop_jwk_invalid', 'jwk has no thumbprint');
  }
  return { jkt, jti: jtiText, iat: iat as number, nonce: nonce, alg: header.alg, jwk: jwk };
}

function finiteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** jose's errors as reasons; anything unforeseen counts as a malformed proof (a 401, never a 500). */
function joseFailure(error: unknown): ProofError {
  if (error instanceof errors.JWSSignatureVerificationFailed) return new ProofError('dpop_signature_invalid', 'the signature does not verify with the embedded jwk');
  if (error instanceof errors.JOSEAlgNotAllowed) return new ProofError('dpop_alg_not_allowed', 'alg is not allowed');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'typ') return new ProofError('dpop_typ_invalid', 'typ is not dpop+jwt');
    return new ProofError('dpop_claim_invalid', `${error.claim} failed validation (${error.reason})`);
  }
  if (error instanceof errors.JWSInvalid && /jwk|JWK/.test(error.message)) return new ProofError('dpop_jwk_invalid', 'jwk is not a usable public key for alg');
  if (error instanceof errors.JOSENotSupported) return new ProofError('dpop_jwk_invalid', 'jwk or alg is not supported');
  if (error instanceof errors.JWKInvalid) return new ProofError('dpop_jwk_invalid', 'jwk is invalid');
  return new ProofError('dpop_proof_malformed', error instanceof Error ? error.message.slice(0, 120) : 'not a valid JWS');
}
