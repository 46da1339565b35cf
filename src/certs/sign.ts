import type { webcrypto } from 'node:crypto';
import { algorithmOf, type KeyType } from './keys.js';
import { derToPem } from './pem.js';
import { x509 } from './x509.js';

export interface SignParams {
  subject: x509.Name;
  /** The issuer's subject exactly as encoded in its certificate; the subject itself when self-signed. */
  issuer: x509.Name;
  publicKey: webcrypto.CryptoKey;
  signingKey: webcrypto.CryptoKey;
  signingKeyType: KeyType;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  extensions: x509.Extension[];
}

/** Signs a certificate with SHA-256 (sha256WithRSAEncryption or ecdsa-with-SHA256); returns its PEM. */
export async function signCertificate(params: SignParams): Promise<{ certPem: string; serialNumber: string }> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: params.serialNumber,
    subject: params.subject,
    issuer: params.issuer,
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    publicKey: params.publicKey,
    signingKey: params.signingKey,
    signingAlgorithm: algorithmOf(params.signingKeyType),
    extensions: params.extensions,
  });
  return { certPem: derToPem(new Uint8Array(cert.rawData), 'CERTIFICATE'), serialNumber: cert.serialNumber.toLowerCase() };
}
