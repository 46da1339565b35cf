import type { webcrypto } from 'node:crypto';
import type { KeyType } from './keys.js';

/** A certificate and its private key, both PEM; the key is PKCS#8 (`BEGIN PRIVATE KEY`). */
export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

/** A certificate issued by `issueCertificate` or `createSelfSignedCertificate`. */
export interface IssuedCertificate extends KeyAndCert {
  /** The leaf followed by every intermediate up to (not including) the root: what a TLS peer sends. */
  chainPem: string;
  /** Serial number, lower-case hex without leading zero octets. */
  serialNumber: string;
  /** RFC 8705 `x5t#S256`: base64url(SHA-256(DER of the certificate)). */
  thumbprint: string;
  keyType: KeyType;
}

/** A CA that can sign: its certificate and key, plus what signing and chain building need. */
export interface CertificateAuthority extends KeyAndCert {
  keyType: KeyType;
  /** The signing key (non-extractable when loaded from PEM; `keyPem` is the portable form). */
  privateKey: webcrypto.CryptoKey;
  /** basicConstraints pathLenConstraint, or undefined when unlimited. */
  pathLength: number | undefined;
  /** This CA (unless it is the root) and the CAs between it and the root, nearest first; [] for a root. */
  intermediatesPem: readonly string[];
  /** The self-signed root this CA chains to (its own certificate for a root): the trust anchor. */
  rootPem: string;
}
