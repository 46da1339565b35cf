// PKCS#12 (RFC 7292) key stores and trust stores for Java, Keycloak and browsers, built with pkijs.
// The layout follows what OpenSSL 3 and keytool write: certificates in a password-encrypted
// SafeContents, the key in a PKCS#8 shrouded bag, PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an
// HMAC-SHA256 MAC; both tools and Node read it. pkijs runs on its default engine, Node's global
// WebCrypto.
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { splitPem } from './pem.js';

/** keytool refuses store passwords shorter than this. */
export const minPkcs12PasswordLength = 6;

/** A private key with its certificate, stored under `alias` (keytool's alias, OpenSSL's `-name`). */
export interface Pkcs12KeyEntry {
  alias: string;
  keyPem: string;
  certPem: string;
  /** CA certificates that complete the chain (OpenSSL's `-certfile`), nearest first. */
  chainPem?: readonly string[];
}

/** A certificate Java treats as a trust anchor (a keytool `trustedCertEntry`). */
export interface Pkcs12TrustedEntry {
  alias: string;
  certPem: string;
}

export interface CreatePkcs12Options {
  /** At least `minPkcs12PasswordLength` characters; protects the key, the certificates and the MAC. */
  password: string;
  keys?: readonly Pkcs12KeyEntry[];
  trusted?: readonly Pkcs12TrustedEntry[];
  /** PBKDF2 and MAC iteration count. Default 100000. */
  iterations?: number;
}

const oid = {
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  // Oracle's trustedKeyUsage: without it Java ignores a certificate that has no key.
  oracleTrustedKeyUsage: '2.16.840.1.113894.746875.1.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** Makes a password-protected PKCS#12 file (DER) holding key entries and trusted certificates. */
export async function createPkcs12(opts: CreatePkcs12Options): Promise<Buffer> {
  const password = checkPkcs12Password(opts.password, 'password');
  const iterations = opts.iterations ?? 100_000;
  if (!Number.isInteger(iterations) || iterations < 1) throw new TypeError(`iterations must be a positive integer, got ${String(iterations)}`);
  const keys = opts.keys ?? [];
  const trusted = opts.trusted ?? [];
  if (keys.length === 0 && trusted.length === 0) throw new TypeError('a PKCS#12 file needs at least one key or trusted certificate');
  const aliases = [...keys, ...trusted].map((e) => checkAlias(e.alias));
  const duplicate = aliases.find((a, i) => aliases.indexOf(a) !== i);
  if (duplicate !== undefined) throw new TypeError(`alias '${duplicate}' is used twice`);

  // PBES2 takes the password as UTF-8 bytes; pkijs turns the same bytes into the BMPString the MAC needs.
  const secret = toArrayBuffer(Buffer.from(password, 'utf8'));
  const encryption = {
    password: secret,
    contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 },
    hmacHashAlgorithm: 'SHA-256',
    iterationCount: iterations,
  };

  const certBags: pkijs.SafeBag[] = [];
  const keyBags: pkijs.SafeBag[] = [];
  for (const entry of keys) {
    const certDer = certificateDer(entry.certPem, `keys '${entry.alias}' certPem`);
    const localKeyId = createHash('sha1').update(certDer).digest();
    const attributes = () => [friendlyNameAttribute(entry.alias), localKeyIdAttribute(localKeyId)];
    const shrouded = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: pkijs.PrivateKeyInfo.fromBER(privateKeyDer(entry.keyPem, certDer, entry.alias)) });
    await shrouded.makeInternalValues(encryption);
    keyBags.push(new pkijs.SafeBag({ bagId: oid.pkcs8ShroudedKeyBag, bagValue: shrouded, bagAttributes: attributes() }));
    certBags.push(certBag(certDer, attributes()));
    for (const [i, pem] of (entry.chainPem ?? []).entries()) {
      certBags.push(certBag(certificateDer(pem, `keys '${entry.alias}' chainPem[${i}]`), undefined));
    }
  }
  for (const entry of trusted) {
    const trustedUsage = new pkijs.Attribute({
      type: oid.oracleTrustedKeyUsage,
      values: [new asn1js.ObjectIdentifier({ value: oid.anyExtendedKeyUsage })],
    });
    certBags.push(certBag(certificateDer(entry.certPem, `trusted '${entry.alias}' certPem`), [friendlyNameAttribute(entry.alias), trustedUsage]));
  }

  const contents: { privacyMode: number; value: pkijs.SafeContents }[] = [];
  const parameters: object[] = [];
  if (certBags.length > 0) {
    contents.push({ privacyMode: 1, value: new pkijs.SafeContents({ safeBags: certBags }) });
    parameters.push({ ...encryption });
  }
  if (keyBags.length > 0) {
    // The key bags are already encrypted one by one; their container needs no second layer.
    contents.push({ privacyMode: 0, value: new pkijs.SafeContents({ safeBags: keyBags }) });
    parameters.push({});
  }
  const authenticatedSafe = new pkijs.AuthenticatedSafe({ parsedValue: { safeContents: contents } });
  await authenticatedSafe.makeInternalValues({ safeContents: parameters });
  const pfx = new pkijs.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues({ password: secret, iterations, pbkdf2HashAlgorithm: 'SHA-256', hmacHashAlgorithm: 'SHA-256' });
  return Buffer.from(pfx.toSchema().toBER(false));
}

/** Throws a TypeError naming `option` unless `password` is a string keytool would accept. */
export function checkPkcs12Password(password: unknown, option: string): string {
  if (typeof password !== 'string') throw new TypeError(`${option} must be a string`);
  if ([...password].length < minPkcs12PasswordLength) {
    throw new TypeError(`${option} must be at least ${minPkcs12PasswordLength} characters (keytool refuses shorter store passwords)`);
  }
  return password;
}

function checkAlias(alias: unknown): string {
  if (typeof alias !== 'string' || alias.length === 0) throw new TypeError('every entry needs a non-empty alias');
  return alias;
}

function certBag(der: Buffer, attributes: pkijs.Attribute[] | undefined): pkijs.SafeBag {
  const bag = new pkijs.CertBag({ certId: oid.x509Certificate, parsedValue: pkijs.Certificate.fromBER(der) });
  return new pkijs.SafeBag({ bagId: oid.certBag, bagValue: bag, ...(attributes === undefined ? {} : { bagAttributes: attributes }) });
}

function friendlyNameAttribute(alias: string): pkijs.Attribute {
  return new pkijs.Attribute({ type: oid.friendlyName, values: [new asn1js.BmpString({ value: alias })] });
}

function localKeyIdAttribute(id: Buffer): pkijs.Attribute {
  return new pkijs.Attribute({ type: oid.localKeyId, values: [new asn1js.OctetString({ valueHex: toArrayBuffer(id) })] });
}

function certificateDer(pem: string, option: string): Buffer {
  const block = splitPem(pem).find((b) => b.label === 'CERTIFICATE');
  if (block === undefined) throw new TypeError(`${option}: no CERTIFICATE block`);
  return block.der;
}

// Any PEM key form OpenSSL writes (PKCS#8, PKCS#1, SEC1), re-encoded as PKCS#8; it must belong to the certificate.
function privateKeyDer(pem: string, certDer: Buffer, alias: string): Buffer {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new TypeError(`keys '${alias}' keyPem: not a private key (${(error as Error).message})`);
  }
  if (!new X509Certificate(certDer).checkPrivateKey(key)) throw new TypeError(`keys '${alias}': keyPem does not belong to certPem`);
  return key.export({ type: 'pkcs8', format: 'der' });
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
