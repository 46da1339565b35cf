// The IdP's signing keys, kept in DIR/signing-keys.json so a restart keeps issued tokens verifiable.
// One active RS256 and one active ES256 key; rotation makes new ones and keeps the previous ones
// published (not used for signing) for a grace period, so tokens signed just before the rotation
// still verify at resource servers that refetch the JWKS.
import { generateKeyPair, type JsonWebKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint } from 'jose';
import type { IdpSigningAlg } from './types.js';
import { replaceFile } from '../util/private-file.js';

const generate = promisify(generateKeyPair);

/** File name of the key store inside the IdP directory. */
export const signingKeysFile = 'signing-keys.json';

export interface StoredKey {
  /** Private JWK with `kid`, `alg` and `use: "sig"`. */
  jwk: JsonWebKey & { kid: string; alg: IdpSigningAlg; use: 'sig' };
  created_at: string;
  /** When a rotation replaced it; null while it is the signing key for its alg. */
  retired_at: string | null;
}

export interface StoredKeys {
  version: 1;
  keys: StoredKey[];
}

const algs: readonly IdpSigningAlg[] = ['RS256', 'ES256'];

async function newKey(alg: IdpSigningAlg, now: Date): Promise<StoredKey> {
  const { privateKey } = alg === 'RS256' ? await generate('rsa', { modulusLength: 2048 }) : await generate('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const { kty, n, e, crv, x, y } = jwk;
  const kid = await calculateJwkThumbprint({ kty, n, e, crv, x, y });
  return { jwk: { ...jwk, kid, alg, use: 'sig' }, created_at: now.toISOString(), retired_at: null };
}

function parseStoredKeys(text: string, path: string): StoredKeys {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not JSON: ${(error as Error).message}`);
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  const ok =
    (doc as { version?: unknown } | null)?.version === 1 &&
    Array.isArray(keys) &&
    keys.every((k: unknown) => {
      const key = k as Partial<StoredKey> | null;
      return (
        typeof key?.jwk?.kid === 'string' &&
        algs.includes(key.jwk.alg) &&
        typeof key.created_at === 'string' &&
        (key.retired_at === null || typeof key.retired_at === 'string')
      );
    });
  if (!ok) throw new Error(`${path}: not a Portcullis IdP key store (version 1)`);
  return doc as StoredKeys;
}

async function writeStoredKeys(dir: string, stored: StoredKeys): Promise<void> {
  await replaceFile(join(dir, signingKeysFile), `${JSON.stringify(stored, null, 2)}\n`);
}

async function readStoredKeys(dir: string): Promise<StoredKeys | undefined> {
  const path = join(dir, signingKeysFile);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseStoredKeys(text, path);
}

/** Drops retired keys whose grace period is over. */
function prune(stored: StoredKeys, graceSeconds: number, now: Date): StoredKeys {
  const keys = stored.keys.filter((k) => k.retired_at === null || Date.parse(k.retired_at) + graceSeconds * 1000 > now.getTime());
  return { version: 1, keys };
}

/** Reads the key store of `dir`, making it (and the directory) with fresh keys when missing or lacking an alg. */
export async function loadOrCreateSigningKeys(dir: string, graceSeconds: number, now = new Date()): Promise<StoredKeys> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await readStoredKeys(dir);
  const stored: StoredKeys = existing ?? { version: 1, keys: [] };
  const missing = algs.filter((alg) => !stored.keys.some((k) => k.jwk.alg === alg && k.retired_at === null));
  if (missing.length === 0) return prune(stored, graceSeconds, now);
  const added = await Promise.all(missing.map((alg) => newKey(alg, now)));
  const next: StoredKeys = { version: 1, keys: [...added, ...stored.keys] };
  await writeStoredKeys(dir, next);
  return prune(next, graceSeconds, now);
}

/**
 * Rotates the keys of `dir`: new active keys for every alg, the previous active ones retired now
 * (still published for `graceSeconds`), keys past their grace removed. Returns the new store.
 */
export async function rotateSigningKeys(dir: string, graceSeconds: number, now = new Date()): Promise<StoredKeys> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = (await readStoredKeys(dir)) ?? { version: 1, keys: [] };
  const added = await Promise.all(algs.map((alg) => newKey(alg, now)));
  const retired = existing.keys.map((k) => (k.retired_at === null ? { ...k, retired_at: now.toISOString() } : k));
  const next = prune({ version: 1, keys: [...added, ...retired] }, graceSeconds, now);
  await writeStoredKeys(dir, next);
  return next;
}

/**
 * The private JWKS for oidc-provider: active keys first, since oidc-provider signs with the first
 * key that fits the alg; retired keys after them, newest first, only published.
 */
export function providerJwks(stored: StoredKeys): { keys: Record<string, unknown>[] } {
  const active = stored.keys.filter((k) => k.retired_at === null);
  const retired = stored.keys
    .filter((k) => k.retired_at !== null)
    .sort((a, b) => Date.parse(b.retired_at ?? '') - Date.parse(a.retired_at ?? ''));
  return { keys: [...active, ...retired].map((k) => ({ ...k.jwk })) };
}

/** When the next retired key leaves the JWKS, or undefined when none is retired. */
export function nextExpiry(stored: StoredKeys, graceSeconds: number): number | undefined {
  const times = stored.keys.filter((k) => k.retired_at !== null).map((k) => Date.parse(k.retired_at ?? '') + graceSeconds * 1000);
  return times.length === 0 ? undefined : Math.min(...times);
}

/** The public JWKS: what the jwks_uri publishes. */
export function publicJwks(stored: StoredKeys): { keys: Record<string, unknown>[] } {
  return {
    keys: providerJwks(stored).keys.map((jwk) => {
      const { kty, kid, alg, use, n, e, crv, x, y } = jwk;
      return Object.fromEntries(Object.entries({ kty, kid, alg, use, n, e, crv, x, y }).filter(([, v]) => v !== undefined));
    }),
  };
}

/** The active private key for `alg`. */
export function activeKey(stored: StoredKeys, alg: IdpSigningAlg): StoredKey | undefined {
  return stored.keys.find((k) => k.jwk.alg === alg && k.retired_at === null);
}
