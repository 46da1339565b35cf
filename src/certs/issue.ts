import { checkUsage, leafExtensions, type Usage } from './extensions.js';
import { checkKeyType, exportPrivateKeyPem, generateKeyPair, type KeyType } from './keys.js';
import { checkAltNames, checkSerialNumber, parseSubject, randomSerialNumber, validityOf } from './params.js';
import { certificateThumbprint } from './pem.js';
import { signCertificate } from './sign.js';
import type { CertificateAuthority, IssuedCertificate } from './types.js';
import { x509 } from './x509.js';

export interface IssueCertificateOptions {
  ca: CertificateAuthority;
  /** RFC 4514 subject, e.g. 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US'. */
  subject: string;
  /** Extended key usage: serverAuth, clientAuth or both. */
  usage: Usage;
  dnsNames?: string[];
  /** IPv4 or IPv6 literals ('127.0.0.1', '::1'). */
  ipAddresses?: string[];
  /** Default rsa-2048. */
  keyType?: KeyType;
  /** Default: five minutes ago, for clock skew. */
  notBefore?: Date;
  /** Default: now + validDays. May be in the past, to make an expired certificate. */
  notAfter?: Date;
  /** Default 365. */
  validDays?: number;
  /** Leave out extendedKeyUsage altogether (a certificate good for any purpose). */
  omitExtendedKeyUsage?: boolean;
  /** URL put in cRLDistributionPoints. */
  crlDistributionPoint?: string;
  /** URL put in authorityInfoAccess as the OCSP responder. */
  ocspUrl?: string;
  /** Hex; default a random positive 128-bit number. */
  serialNumber?: string;
}

/** Issues an end-entity (cA:false) certificate signed by `ca`, with a fresh key. */
export async function issueCertificate(opts: IssueCertificateOptions): Promise<IssuedCertificate> {
  const ca = opts.ca;
  if (typeof ca !== 'object' || ca === null || typeof ca.certPem !== 'string' || ca.privateKey === undefined) {
    throw new TypeError('ca must be a CertificateAuthority from createCertificateAuthority or loadCertificateAuthority');
  }
  const subject = parseSubject(opts.subject);
  const usage = checkUsage(opts.usage);
  const keyType = checkKeyType(opts.keyType ?? 'rsa-2048', 'keyType');
  const { dns, ip } = checkAltNames(opts.dnsNames, opts.ipAddresses);
  const serialNumber = opts.serialNumber === undefined ? randomSerialNumber() : checkSerialNumber(opts.serialNumber);
  const validity = validityOf(opts, 365);
  const issuerCert = new x509.X509Certificate(ca.certPem);
  const keys = await generateKeyPair(keyType);
  const extensions = await leafExtensions(keys.publicKey, issuerCert, {
    usage,
    keyType,
    dns,
    ip,
    omitExtendedKeyUsage: opts.omitExtendedKeyUsage,
    crlDistributionPoint: opts.crlDistributionPoint,
    ocspUrl: opts.ocspUrl,
  });
  const signed = await signCertificate({
    subject,
    issuer: issuerCert.subjectName,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingKeyType: ca.keyType,
    serialNumber,
    ...validity,
    extensions,
  });
  return {
    certPem: signed.certPem,
    keyPem: await exportPrivateKeyPem(keys.privateKey),
    chainPem: [signed.certPem, ...ca.intermediatesPem].join(''),
    serialNumber: signed.serialNumber,
    thumbprint: certificateThumbprint(signed.certPem),
    keyType,
  };
}

export interface CreateSelfSignedCertificateOptions {
  subject: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Default rsa-2048. */
  keyType?: KeyType;
  /** Default 'server'. */
  usage?: Usage;
  /** Default 365. */
  validDays?: number;
}

/** A self-signed end-entity certificate (cA:false): trusted only when its own PEM is the trust anchor. */
export async function createSelfSignedCertificate(opts: CreateSelfSignedCertificateOptions): Promise<IssuedCertificate> {
  const subject = parseSubject(opts.subject);
  const usage = checkUsage(opts.usage ?? 'server');
  const keyType = checkKeyType(opts.keyType ?? 'rsa-2048', 'keyType');
  const { dns, ip } = checkAltNames(opts.dnsNames, opts.ipAddresses);
  const keys = await generateKeyPair(keyType);
  const signed = await signCertificate({
    subject,
    issuer: subject,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingKeyType: keyType,
    serialNumber: randomSerialNumber(),
    ...validityOf({ validDays: opts.validDays }, 365),
    extensions: await leafExtensions(keys.publicKey, undefined, { usage, keyType, dns, ip }),
  });
  return {
    certPem: signed.certPem,
    keyPem: await exportPrivateKeyPem(keys.privateKey),
    chainPem: signed.certPem,
    serialNumber: signed.serialNumber,
    thumbprint: certificateThumbprint(signed.certPem),
    keyType,
  };
}
