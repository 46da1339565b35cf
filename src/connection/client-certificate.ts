import { createHash, type X509Certificate } from 'node:crypto';
import { readCertificateNames, type CertificateNames, type SubjectAltName } from '../util/x509-names.js';

/**
 * A client certificate as plugins see it, whatever its source: the TLS handshake of this
 * connection, or a header set by a trusted TLS-terminating proxy (which replaces it per request).
 * Everything derived from the DER is computed on first use and remembered, because most requests
 * only ever need the thumbprint, or nothing.
 */
export interface ClientCertificate {
  readonly certificate: X509Certificate;
  /** RFC 8705 `x5t#S256`: base64url(SHA-256(DER of the leaf)), no padding. */
  readonly thumbprint: string;
  readonly source: 'tls' | 'header';
  /**
   * Intermediates the client sent after the leaf, nearest first. Empty on a resumed TLS session:
   * OpenSSL keeps only the leaf in a session, so verifiers must not rely on it being there.
   */
  readonly chain: readonly X509Certificate[];
  /** RFC 4514 subject, most specific first (`CN=client-app, OU=Dev, …, C=US`). */
  readonly subjectDn: string;
  readonly issuerDn: string;
  readonly commonName: string | null;
  readonly subjectAltNames: readonly SubjectAltName[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** CRL distribution point and OCSP responder URLs named by the leaf. */
  readonly revocation: CertificateNames['revocation'];
}

export type { SubjectAltName };

/** Wraps a leaf (and the intermediates sent with it) as a ClientCertificate. */
export function createClientCertificate(
  certificate: X509Certificate,
  chain: readonly X509Certificate[],
  source: 'tls' | 'header',
): ClientCertificate {
  return new LazyClientCertificate(certificate, chain, source);
}

class LazyClientCertificate implements ClientCertificate {
  readonly certificate: X509Certificate;
  readonly chain: readonly X509Certificate[];
  readonly source: 'tls' | 'header';
  #thumbprint: string | undefined;
  #names: CertificateNames | undefined;

  constructor(certificate: X509Certificate, chain: readonly X509Certificate[], source: 'tls' | 'header') {
    this.certificate = certificate;
    this.chain = Object.freeze([...chain]);
    this.source = source;
  }

  get thumbprint(): string {
    this.#thumbprint ??= certificateThumbprint(this.certificate.raw);
    return this.#thumbprint;
  }

  get #parsed(): CertificateNames {
    this.#names ??= readCertificateNames(this.certificate);
    return this.#names;
  }

  get subjectDn(): string {
    return this.#parsed.subjectDn;
  }

  get issuerDn(): string {
    return this.#parsed.issuerDn;
  }

  get commonName(): string | null {
    return this.#parsed.commonName;
  }

  get subjectAltNames(): readonly SubjectAltName[] {
    return this.#parsed.subjectAltNames;
  }

  get revocation(): CertificateNames['revocation'] {
    return this.#parsed.revocation;
  }

  get notBefore(): Date {
    return new Date(this.certificate.validFrom);
  }

  get notAfter(): Date {
    return new Date(this.certificate.validTo);
  }
}

/** RFC 8705 §3.1: base64url(SHA-256(DER)), without padding. */
export function certificateThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}
