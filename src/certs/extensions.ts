// The X.509 extensions a CA or leaf gets. Criticality follows RFC 5280 and the CA/Browser Forum
// profile: basicConstraints and keyUsage critical, the rest not.
import type { webcrypto } from 'node:crypto';
import type { KeyType } from './keys.js';
import { x509 } from './x509.js';

/** Which TLS roles a leaf certificate may play. */
export type Usage = 'server' | 'client' | 'both';

const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';

/** Extensions of a CA certificate: cA true, certificate and CRL signing. */
export async function caExtensions(
  publicKey: webcrypto.CryptoKey,
  pathLength: number | undefined,
  issuerCert: x509.X509Certificate | undefined,
): Promise<x509.Extension[]> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
  if (issuerCert !== undefined) extensions.push(await authorityKeyIdentifier(issuerCert));
  return extensions;
}

export interface LeafExtensionOptions {
  usage: Usage;
  keyType: KeyType;
  dns: string[];
  ip: string[];
  omitExtendedKeyUsage?: boolean | undefined;
  crlDistributionPoint?: string | undefined;
  ocspUrl?: string | undefined;
}

/** Extensions of an end-entity certificate; `issuerCert` undefined means self-signed. */
export async function leafExtensions(
  publicKey: webcrypto.CryptoKey,
  issuerCert: x509.X509Certificate | undefined,
  opts: LeafExtensionOptions,
): Promise<x509.Extension[]> {
  // keyEncipherment only means something for RSA (TLS 1.2 RSA key transport); ECDHE needs just signing.
  let keyUsage = x509.KeyUsageFlags.digitalSignature;
  if (opts.keyType !== 'ec-p256') keyUsage |= x509.KeyUsageFlags.keyEncipherment;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsage, true),
  ];
  if (opts.omitExtendedKeyUsage !== true) {
    const usages = { server: [serverAuth], client: [clientAuth], both: [serverAuth, clientAuth] }[opts.usage];
    extensions.push(new x509.ExtendedKeyUsageExtension(usages, false));
  }
  const altNames = [
    ...opts.dns.map((value) => ({ type: 'dns' as const, value })),
    ...opts.ip.map((value) => ({ type: 'ip' as const, value })),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(publicKey));
  if (issuerCert !== undefined) extensions.push(await authorityKeyIdentifier(issuerCert));
  if (opts.crlDistributionPoint !== undefined) {
    extensions.push(new x509.CRLDistributionPointsExtension([checkUrl(opts.crlDistributionPoint, 'crlDistributionPoint')]));
  }
  if (opts.ocspUrl !== undefined) {
    extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: [checkUrl(opts.ocspUrl, 'ocspUrl')] }));
  }
  return extensions;
}

// The AKI must equal the issuer's SKI byte for byte, whatever method made that SKI, so it is copied
// from the issuer when present rather than recomputed.
async function authorityKeyIdentifier(issuerCert: x509.X509Certificate): Promise<x509.Extension> {
  const ski = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski !== null) return new x509.AuthorityKeyIdentifierExtension(ski.keyId, false);
  return x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey, false);
}

function checkUrl(value: unknown, option: string): string {
  if (typeof value === 'string' && URL.canParse(value)) return value;
  throw new TypeError(`${option} must be an absolute URL, got ${String(value)}`);
}

/** Throws a TypeError unless `usage` is server, client or both. */
export function checkUsage(usage: unknown, option = 'usage'): Usage {
  if (usage === 'server' || usage === 'client' || usage === 'both') return usage;
  throw new TypeError(`${option} must be 'server', 'client' or 'both', got ${String(usage)}`);
}
