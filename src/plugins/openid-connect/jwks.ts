/**
 * An issuer's signing keys: parsed from its JWKS documents once, indexed by `kid`, each turned into
 * a signature verifier for an algorithm once and then reused (RFC 8725 §3.1: the algorithm must fit
 * the key; a key that says `alg` is only ever used with that alg). Keys with private members,
 * encryption keys and key types Portcullis cannot verify with are left out.
 *
 * Verification runs on fast-jwt (node:crypto, synchronous) with the key prepared once as PEM:
 * `npm run bench` measured it at about 1.6× jose's WebCrypto path for RS256 on one core (37 vs
 * 56–61 µs) and 1.3× for ES256. fast-jwt checks only the signature and the algorithm here; every
 * claim is checked by claims.ts with Kong's rules. The `Ed25519` algorithm name (RFC 9864), which
 * fast-jwt does not know, goes through jose.
 */
import { createPublicKey } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { compactVerify, importJWK, type JWK } from 'jose';
import { privateJwkMember } from '../../util/jwk-private-members.js';

/** Verifies a compact JWS's signature for one algorithm and returns its payload (parsed JSON). Throws when it does not verify. */
export type SignatureVerifier = (token: string) => unknown;

/** Smallest RSA modulus accepted (RFC 7518 §3.3: 2048 bits or larger MUST be used). Also for DPoP proof keys (src/dpop/proof-key.ts). */
export const MIN_RSA_BITS = 2048;

/** A verifier for `alg` with a PEM public key or an HMAC secret: signature and algorithm only, no claim checks, no cache. */
export function fastVerifier(alg: string, key: string | Buffer): SignatureVerifier {
  const verify = createVerifier({ key, algorithms: [alg as 'RS256'], complete: false, cache: false, ignoreExpiration: true, ignoreNotBefore: true });
  return (token) => verify(token) as unknown;
}

/** Asymmetric JWS algorithms and the key each needs. */
const ALGORITHMS: Readonly<Record<string, { kty: string; crv?: string }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

/**
 * Whether a key of this `kty` (and `crv`) can verify signatures made with `alg` (RFC 8725 §3.1):
 * the table above, shared with DPoP proof keys (src/dpop/proof.ts). Unknown algorithms fit nothing.
 */
export function algorithmFitsKey(alg: string, kty: unknown, crv: unknown): boolean {
  const need = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  return need !== undefined && need.kty === kty && (need.crv === undefined || need.crv === crv);
}

/** Algorithms a token may name (HS* only where `enable_hs_signatures` allows them). */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set(Object.keys(ALGORITHMS));
export const HMAC_ALGORITHMS: ReadonlySet<string> = new Set(['HS256', 'HS384', 'HS512']);

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
};

/** One verification key of an issuer. */
export class IssuerKey {
  readonly kid: string | undefined;
  readonly kty: string;
  readonly crv: string | undefined;
  readonly alg: string | undefined;
  /** The public JWK (only the members needed to verify), also what the admin API shows. */
  readonly jwk: JWK;
  readonly #verifiers = new Map<string, Promise<SignatureVerifier>>();

  constructor(jwk: JWK) {
    this.kid = jwk.kid;
    this.kty = jwk.kty!;
    this.crv = jwk.crv;
    this.alg = jwk.alg;
    this.jwk = jwk;
  }

  /** Whether this key may verify a signature made with `alg`. */
  fits(alg: string): boolean {
    if (!algorithmFitsKey(alg, this.kty, this.crv)) return false;
    if (this.alg === undefined) return true;
    return this.alg === alg || (alg === 'Ed25519' && this.alg === 'EdDSA') || (alg === 'EdDSA' && this.alg === 'Ed25519');
  }

  /** The signature verifier of this key for `alg`, built once. Rejects when the key cannot be used (e.g. RSA under 2048 bits). */
  verifierFor(alg: string): Promise<SignatureVerifier> {
    let verifier = this.#verifiers.get(alg);
    if (verifier === undefined) {
      verifier = this.#buildVerifier(alg);
      // A key that fails to import stays failed for this alg; forget it so a later refetch can fix it.
      verifier.catch(() => this.#verifiers.delete(alg));
      this.#verifiers.set(alg, verifier);
    }
    return verifier;
  }

  async #buildVerifier(alg: string): Promise<SignatureVerifier> {
    const { alg: _ignored, use: _use, kid: _kid, ...bare } = this.jwk;
    if (alg === 'Ed25519') {
      const key = await importJWK({ ...bare, ext: true }, alg);
      return (token) => compactVerify(token, key, { algorithms: [alg] }).then(({ payload }) => JSON.parse(Buffer.from(payload).toString('utf8')) as unknown);
    }
    const publicKey = createPublicKey({ key: bare, format: 'jwk' });
    const bits = publicKey.asymmetricKeyDetails?.modulusLength;
    if (this.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) throw new TypeError(`RSA key of ${bits ?? '?'} bits (${MIN_RSA_BITS} required)`);
    return fastVerifier(alg, publicKey.export({ type: 'spki', format: 'pem' }).toString());
  }
}

/** A client secret as an HMAC key (`enable_hs_signatures`), with its verifiers built once per alg. */
export class HmacSecret {
  readonly #secret: Buffer;
  readonly #verifiers = new Map<string, SignatureVerifier>();

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  verifierFor(alg: string): Promise<SignatureVerifier> {
    let verifier = this.#verifiers.get(alg);
    if (verifier === undefined) {
      verifier = fastVerifier(alg, this.#secret);
      this.#verifiers.set(alg, verifier);
    }
    return Promise.resolve(verifier);
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
