import { createPrivateKey, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { caExtensions } from './extensions.js';
import { checkKeyType, exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, type KeyType } from './keys.js';
import { parseSubject, randomSerialNumber, validityOf } from './params.js';
import { splitPem } from './pem.js';
import { signCertificate } from './sign.js';
import type { CertificateAuthority } from './types.js';
import { x509 } from './x509.js';

export interface CreateCertificateAuthorityOptions {
  /** RFC 4514 subject, e.g. 'CN=Portcullis Dev Root CA'. */
  subject: string;
  /** Default rsa-2048. */
  keyType?: KeyType;
  /** Default 3650. */
  validDays?: number;
  /** Signs the new CA, making it an intermediate; omitted → a self-signed root. */
  issuer?: CertificateAuthority;
  /** basicConstraints pathLenConstraint. Default: unlimited for a root, 0 for an intermediate. */
  pathLength?: number;
}

/** Makes a root CA, or an intermediate CA when `issuer` is given. */
export async function createCertificateAuthority(opts: CreateCertificateAuthorityOptions): Promise<CertificateAuthority> {
  const subject = parseSubject(opts.subject);
  const keyType = checkKeyType(opts.keyType ?? 'rsa-2048', 'keyType');
  const issuer = opts.issuer;
  const pathLength = opts.pathLength ?? (issuer === undefined ? undefined : 0);
  if (pathLength !== undefined && !(Number.isInteger(pathLength) && pathLength >= 0)) {
    throw new TypeError(`pathLength must be a non-negative integer, got ${String(pathLength)}`);
  }
  if (issuer !== undefined && issuer.pathLength !== undefined) {
    if (issuer.pathLength === 0) throw new TypeError('issuer has pathLength 0: it cannot sign another CA');
    if (pathLength === undefined || pathLength >= issuer.pathLength) {
      throw new TypeError(`pathLength must be below the issuer's (${issuer.pathLength})`);
    }
  }
  const { notBefore, notAfter } = validityOf({ validDays: opts.validDays }, 3650);
  const keys = await generateKeyPair(keyType);
  const issuerCert = issuer === undefined ? undefined : new x509.X509Certificate(issuer.certPem);
  const { certPem } = await signCertificate({
    subject,
    issuer: issuerCert?.subjectName ?? subject,
    publicKey: keys.publicKey,
    signingKey: issuer?.privateKey ?? keys.privateKey,
    signingKeyType: issuer?.keyType ?? keyType,
    serialNumber: randomSerialNumber(),
    notBefore,
    notAfter,
    extensions: await caExtensions(keys.publicKey, pathLength, issuerCert),
  });
  return {
    certPem,
    keyPem: await exportPrivateKeyPem(keys.privateKey),
    keyType,
    privateKey: keys.privateKey,
    pathLength,
    intermediatesPem: issuer === undefined ? [] : [certPem, ...issuer.intermediatesPem],
    rootPem: issuer?.rootPem ?? certPem,
  };
}

export interface LoadCertificateAuthorityOptions {
  /** The CA certificate; may be followed by its intermediates up to the root (nearest first). */
  certPem: string;
  /** Its private key: PKCS#8, PKCS#1 or SEC1 PEM. */
  keyPem: string;
  /** The root, when `certPem` is an intermediate whose bundle does not end with it. */
  rootPem?: string;
}

/** A CA from PEM files made earlier (by this module or by OpenSSL), ready to sign. */
export async function loadCertificateAuthority(opts: LoadCertificateAuthorityOptions): Promise<CertificateAuthority> {
  const blocks = splitPem(opts.certPem).filter((b) => b.label === 'CERTIFICATE');
  const own = blocks[0];
  if (own === undefined) throw new TypeError('certPem: no CERTIFICATE block');
  const nodeCert = new NodeX509Certificate(own.der);
  if (!nodeCert.ca) throw new TypeError('certPem: not a CA certificate (basicConstraints cA is not true)');
  const { privateKey, keyType, pkcs8Pem } = await importPrivateKeyPem(opts.keyPem);
  if (!nodeCert.checkPrivateKey(createPrivateKey(opts.keyPem))) {
    throw new TypeError('keyPem does not belong to certPem');
  }
  const chain = blocks.map((b) => b.pem);
  const isSelfSigned = (pem: string) => {
    const c = new NodeX509Certificate(pem);
    return c.checkIssued(c) && c.verify(c.publicKey);
  };
  const last = chain[chain.length - 1] ?? own.pem;
  const rootPem = opts.rootPem ?? (isSelfSigned(last) ? last : undefined);
  if (rootPem === undefined) throw new TypeError('certPem: the chain does not end with a self-signed root; pass rootPem');
  const intermediatesPem = chain.filter((pem) => pem !== rootPem);
  const basic = new x509.X509Certificate(own.der).getExtension(x509.BasicConstraintsExtension);
  return {
    certPem: own.pem,
    keyPem: pkcs8Pem,
    keyType,
    privateKey,
    pathLength: basic?.pathLength,
    intermediatesPem,
    rootPem,
  };
}
