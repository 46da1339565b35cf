/**
 * The jwt_secrets of a configuration by key, each with what verifies its tokens prepared once when
 * the configuration loads (the public key parsed, the secret's bytes in both readings of
 * `secret_is_base64`), shared by every jwt instance of it.
 */
import type { KeyObject } from 'node:crypto';
import { isHmacAlgorithm, publicKeyOf } from '../../config/checks/jwt-secret.js';
import type { Config, Consumer, JwtSecret } from '../../config/types.js';

export interface JwtCredential {
  readonly credential: JwtSecret;
  readonly consumer: Consumer;
  /** HS*: the secret as written, and base64-decoded (null when it is not base64); else null. */
  readonly secret: { readonly plain: Buffer; readonly decoded: Buffer | null } | null;
  /** RS*, PS*, ES*, EdDSA: the public key; else null. */
  readonly publicKey: KeyObject | null;
}

export interface JwtSecretIndex {
  find(key: string): JwtCredential | null;
}

const indexes = new WeakMap<Config, JwtSecretIndex>();
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A base64 (or base64url) secret's bytes, or null when it is not base64 (Kong: "Invalid key/secret"). */
function decodedSecret(secret: string): Buffer | null {
  if (!BASE64.test(secret) || secret.replace(/=+$/, '').length % 4 === 1) return null;
  const bytes = Buffer.from(secret, 'base64');
  return bytes.length === 0 ? null : bytes;
}

function prepare(credential: JwtSecret, consumer: Consumer): JwtCredential {
  if (isHmacAlgorithm(credential.algorithm)) {
    const secret = credential.secret === null ? null : { plain: Buffer.from(credential.secret, 'utf8'), decoded: decodedSecret(credential.secret) };
    return { credential, consumer, secret, publicKey: null };
  }
  return { credential, consumer, secret: null, publicKey: credential.rsa_public_key === null ? null : publicKeyOf(credential.rsa_public_key) };
}

/** The JWT credentials of `config` by key. */
export function jwtSecretIndex(config: Config): JwtSecretIndex {
  let index = indexes.get(config);
  if (index === undefined) {
    const consumers = new Map(config.consumers.map((c) => [c.id, c]));
    const byKey = new Map<string, JwtCredential>();
    for (const credential of config.jwt_secrets) {
      const consumer = consumers.get(credential.consumer);
      if (consumer !== undefined) byKey.set(credential.key, prepare(credential, consumer));
    }
    index = { find: (key) => byKey.get(key) ?? null };
    indexes.set(config, index);
  }
  return index;
}
