/**
 * One DPoP proof checked as RFC 9449 §4.3 asks: a compact JWS of `typ: dpop+jwt`, an asymmetric
 * `alg` from the allow-list, a public `jwk` that fits `alg` and verifies the signature; `jti`,
 * `htm`, `htu`, `iat` (and `ath` when a token is presented) of the right types; `htm` equal to the
 * method, `htu` equal to the request URI after normalisation, `ath` equal to the token's hash.
 * Time, nonce, binding and replay are the caller's (they depend on its settings).
 *
 * jose parses the header (decodeProtectedHeader) and the base64url segments; the signature is
 * checked synchronously with node:crypto on the proof key imported once per key (proof-key.ts),
 * because jose's EmbeddedJWK + jwtVerify imported the jwk into WebCrypto and verified on the libuv
 * pool for every proof (about 430 µs of the 570 µs a DPoP request cost in the CPU profile of
 * scenario 8, ES256, `npm run bench:profile`). Everything jwtVerify checked for us is still checked here, in its
 * order and with the reasons it led to: `crit` (only `b64` is understood, and a JWT cannot have an
 * unencoded payload), the embedded jwk's `ext`, `key_ops`, `use` and `alg`, the payload a JSON
 * object in strict UTF-8, `typ` (case-insensitive, `application/` optional), `iat`, `nbf` and
 * `exp` numbers when present, `nbf` not in the future and `exp` not passed.
 * Every failure is a `ProofError` with a stable reason; nothing here throws anything else.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { base64url, decodeProtectedHeader, type JWK } from 'jose';
import { normaliseHtu } from './htu.js';
import { jwkThumbprint, ProofKeyUnusable, proofKeys, thumbprintMembers, type ProofKeyCache } from './proof-key.js';
import { algorithmFitsKey, verifySignature } from '../util/jws-algorithms.js';
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

/** jose's claims-set decoding: UTF-8 that is not well-formed is refused, not replaced. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Verifies a proof. `keys` is where proof keys are kept between proofs (the process's cache by
 * default; tests give their own).
 */
// Async for its callers (it was jose's promise): the work itself is synchronous.
// eslint-disable-next-line @typescript-eslint/require-await
export async function verifyProof(proof: string, expected: ProofExpectations, keys: ProofKeyCache = proofKeys): Promise<VerifiedProof> {
  if (!COMPACT_JWS.test(proof)) throw new ProofError('dpop_proof_malformed', 'not a compact JWS');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new ProofError('dpop_proof_malformed', 'the protected header is not a JSON object');
  }
  if (typeof header.typ !== 'string') throw new ProofError('dpop_typ_invalid', 'typ is missing');
  const alg = header.alg;
  if (typeof alg !== 'string') throw new ProofError('dpop_alg_not_allowed', 'alg is missing');
  if (!expected.algorithms.includes(alg)) throw new ProofError('dpop_alg_not_allowed', `alg ${alg.slice(0, 16)} is not allowed`);
  const jwk = header.jwk as unknown;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new ProofError('dpop_jwk_invalid', 'jwk is missing or not an object');
  const privateMember = privateJwkMember(jwk);
  if (privateMember !== undefined) throw new ProofError('dpop_jwk_invalid', `jwk has the private member ${privateMember}`);

  // From here on, what jose's jwtVerify(proof, EmbeddedJWK, { typ, algorithms }) did, in its order.
  const encoded = criticalHeader(header);
  const firstDot = proof.indexOf('.');
  const secondDot = proof.indexOf('.', firstDot + 1);
  const { jkt, key } = proofKey(alg, jwk as Readonly<Record<string, unknown>>, keys);
  const signature = decodeSegment(proof.slice(secondDot + 1), 'signature');
  if (!verifySignature(alg, key, Buffer.from(proof.slice(0, secondDot), 'latin1'), signature)) throw new ProofError('dpop_signature_invalid', 'the signature does not verify with the embedded jwk');
  if (!encoded) throw new ProofError('dpop_proof_malformed', 'JWTs MUST NOT use unencoded payload');
  const payload = claimsSet(proof.slice(firstDot + 1, secondDot));
  // `typ` compared as jose does (case-insensitive, `application/` optional), like Kong's lower-casing.
  const typ = header.typ.toLowerCase();
  if (typ !== 'dpop+jwt' && typ !== 'application/dpop+jwt') throw new ProofError('dpop_typ_invalid', 'typ is not dpop+jwt');
  registeredTimes(payload);

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

  return { jkt, jti: jtiText, iat: iat as number, nonce, alg, jwk };
}

function finiteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * RFC 7515 §4.1.11 as jose applies it (its validateCrit and validateB64): `crit`, when present, a
 * non-empty array of non-empty strings naming only extensions it understands (`b64`, RFC 7797),
 * each of them present. Returns whether the payload is base64url-encoded (`b64` not false). The
 * reasons are those jose's errors led to: JOSENotSupported (an unknown extension) was reported as
 * `dpop_jwk_invalid`, JWSInvalid as `dpop_proof_malformed`.
 */
function criticalHeader(header: Readonly<Record<string, unknown>>): boolean {
  const crit = header.crit;
  if (crit === undefined) return true;
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((name) => typeof name !== 'string' || name === '')) {
    throw new ProofError('dpop_proof_malformed', 'crit is not an array of non-empty strings');
  }
  for (const name of crit as string[]) {
    if (name !== 'b64') throw new ProofError('dpop_jwk_invalid', `crit names the extension ${name.slice(0, 32)}, which is not understood`);
    if (header.b64 === undefined) throw new ProofError('dpop_proof_malformed', 'crit names b64, which is missing');
  }
  if (typeof header.b64 !== 'boolean') throw new ProofError('dpop_proof_malformed', 'b64 is not a boolean');
  return header.b64;
}

/**
 * The proof key: the embedded jwk checked as jose's EmbeddedJWK and WebCrypto import did (`ext` a
 * boolean, `key_ops` unique strings allowing `verify` only, `use` sig, `alg` the proof's), fitting
 * `alg` (kty and curve, the issuer-key table), with its RFC 7638 thumbprint, imported or from the
 * cache. Every failure is `dpop_jwk_invalid` (an alg/curve mismatch or a jwk WebCrypto could not
 * import used to fall through as `dpop_proof_malformed`).
 */
function proofKey(alg: string, jwk: Readonly<Record<string, unknown>>, keys: ProofKeyCache): { jkt: string; key: KeyObject } {
  if (jwk.ext !== undefined && typeof jwk.ext !== 'boolean') throw new ProofError('dpop_jwk_invalid', 'jwk ext is not a boolean');
  const ops = jwk.key_ops;
  if (ops !== undefined) {
    if (!Array.isArray(ops) || ops.some((op) => typeof op !== 'string') || new Set(ops).size !== ops.length) throw new ProofError('dpop_jwk_invalid', 'jwk key_ops is not an array of unique strings');
    // A public key may only verify: WebCrypto refused any other usage, and one without verify.
    if (ops.length !== 1 || ops[0] !== 'verify') throw new ProofError('dpop_jwk_invalid', 'jwk key_ops does not allow verify (only)');
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new ProofError('dpop_jwk_invalid', 'jwk use is not sig');
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new ProofError('dpop_jwk_invalid', `jwk alg is not ${alg}`);
  if (!algorithmFitsKey(alg, jwk.kty, jwk.crv)) throw new ProofError('dpop_jwk_invalid', `jwk is not a key for ${alg} (kty, crv)`);
  const members = thumbprintMembers(jwk);
  const jkt = members === undefined ? undefined : jwkThumbprint(members);
  if (members === undefined || jkt === undefined) throw new ProofError('dpop_jwk_invalid', 'jwk has no thumbprint');
  try {
    return { jkt, key: keys.get(jkt, members) };
  } catch (error) {
    if (error instanceof ProofKeyUnusable) throw new ProofError('dpop_jwk_invalid', `jwk is not a usable public key for ${alg}: ${error.message}`);
    throw error;
  }
}

/** A base64url segment as jose decodes it (a length of 4k+1 cannot be base64). */
function decodeSegment(segment: string, what: string): Uint8Array {
  try {
    return base64url.decode(segment);
  } catch {
    throw new ProofError('dpop_proof_malformed', `the ${what} is not base64url`);
  }
}

/** The payload as jose's JWT claims-set check reads it: strict UTF-8 JSON, a top-level object. */
function claimsSet(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(STRICT_UTF8.decode(decodeSegment(segment, 'payload'))) as unknown;
  } catch {
    throw new ProofError('dpop_proof_malformed', 'JWT Claims Set must be a top-level JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProofError('dpop_proof_malformed', 'JWT Claims Set must be a top-level JSON object');
  return value as Record<string, unknown>;
}

/**
 * jose's checks of the registered time claims, for jwtVerify without clock options: `iat`, `nbf`,
 * `exp` numbers when present, `nbf` not after now, `exp` after now (whole seconds). The reasons
 * are what its errors led to: JWTClaimValidationFailed `dpop_claim_invalid`, JWTExpired (not a
 * claim-validation error to jose) `dpop_proof_malformed`.
 */
function registeredTimes(claims: Readonly<Record<string, unknown>>): void {
  const now = Math.floor(Date.now() / 1000);
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== 'number') throw new ProofError('dpop_claim_invalid', 'iat failed validation (invalid)');
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') throw new ProofError('dpop_claim_invalid', 'nbf failed validation (invalid)');
    if (nbf > now) throw new ProofError('dpop_claim_invalid', 'nbf failed validation (check_failed)');
  }
  if (exp !== undefined) {
    if (typeof exp !== 'number') throw new ProofError('dpop_claim_invalid', 'exp failed validation (invalid)');
    if (exp <= now) throw new ProofError('dpop_proof_malformed', '"exp" claim timestamp check failed');
  }
}
