/**
 * The JWS algorithms Portcullis verifies (RFC 7518 §3, RFC 8037, RFC 9864), the key each needs
 * (RFC 8725 §3.1: the algorithm must fit the key), and the signature check on node:crypto with a
 * prepared `KeyObject`. Shared by access tokens (openid-connect's issuer keys and client secrets)
 * and DPoP proofs, so both follow one table and one mapping onto node:crypto's parameters.
 *
 * Why node:crypto and not jose or fast-jwt: synchronous, on a key imported once. jose verifies with
 * WebCrypto, asynchronously, and imports the key per call where it is given a JWK; fast-jwt wraps
 * the same node:crypto call (around a PEM string) and brought nine packages with it, for ~2 µs more
 * per RS256 verification under Node 24. Measured in docs/performance.md.
 */
import { constants, createHmac, timingSafeEqual, verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';

/** Smallest RSA modulus accepted (RFC 7518 §3.3: 2048 bits or larger MUST be used). */
export const MIN_RSA_BITS = 2048;

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

/** Whether a key of this `kty` (and `crv`) can verify signatures made with `alg`. Unknown algorithms fit nothing. */
export function algorithmFitsKey(alg: string, kty: unknown, crv: unknown): boolean {
  const need = Object.hasOwn(ALGORITHMS, alg) ? ALGORITHMS[alg] : undefined;
  return need !== undefined && need.kty === kty && (need.crv === undefined || need.crv === crv);
}

/** Algorithms a token or proof may name (HS* only for tokens, where `enable_hs_signatures` allows them). */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set(Object.keys(ALGORITHMS));
export const HMAC_ALGORITHMS: ReadonlySet<string> = new Set(['HS256', 'HS384', 'HS512']);

interface VerifyParameters {
  /** Digest for node:crypto (null: EdDSA, which hashes internally). */
  readonly digest: string | null;
  readonly padding?: number;
  readonly saltLength?: number;
  readonly dsaEncoding?: 'ieee-p1363';
}

/** node:crypto's parameters for a JWS algorithm name, by family. */
function verifyParameters(alg: string): VerifyParameters | undefined {
  const family = alg.slice(0, 2);
  const digest = `sha${alg.slice(2)}`;
  switch (family) {
    case 'RS':
      return { digest, padding: constants.RSA_PKCS1_PADDING };
    case 'PS':
      return { digest, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
    case 'ES':
      // JWS carries r||s (RFC 7518 §3.4), not DER.
      return { digest, dsaEncoding: 'ieee-p1363' };
    case 'Ed':
      return { digest: null };
    default:
      return undefined;
  }
}

/** Every asymmetric algorithm of the table, prepared once. */
const VERIFY_PARAMETERS: ReadonlyMap<string, VerifyParameters> = new Map(
  [...ASYMMETRIC_ALGORITHMS].map((alg) => {
    const parameters = verifyParameters(alg);
    if (parameters === undefined) throw new Error(`no node:crypto parameters for ${alg}`);
    return [alg, parameters] as const;
  }),
);

/** The size of an RSA key's signatures in bytes, read once per key. */
const rsaSignatureBytes = new WeakMap<KeyObject, number>();

function rsaSignatureSize(key: KeyObject): number {
  let size = rsaSignatureBytes.get(key);
  if (size === undefined) {
    size = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    rsaSignatureBytes.set(key, size);
  }
  return size;
}

/**
 * Whether `signature` is a valid `alg` signature of `input` by `key` (synchronous). The caller has
 * checked that the key fits the algorithm; an unknown algorithm, a signature of the wrong size or
 * anything node:crypto throws on counts as not verifying.
 *
 * An RSA signature must be exactly as long as the modulus (RFC 8017 §8.1.2 and §8.2.2, step 1):
 * OpenSSL's PSS check also accepts one whose leading zero bytes were dropped, which would give one
 * token two encodings that verify.
 */
export function verifySignature(alg: string, key: KeyObject, input: Uint8Array | string, signature: Uint8Array): boolean {
  const p = VERIFY_PARAMETERS.get(alg);
  if (p === undefined) return false;
  if (p.padding !== undefined && signature.length !== rsaSignatureSize(key)) return false;
  const keyInput: KeyObject | VerifyKeyObjectInput = p.padding !== undefined ? { key, padding: p.padding, saltLength: p.saltLength } : p.dsaEncoding !== undefined ? { key, dsaEncoding: p.dsaEncoding } : key;
  try {
    return verify(p.digest, typeof input === 'string' ? Buffer.from(input, 'latin1') : input, keyInput, signature);
  } catch {
    return false;
  }
}

/** Whether `signature` is the HS256/384/512 MAC of `input` under `secret`, compared in constant time. */
export function verifyHmac(alg: string, secret: Uint8Array, input: string, signature: Uint8Array): boolean {
  if (!HMAC_ALGORITHMS.has(alg)) return false;
  const mac = createHmac(`sha${alg.slice(2)}`, secret).update(input, 'latin1').digest();
  return mac.length === signature.length && timingSafeEqual(mac, signature);
}
