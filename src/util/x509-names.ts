import type { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';

/** One subjectAltName entry, as RFC 5280 types it. */
export interface SubjectAltName {
  readonly type: 'dns' | 'uri' | 'email' | 'ip';
  readonly value: string;
}

/** Subject and SAN facts of a certificate, read from its DER with pkijs (never from OpenSSL's text output). */
export interface CertificateNames {
  /** RFC 4514 string, most specific RDN first: `CN=client-app, OU=Dev, …, C=US`. */
  readonly subjectDn: string;
  readonly issuerDn: string;
  /** The last (most specific) CN of the subject, or null. */
  readonly commonName: string | null;
  readonly subjectAltNames: readonly SubjectAltName[];
  /** Where revocation status is published: CRL distribution point and OCSP responder URLs. */
  readonly revocation: { readonly crl: readonly string[]; readonly ocsp: readonly string[] };
}

const shortNames: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.11': 'OU',
  '2.5.4.10': 'O',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '2.5.4.5': 'serialNumber',
};

/** Parses the names of `certificate`. Throws when the DER is not a certificate pkijs can read. */
export function readCertificateNames(certificate: X509Certificate): CertificateNames {
  const parsed = pkijs.Certificate.fromBER(certificate.raw);
  const subject = attributes(parsed.subject);
  const cn = subject.filter(([type]) => type === 'CN').map(([, value]) => value);
  return {
    subjectDn: toRfc4514(subject),
    issuerDn: toRfc4514(attributes(parsed.issuer)),
    commonName: cn[cn.length - 1] ?? null,
    subjectAltNames: altNames(parsed),
    revocation: { crl: crlUrls(parsed), ocsp: ocspUrls(parsed) },
  };
}

function attributes(name: pkijs.RelativeDistinguishedNames): Array<[string, string]> {
  return name.typesAndValues.map((tv) => {
    const block = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock;
    const value = typeof block?.value === 'string' ? block.value : tv.value.toString();
    return [shortNames[tv.type] ?? tv.type, value];
  });
}

// RFC 4514 §2: RDNs in reverse of their DER order, with the special characters escaped.
function toRfc4514(rdns: Array<[string, string]>): string {
  return rdns
    .slice()
    .reverse()
    .map(([type, value]) => `${type}=${escapeValue(value)}`)
    .join(', ');
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\"+,;<>=]/g, (c) => `\\${c}`);
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

const sanOid = '2.5.29.17';

function altNames(certificate: pkijs.Certificate): SubjectAltName[] {
  const extension = certificate.extensions?.find((e) => e.extnID === sanOid);
  const parsed = extension?.parsedValue as pkijs.AltName | undefined;
  if (parsed === undefined) return [];
  const out: SubjectAltName[] = [];
  for (const name of parsed.altNames) {
    const value: unknown = name.value;
    if (name.type === 1 && typeof value === 'string') out.push({ type: 'email', value });
    else if (name.type === 2 && typeof value === 'string') out.push({ type: 'dns', value });
    else if (name.type === 6 && typeof value === 'string') out.push({ type: 'uri', value });
    else if (name.type === 7) {
      const ip = ipText(value);
      if (ip !== null) out.push({ type: 'ip', value: ip });
    }
  }
  return out;
}

function ipText(value: unknown): string | null {
  const bytes = (value as { valueBlock?: { valueHexView?: Uint8Array } }).valueBlock?.valueHexView;
  if (bytes === undefined) return null;
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return null;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

function crlUrls(certificate: pkijs.Certificate): string[] {
  const parsed = certificate.extensions?.find((e) => e.extnID === '2.5.29.31')?.parsedValue as pkijs.CRLDistributionPoints | undefined;
  const out: string[] = [];
  for (const point of parsed?.distributionPoints ?? []) {
    const names = point.distributionPoint;
    if (!Array.isArray(names)) continue;
    for (const name of names) if (name.type === 6 && typeof name.value === 'string') out.push(name.value);
  }
  return out;
}

function ocspUrls(certificate: pkijs.Certificate): string[] {
  const parsed = certificate.extensions?.find((e) => e.extnID === '1.3.6.1.5.5.7.1.1')?.parsedValue as pkijs.InfoAccess | undefined;
  const out: string[] = [];
  for (const description of parsed?.accessDescriptions ?? []) {
    const location = description.accessLocation;
    if (description.accessMethod === '1.3.6.1.5.5.7.48.1' && location.type === 6 && typeof location.value === 'string') out.push(location.value);
  }
  return out;
}
