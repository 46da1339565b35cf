/**
 * The key of a DPoP proof, prepared for synchronous node:crypto verification: its RFC 7638
 * thumbprint, its public `KeyObject` (kept in a bounded cache keyed by that thumbprint, since a
 * client sends the same `jwk` with every proof); the signature is then checked on it.
 *
 * Why not jose's EmbeddedJWK and jwtVerify: they import the jwk into WebCrypto for every proof and
 * verify asynchronously on the libuv pool. The CPU profile of scenario 8 (`npm run bench:profile`,
 * ES256) put that at ~220 µs for the import and ~206 µs for the verification per request, where
 * a synchronous `crypto.verify` on a KeyObject imported once takes ~70 µs (importing a P-256 jwk
 * alone, 65-100 µs): with this file the whole request went from ~980 to ~395 µs under the profiler.
 * The algorithm/key fit, the RSA floor and the signature check itself are the ones access tokens
 * use (src/util/jws-algorithms.ts).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { MIN_RSA_BITS } from '../util/jws-algorithms.js';

/**
 * Proof keys kept per process. A client sends one key for the lifetime of its token, so this is
 * the number of distinct clients whose keys stay imported; beyond it the least recently used key
 * is dropped and imported again on its next proof (what every proof cost before the cache). An
 * entry is the thumbprint (43 characters) and a public KeyObject, whose native part is most of it:
 * a full cache measured ~17 MiB of RSS with P-256 keys (~4 KiB each), ~3 MiB with Ed25519 keys,
 * ~24 MiB with RSA-4096 keys (after a verification each), per process.
 */
export const PROOF_KEY_CACHE_SIZE = 4096;

/**
 * The RFC 7638 §3 members of a public JWK, in lexicographic order: EC `crv kty x y`, OKP
 * `crv kty x`, RSA `e kty n`. Undefined for another `kty`, or when a member is not a non-empty
 * string (jose's calculateJwkThumbprint refuses those too).
 */
export function thumbprintMembers(jwk: Readonly<Record<string, unknown>>): Record<string, string> | undefined {
  const { kty, crv, x, y, e, n } = jwk;
  switch (kty) {
    case 'EC':
      return text(crv) && text(x) && text(y) ? { crv, kty, x, y } : undefined;
    case 'OKP':
      return text(crv) && text(x) ? { crv, kty, x } : undefined;
    case 'RSA':
      return text(e) && text(n) ? { e, kty, n } : undefined;
    default:
      return undefined;
  }
}

/** Beyond ASCII (JSON.stringify escapes the control characters, so none reaches this). */
const NON_ASCII = /[^\x20-\x7f]/;

/**
 * RFC 7638 SHA-256 thumbprint of the members above (JSON without whitespace, base64url), computed
 * synchronously; equal to jose's calculateJwkThumbprint (a unit test checks it for every key type).
 * Undefined when the JWK has no thumbprint, including a non-ASCII member (jose's encoder refuses those).
 */
export function jwkThumbprint(members: Readonly<Record<string, string>>): string | undefined {
  const input = JSON.stringify(members);
  if (NON_ASCII.test(input)) return undefined;
  return createHash('sha256').update(input, 'latin1').digest('base64url');
}

/** Why a proof key cannot be used: the jwk does not import, or is an RSA key under 2048 bits. */
export class ProofKeyUnusable extends Error {
  constructor(detail: string, options?: ErrorOptions) {
    super(detail, options);
    this.name = 'ProofKeyUnusable';
  }
}

/**
 * The public KeyObject of the RFC 7638 members (nothing else of the jwk is given to node:crypto,
 * so the key depends on exactly what the thumbprint covers). Throws ProofKeyUnusable.
 */
export function importProofKey(members: Readonly<Record<string, string>>): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: members, format: 'jwk' });
  } catch (error) {
    throw new ProofKeyUnusable('the jwk does not import', { cause: error });
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (bits === undefined || bits < MIN_RSA_BITS) throw new ProofKeyUnusable(`RSA key of ${bits ?? '?'} bits (${MIN_RSA_BITS} required)`);
  }
  return key;
}

/**
 * Imported proof keys by thumbprint, at most `capacity`, least recently used dropped first.
 * Safe to share between requests and clients: the thumbprint is a SHA-256 over exactly the members
 * the key is imported from, so a hit is the key the jwk describes (a different key would need a
 * SHA-256 collision); every other member of the jwk (`use`, `key_ops`, `alg`, private members) is
 * checked on each proof before the cache is asked. Keys that fail to import are not kept.
 */
export class ProofKeyCache {
  readonly capacity: number;
  /** Map order is use order: a hit moves its entry to the end, the first entry is the eviction candidate. */
  readonly #keys = new Map<string, KeyObject>();

  constructor(capacity: number = PROOF_KEY_CACHE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#keys.size;
  }

  has(jkt: string): boolean {
    return this.#keys.has(jkt);
  }

  /** The key with thumbprint `jkt`, imported from `members` on a miss. Throws ProofKeyUnusable. */
  get(jkt: string, members: Readonly<Record<string, string>>): KeyObject {
    const keys = this.#keys;
    const hit = keys.get(jkt);
    if (hit !== undefined) {
      keys.delete(jkt);
      keys.set(jkt, hit);
      return hit;
    }
    const key = importProofKey(members);
    keys.set(jkt, key);
    if (keys.size > this.capacity) keys.delete(keys.keys().next().value!);
    return key;
  }

  clear(): void {
    this.#keys.clear();
  }
}

/** The process's proof keys (each worker has its own). */
export const proofKeys = new ProofKeyCache();

function text(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
