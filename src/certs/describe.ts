// What `portcullis certs inspect` shows about a certificate: enough to debug a TLS or token-binding
// failure (whose CA, which names, still valid, which x5t#S256) without reaching for openssl.
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { reverseRdns } from './params.js';
import { certificateThumbprint, derToPem, splitPem } from './pem.js';
import { x509 } from './x509.js';

/** A certificate's facts; the keys are the JSON `portcullis certs inspect --json` prints. */
export interface CertificateDescription {
  /** RFC 4514, most specific first (`CN=client-app, OU=Dev, …, C=US`): what Keycloak's Subject DN field takes. */
  subject: string;
  issuer: string;
  /** Lower-case hex. */
  serial_number: string;
  not_before: string;
  not_after: string;
  expired: boolean;
  not_yet_valid: boolean;
  self_signed: boolean;
  ca: boolean;
  key: { type: string; bits?: number; curve?: string };
  signature_algorithm: string;
  dns_names: string[];
  ip_addresses: string[];
  key_usage: string[];
  extended_key_usage: string[];
  /** SHA-256 of the DER, colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  sha256_fingerprint: string;
  /** RFC 8705 thumbprint: what a certificate-bound token carries in `cnf["x5t#S256"]`. */
  'x5t#S256': string;
}

/** The certificates found in a file's bytes, and in what form. */
export interface CertificateFile {
  format: 'pem' | 'der';
  /** Every certificate, in file order, as PEM. */
  certificatesPem: string[];
}

const extendedKeyUsageNames: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const curveNames: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/**
 * Reads the certificates of a PEM file (a chain or bundle: every CERTIFICATE block) or a DER file
 * (one certificate). Throws a TypeError saying what the bytes look like when there is none.
 */
export function readCertificateFile(bytes: Uint8Array): CertificateFile {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const blocks = splitPem(text);
    const certificatesPem = blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => b.pem);
    if (certificatesPem.length === 0) {
      const labels = [...new Set(blocks.map((b) => b.label))];
      throw new TypeError(`no CERTIFICATE block in the PEM file${labels.length === 0 ? '' : ` (it holds ${labels.join(', ')})`}`);
    }
    return { format: 'pem', certificatesPem };
  }
  try {
    return { format: 'der', certificatesPem: [derToPem(new NodeX509Certificate(Buffer.from(bytes)).raw, 'CERTIFICATE')] };
  } catch {
    throw new TypeError(
      'not a PEM or DER certificate (for a PKCS#12 file, extract it first: openssl pkcs12 -in FILE -nokeys | portcullis certs inspect -)',
    );
  }
}

/** Describes one certificate (PEM); `now` decides `expired` and `not_yet_valid`. */
export function describeCertificate(certPem: string, now: Date = new Date()): CertificateDescription {
  const cert = new x509.X509Certificate(certPem);
  const node = new NodeX509Certificate(certPem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  const extendedKeyUsage = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const signature = cert.signatureAlgorithm as { name: string; hash?: { name: string } };
  return {
    subject: rfc4514(cert.subjectName),
    issuer: rfc4514(cert.issuerName),
    serial_number: cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
    not_before: cert.notBefore.toISOString(),
    not_after: cert.notAfter.toISOString(),
    expired: now.getTime() > cert.notAfter.getTime(),
    not_yet_valid: now.getTime() < cert.notBefore.getTime(),
    self_signed: node.checkIssued(node) && node.verify(node.publicKey),
    ca: node.ca,
    key: keyOf(node),
    signature_algorithm: signature.hash === undefined ? signature.name : `${signature.name} with ${signature.hash.name}`,
    dns_names: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ip_addresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    key_usage: keyUsage === null ? [] : keyUsageNames(keyUsage.usages),
    extended_key_usage: extendedKeyUsage === null ? [] : Array.from(extendedKeyUsage.usages, (u) => extendedKeyUsageNames[String(u)] ?? String(u)),
    sha256_fingerprint: node.fingerprint256,
    'x5t#S256': certificateThumbprint(certPem),
  };
}

/** The description as aligned `label: value` lines, for people. */
export function formatCertificateDescription(d: CertificateDescription, now: Date = new Date()): string {
  const dayMs = 86_400_000;
  let state: string;
  if (d.expired) state = `EXPIRED ${Math.floor((now.getTime() - Date.parse(d.not_after)) / dayMs)} days ago`;
  else if (d.not_yet_valid) state = 'NOT YET VALID';
  else state = `valid, ${Math.floor((Date.parse(d.not_after) - now.getTime()) / dayMs)} days left`;
  const key = [d.key.type, d.key.curve, d.key.bits === undefined ? undefined : `${d.key.bits} bits`].filter((x) => x !== undefined).join(' ');
  const rows: [string, string][] = [
    ['subject', d.subject],
    ['issuer', d.self_signed ? `${d.issuer} (self-signed)` : d.issuer],
    ['serial number', d.serial_number],
    ['not before', d.not_before],
    ['not after', `${d.not_after} (${state})`],
    ['key', key],
    ['signature', d.signature_algorithm],
    ['CA', d.ca ? 'yes' : 'no'],
  ];
  if (d.dns_names.length > 0) rows.push(['DNS names', d.dns_names.join(', ')]);
  if (d.ip_addresses.length > 0) rows.push(['IP addresses', d.ip_addresses.join(', ')]);
  if (d.key_usage.length > 0) rows.push(['key usage', d.key_usage.join(', ')]);
  if (d.extended_key_usage.length > 0) rows.push(['extended key usage', d.extended_key_usage.join(', ')]);
  rows.push(['SHA-256 fingerprint', d.sha256_fingerprint], ['x5t#S256', d['x5t#S256']]);
  return rows.map(([label, value]) => `${`${label}:`.padEnd(21)}${value}`).join('\n');
}

// RFC 4514 writes the most specific RDN first: the reverse of the DER order @peculiar/x509 prints.
function rfc4514(name: x509.Name): string {
  return reverseRdns(name).toString();
}

function keyOf(cert: NodeX509Certificate): CertificateDescription['key'] {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return { type: key.asymmetricKeyType === 'rsa' ? 'RSA' : 'RSA-PSS', ...(details.modulusLength === undefined ? {} : { bits: details.modulusLength }) };
    case 'ec': {
      const curve = details.namedCurve === undefined ? undefined : (curveNames[details.namedCurve] ?? details.namedCurve);
      const bits = { 'P-256': 256, 'P-384': 384, 'P-521': 521 }[curve ?? ''];
      return { type: 'EC', ...(curve === undefined ? {} : { curve }), ...(bits === undefined ? {} : { bits }) };
    }
    case 'ed25519':
      return { type: 'Ed25519', bits: 256 };
    case 'ed448':
      return { type: 'Ed448', bits: 456 };
    default:
      return { type: key.asymmetricKeyType ?? 'unknown' };
  }
}

function keyUsageNames(flags: number): string[] {
  const all: [x509.KeyUsageFlags, string][] = [
    [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
    [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
    [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
    [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
    [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
    [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
    [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
    [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
    [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
  ];
  return all.filter(([flag]) => (flags & flag) !== 0).map(([, name]) => name);
}
