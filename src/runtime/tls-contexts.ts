import { constants } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Certificate } from '../config/types.js';

/** The server certificate used when no `certificates` entity matches the SNI. */
export interface DefaultCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * Cipher suites of every server context: Mozilla's "intermediate" list, i.e. TLS 1.3 suites and, for
 * TLS 1.2, only ECDHE/DHE key exchange (forward secrecy) with AEAD ciphers. Node's default list also
 * accepts RSA key exchange (`AES128-GCM-SHA256`, `AES128-SHA`: no forward secrecy) and CBC with
 * SHA-1 (`ECDHE-RSA-AES128-SHA`); test/security/tls-protocols.test.ts checks they are refused.
 */
const serverCiphers = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * TLS settings shared by every server context (the listener's and each SNI certificate's): TLS ≥ 1.2,
 * forward-secret AEAD suites, and no TLS 1.2 renegotiation in OpenSSL itself (a client's new
 * ClientHello gets a no_renegotiation alert, the handshake never runs), so the certificate of a
 * connection cannot change under it. The listener's `disableRenegotiation()` is the second line: it
 * ends the connection. Node 24 completes a renegotiation the JS layer refuses before it closes.
 */
export const baseTlsOptions: SecureContextOptions = {
  minVersion: 'TLSv1.2',
  ciphers: serverCiphers,
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
};

/**
 * Server certificates by SNI, compiled once per configuration: exact names in a map, then
 * `*.example.com` / `example.*` wildcards, then the `*` certificate, then the default.
 */
export class TlsContexts {
  readonly #exact = new Map<string, SecureContext>();
  readonly #leadingWildcards = new Map<string, SecureContext>(); // key: '.example.com'
  readonly #trailingWildcards = new Map<string, SecureContext>(); // key: 'example.'
  readonly #fallback: SecureContext;
  /** How each context was made, to build its variant naming client CAs (`send_ca_dn`). */
  readonly #options = new Map<SecureContext, SecureContextOptions>();
  readonly #withCaNames = new Map<SecureContext, Map<string, SecureContext>>();

  constructor(certificates: readonly Certificate[], defaultCertificate: DefaultCertificate) {
    let catchAll: SecureContext | undefined;
    for (const certificate of certificates) {
      const context = this.#contextFor(certificate.cert, certificate.key, certificate.cert_alt, certificate.key_alt);
      for (const sni of certificate.snis) {
        if (sni === '*') catchAll = context;
        else if (sni.startsWith('*.')) this.#leadingWildcards.set(sni.slice(1), context);
        else if (sni.endsWith('.*')) this.#trailingWildcards.set(sni.slice(0, -1), context);
        else this.#exact.set(sni, context);
      }
    }
    this.#fallback = catchAll ?? this.#contextFor(defaultCertificate.certPem, defaultCertificate.keyPem, null, null);
  }

  /**
   * The context for an SNI, naming `caNames` (PEMs) in its CertificateRequest when any are given.
   * Variants are made on first use and kept for the life of this configuration.
   */
  selectNaming(servername: string | null, caNames: readonly string[]): SecureContext {
    const base = this.select(servername);
    if (caNames.length === 0) return base;
    const key = caNames.join('');
    let variants = this.#withCaNames.get(base);
    if (variants === undefined) this.#withCaNames.set(base, (variants = new Map<string, SecureContext>()));
    let variant = variants.get(key);
    if (variant === undefined) {
      variant = createSecureContext({ ...this.#options.get(base), ca: [...caNames] });
      variants.set(key, variant);
    }
    return variant;
  }

  #contextFor(cert: string, key: string, certAlt: string | null, keyAlt: string | null): SecureContext {
    // An alternate (e.g. ECDSA next to RSA) pair is served to clients that support it.
    const options: SecureContextOptions = { ...baseTlsOptions, cert: certAlt === null ? cert : [cert, certAlt], key: keyAlt === null ? key : [key, keyAlt] };
    const context = createSecureContext(options);
    this.#options.set(context, options);
    return context;
  }

  /** The context to serve for an SNI (lower-case) or for a client that sent none. */
  select(servername: string | null): SecureContext {
    if (servername === null || servername === '') return this.#fallback;
    const exact = this.#exact.get(servername);
    if (exact !== undefined) return exact;
    const dot = servername.indexOf('.');
    if (dot > 0) {
      const leading = this.#leadingWildcards.get(servername.slice(dot));
      if (leading !== undefined) return leading;
    }
    const lastDot = servername.lastIndexOf('.');
    if (lastDot > 0) {
      const trailing = this.#trailingWildcards.get(servername.slice(0, lastDot + 1));
      if (trailing !== undefined) return trailing;
    }
    return this.#fallback;
  }
}
