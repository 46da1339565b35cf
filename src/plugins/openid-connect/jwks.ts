/**
 * An issuer's signing keys: parsed from its JWKS documents once, indexed by `kid`, each imported as
 * a node:crypto KeyObject when the document is read (RFC 8725 §3.1: the algorithm must fit the key;
 * a key that says `alg` is only ever used with that alg). Keys with private members, encryption
 * keys and key types Portcullis cannot verify with are left out.
 *
 * Verification is node:crypto's, synchronous (src/util/jws-algorithms.ts): the signature and nothing
 * else here; verify-jwt.ts parses the payload once a signature verified, and claims.ts checks every
 * claim with Kong's rules.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { privateJwkMember } from '../../util/jwk-private-members.js';
import { algorithmFitsKey, ASYMMETRIC_ALGORITHMS, MIN_RSA_BITS, verifyHmac, verifySignature } from '../../util/jws-algorithms.js';

/**
 * A key that checks JWS signatures: whether `signature` is the `alg` signature of `signingInput`
 * (the token's first two segments, as verify-jwt.ts split them once).
 */
export interface SignatureKey {
  verify(alg: string, signingInput: string, signature: Uint8Array): boolean;
}

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/** One verification key of an issuer. */
export class IssuerKey implements SignatureKey {
  readonly kid: string | undefined;
  readonly kty: string;
  readonly crv: string | undefined;
  readonly alg: string | undefined;
  /** The public JWK (only the members needed to verify), also what the admin API shows. */
  readonly jwk: JWK;
  /** Imported when the JWKS is read, not per request; a key that cannot be used keeps its reason. */
  readonly #key: KeyObject | Error;

  constructor(jwk: JWK) {
    this.kid = jwk.kid;
    this.kty = jwk.kty!;
    this.crv = jwk.crv;
    this.alg = jwk.alg;
    this.jwk = jwk;
    this.#key = importPublicKey(jwk);
  }

  /** Whether this key may verify a signature made with `alg`. */
  fits(alg: string): boolean {
    if (!algorithmFitsKey(alg, this.kty, this.crv)) return false;
    if (this.alg === undefined) return true;
    return this.alg === alg || (alg === 'Ed25519' && this.alg === 'EdDSA') || (alg === 'EdDSA' && this.alg === 'Ed25519');
  }

  /** Throws the reason when the key cannot be used (e.g. RSA under 2048 bits); a refetched JWKS makes new keys. */
  verify(alg: string, signingInput: string, signature: Uint8Array): boolean {
    if (this.#key instanceof Error) throw this.#key;
    return verifySignature(alg, this.#key, signingInput, signature);
  }
}

function importPublicKey(jwk: JWK): KeyObject | Error {
  const { alg: _ignored, use: _use, kid: _kid, ...bare } = jwk;
  try {
    const publicKey = createPublicKey({ key: bare, format: 'jwk' });
    const bits = publicKey.asymmetricKeyDetails?.modulusLength;
    if (jwk.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) return new TypeError(`RSA key of ${bits ?? '?'} bits (${MIN_RSA_BITS} required)`);
    return publicKey;
  } catch (error) {
    return error instanceof Error ? error : new TypeError(String(error));
  }
}

/** A client secret as an HMAC key (`enable_hs_signatures`). */
export class HmacSecret implements SignatureKey {
  readonly #secret: Buffer;

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  verify(alg: string, signingInput: string, signature: Uint8Array): boolean {
    return verifyHmac(alg, this.#secret, signingInput, signature);
  }
}

/** An issuer's keys, with lookups by `kid`. */
export class KeySet {
  readonly keys: readonly IssuerKey[];
  readonly #byKid = new Map<string, IssuerKey[]>();

  constructor(keys: readonly IssuerKey[]) {
    this.keys = keys;
    for (const key of keys) {
      if (key.kid === undefined) continue;
      const list = this.#byKid.get(key.kid) ?? [];
      list.push(key);
      this.#byKid.set(key.kid, list);
    }
  }

  /** Whether any key has this kid. */
  hasKid(kid: string): boolean {
    return this.#byKid.has(kid);
  }

  /**
   * Keys that may verify a token with this `kid` and `alg`. With a kid, only keys with that kid;
   * without one, every key that fits the algorithm (RFC 7517 leaves the choice to the verifier).
   */
  candidates(kid: string | undefined, alg: string): IssuerKey[] {
    const pool = kid === undefined ? this.keys : (this.#byKid.get(kid) ?? []);
    return pool.filter((k) => k.fits(alg));
  }
}

/** Result of reading one JWKS document: the usable keys and what was skipped, for the log. */
export interface ParsedJwks {
  readonly keys: IssuerKey[];
  readonly skipped: string[];
}

/** Parses a JWKS document (RFC 7517 §5), keeping only usable public signature keys. */
export function parseJwks(body: unknown): ParsedJwks {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new TypeError('not a JWK Set (no "keys" array)');
  }
  const keys: IssuerKey[] = [];
  const skipped: string[] = [];
  for (const [i, raw] of ((body as { keys: unknown[] }).keys).entries()) {
    const label = typeof (raw as { kid?: unknown })?.kid === 'string' ? `kid '${(raw as { kid: string }).kid}'` : `key ${i}`;
    const problem = keyProblem(raw);
    if (problem !== null) {
      skipped.push(`${label}: ${problem}`);
      continue;
    }
    keys.push(new IssuerKey(publicPart(raw as Record<string, unknown>)));
  }
  return { keys, skipped };
}

function keyProblem(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
  const jwk = raw as Record<string, unknown>;
  if (typeof jwk.kty !== 'string' || PUBLIC_MEMBERS[jwk.kty] === undefined) return `unsupported kty ${String(jwk.kty)}`;
  if (privateJwkMember(jwk) !== undefined) return 'carries private key material';
  if (jwk.use !== undefined && jwk.use !== 'sig') return `use is ${JSON.stringify(jwk.use)}`;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return 'key_ops does not allow verify';
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return 'kid is not a string';
  if (jwk.alg !== undefined && (typeof jwk.alg !== 'string' || !ASYMMETRIC_ALGORITHMS.has(jwk.alg))) return `alg ${JSON.stringify(jwk.alg)} is not a signature algorithm Portcullis verifies`;
  for (const member of PUBLIC_MEMBERS[jwk.kty]!) {
    if (typeof jwk[member] !== 'string' || jwk[member] === '') return `missing ${member}`;
  }
  return null;
}

function publicPart(jwk: Record<string, unknown>): JWK {
  const out: Record<string, unknown> = {};
  for (const member of [...PUBLIC_MEMBERS[jwk.kty as string]!, 'kid', 'alg', 'use']) {
    if (jwk[member] !== undefined) out[member] = jwk[member];
  }
  return out;
}
