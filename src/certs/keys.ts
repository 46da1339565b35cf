import { createPrivateKey, webcrypto } from 'node:crypto';
import { derToPem, pemToDer } from './pem.js';

/** The key algorithms certificates can be made with. */
export type KeyType = 'rsa-2048' | 'rsa-4096' | 'ec-p256';

export const keyTypes: readonly KeyType[] = ['rsa-2048', 'rsa-4096', 'ec-p256'];

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** WebCrypto parameters that generate, import and sign with a key type (always SHA-256). */
export function algorithmOf(keyType: KeyType): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams & { hash: string } {
  switch (keyType) {
    case 'rsa-2048':
    case 'rsa-4096':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        modulusLength: keyType === 'rsa-2048' ? 2048 : 4096,
        publicExponent: new Uint8Array([1, 0, 1]),
      };
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  }
}

/** Throws a TypeError naming `option` unless `value` is a known key type. */
export function checkKeyType(value: unknown, option: string): KeyType {
  if (typeof value === 'string' && (keyTypes as readonly string[]).includes(value)) return value as KeyType;
  throw new TypeError(`${option} must be one of ${keyTypes.join(', ')}, got ${String(value)}`);
}

/** A fresh, extractable key pair (extractable so the private key can be written out as PKCS#8). */
export async function generateKeyPair(keyType: KeyType): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(algorithmOf(keyType), true, ['sign', 'verify']);
}

/** The private key as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return derToPem(new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key)), 'PRIVATE KEY');
}

/**
 * Imports a PEM private key (PKCS#8, or the traditional PKCS#1 / SEC1 forms OpenSSL writes) as a
 * WebCrypto signing key, and says which key type it is; `pkcs8Pem` is the key re-encoded as PKCS#8.
 */
export async function importPrivateKeyPem(keyPem: string): Promise<{ privateKey: CryptoKey; keyType: KeyType; pkcs8Pem: string }> {
  const key = createPrivateKey(keyPem);
  const details = key.asymmetricKeyDetails;
  let keyType: KeyType;
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength === 2048 || details?.modulusLength === 4096)) {
    keyType = details.modulusLength === 2048 ? 'rsa-2048' : 'rsa-4096';
  } else if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') {
    keyType = 'ec-p256';
  } else {
    const what = [key.asymmetricKeyType, details?.modulusLength, details?.namedCurve].filter((x) => x !== undefined);
    throw new TypeError(`unsupported private key (${what.join(' ')}); expected RSA-2048, RSA-4096 or EC P-256`);
  }
  const pkcs8Pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pemToDer(pkcs8Pem), algorithmOf(keyType), false, ['sign']);
  return { privateKey, keyType, pkcs8Pem };
}
