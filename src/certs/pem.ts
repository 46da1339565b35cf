import { createHash } from 'node:crypto';

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** DER bytes of the first PEM block in `pem` (any label). Throws a TypeError when there is none. */
export function pemToDer(pem: string): Buffer {
  const first = splitPem(pem)[0];
  if (first === undefined) throw new TypeError('pem: no PEM block found');
  return first.der;
}

/** Every PEM block in `pem`, in order, with its label (`CERTIFICATE`, `PRIVATE KEY`, …). */
export function splitPem(pem: string): { label: string; der: Buffer; pem: string }[] {
  const blocks: { label: string; der: Buffer; pem: string }[] = [];
  for (const match of pem.matchAll(pemBlock)) {
    const label = match[1] ?? '';
    const der = Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64');
    blocks.push({ label, der, pem: derToPem(der, label) });
  }
  return blocks;
}

/** PEM text for DER bytes: 64-column base64, ending with a newline so blocks concatenate into bundles. */
export function derToPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** RFC 8705 `x5t#S256` of a certificate: base64url(SHA-256(DER)), no padding. */
export function certificateThumbprint(certPem: string): string {
  return createHash('sha256').update(pemToDer(certPem)).digest('base64url');
}
