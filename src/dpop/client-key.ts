/**
 * A DPoP client's key on disk (`portcullis dpop keygen`), and proofs made with it
 * (`portcullis dpop proof`): a private JWK as JSON with its `alg`, written mode 0600. For
 * development and scripts (curl); the gateway's tests make their proofs with panva's `dpop`.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { accessTokenHash } from './proof.js';
import { PRIVATE_JWK_MEMBERS } from '../util/jwk-private-members.js';
import { replaceFile, writeNewFile } from '../util/private-file.js';

export const CLIENT_KEY_ALGORITHMS = ['ES256', 'ES384', 'Ed25519', 'EdDSA', 'PS256', 'RS256'] as const;
export type ClientKeyAlgorithm = (typeof CLIENT_KEY_ALGORITHMS)[number];

export interface ClientKey {
  readonly alg: ClientKeyAlgorithm;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: the `cnf.jkt` of tokens bound to it. */
  readonly jkt: string;
}

function publicPart(jwk: JWK): JWK {
  return Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_JWK_MEMBERS.includes(name) && name !== 'alg' && name !== 'ext' && name !== 'key_ops'));
}

async function describe(alg: ClientKeyAlgorithm, privateJwk: JWK): Promise<ClientKey> {
  const publicJwk = publicPart(privateJwk);
  return { alg, privateJwk, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

export async function generateClientKey(alg: ClientKeyAlgorithm): Promise<ClientKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}) });
  return describe(alg, { ...(await exportJWK(privateKey)), alg });
}

/** Writes the key file, mode 0600 (refuses to overwrite unless `force`; then replaced in one step, never written into). */
export async function writeClientKey(file: string, key: ClientKey, force = false): Promise<void> {
  const text = `${JSON.stringify(key.privateJwk, null, 2)}\n`;
  await (force ? replaceFile(file, text) : writeNewFile(file, text));
}

export async function readClientKey(file: string): Promise<ClientKey> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (error) {
    throw new Error(`${file}: not a JWK JSON file (${(error as Error).message})`);
  }
  const alg = jwk.alg as ClientKeyAlgorithm | undefined;
  if (alg === undefined || !CLIENT_KEY_ALGORITHMS.includes(alg)) throw new Error(`${file}: the JWK needs an alg among ${CLIENT_KEY_ALGORITHMS.join(', ')}`);
  if (jwk.d === undefined) throw new Error(`${file}: the JWK has no private part`);
  return describe(alg, jwk);
}

export interface ProofRequest {
  readonly method: string;
  /** The request URI; query and fragment are removed (RFC 9449 §4.2). */
  readonly url: string;
  readonly accessToken?: string;
  readonly nonce?: string;
  /** Seconds; default now. */
  readonly iat?: number;
}

export async function makeProof(key: ClientKey, request: ProofRequest): Promise<string> {
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  const claims: Record<string, unknown> = { htm: request.method, htu: url.href, jti: randomUUID() };
  if (request.accessToken !== undefined) claims['ath'] = accessTokenHash(request.accessToken);
  if (request.nonce !== undefined) claims['nonce'] = request.nonce;
  const privateKey = await importJWK(key.privateJwk, key.alg);
  return new SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk })
    .setIssuedAt(request.iat ?? Math.floor(Date.now() / 1000))
    .sign(privateKey);
}
