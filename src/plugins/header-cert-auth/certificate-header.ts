import { X509Certificate } from 'node:crypto';

/**
 * Parsing of the headers through which a TLS-terminating proxy forwards the client certificate.
 * Shared with openid-connect (`proof_of_possession_mtls_from_header`): one parser, one set of
 * error codes.
 *
 * - `url_encoded`: URL-encoded PEM, leaf first, optionally followed by its chain (nginx
 *   `$ssl_client_escaped_cert`, AWS ALB `X-Amzn-Mtls-Clientcert`).
 * - `base64_encoded`: base64 of the DER (Azure `X-ARR-ClientCert`, Cloudflare) or of PEM text.
 * - `rfc9440`: RFC 9440 `Client-Cert`, a structured-field byte sequence `:base64(DER):`.
 * - `xfcc`: Envoy's `X-Forwarded-Client-Cert`; the `Cert` (and `Chain`) of the last element,
 *   the one the nearest proxy (the trusted one) appended.
 */
export type CertificateHeaderFormat = 'url_encoded' | 'base64_encoded' | 'rfc9440' | 'xfcc';

export type CertificateHeaderErrorCode =
  | 'ERR_CERT_HEADER_EMPTY'
  | 'ERR_CERT_HEADER_MALFORMED'
  | 'ERR_CERT_HEADER_NOT_A_CERTIFICATE';

/** A header that could not be read as a certificate; `code` is stable, `message` safe to log. */
export class CertificateHeaderError extends Error {
  readonly code: CertificateHeaderErrorCode;
  constructor(code: CertificateHeaderErrorCode, message: string) {
    super(message);
    this.name = 'CertificateHeaderError';
    this.code = code;
  }
}

/** A certificate read from a header: the leaf and any intermediates sent with it, nearest first. */
export interface HeaderCertificate {
  readonly leaf: X509Certificate;
  readonly chain: readonly X509Certificate[];
}

/** Larger than any sane chain; bounds the work a hostile header can cause. */
const maxHeaderLength = 64 * 1024;
const maxChainLength = 8;

/**
 * Parses one header value (`string[]` when the header was repeated, which is an error: which copy
 * would be the proxy's?). Throws a CertificateHeaderError; never anything else.
 */
export function parseCertificateHeader(value: string | readonly string[], format: CertificateHeaderFormat): HeaderCertificate {
  if (typeof value !== 'string') {
    if (value.length !== 1) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'the certificate header was sent more than once');
    return parseCertificateHeader(value[0] ?? '', format);
  }
  const text = value.trim();
  if (text === '') throw new CertificateHeaderError('ERR_CERT_HEADER_EMPTY', 'the certificate header is empty');
  if (text.length > maxHeaderLength) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'the certificate header is too large');
  switch (format) {
    case 'url_encoded':
      return fromPemText(decodeUrl(text));
    case 'base64_encoded':
      return fromBase64(text);
    case 'rfc9440':
      return { leaf: toCertificate(sfBinary(text)), chain: [] };
    case 'xfcc':
      return fromXfcc(text);
  }
}

/** RFC 9440 `Client-Cert-Chain`: an sf-list of byte sequences, nearest intermediate first. */
export function parseCertificateChainHeader(value: string): X509Certificate[] {
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length > maxChainLength) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'the certificate chain is too long');
  return items.map((item) => toCertificate(sfBinary(item)));
}

function decodeUrl(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'the certificate header is not valid URL encoding');
  }
}

const base64Text = /^[A-Za-z0-9+/]+={0,2}$/;

function fromBase64(text: string): HeaderCertificate {
  if (!base64Text.test(text)) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'the certificate header is not base64');
  const bytes = Buffer.from(text, 'base64');
  const asText = bytes.subarray(0, 11).toString('latin1');
  return asText === '-----BEGIN ' ? fromPemText(bytes.toString('latin1')) : { leaf: toCertificate(bytes), chain: [] };
}

const pemCertificate = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

function fromPemText(text: string): HeaderCertificate {
  // Some proxies replace the PEM's newlines with spaces or tabs; base64 ignores whitespace anyway.
  const blocks = [...text.matchAll(pemCertificate)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
  const leafDer = blocks[0];
  if (leafDer === undefined) throw new CertificateHeaderError('ERR_CERT_HEADER_NOT_A_CERTIFICATE', 'no PEM certificate in the header');
  if (blocks.length > maxChainLength + 1) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'the certificate chain is too long');
  return { leaf: toCertificate(leafDer), chain: blocks.slice(1).map(toCertificate) };
}

/** RFC 8941 §3.3.5 byte sequence: `:` base64 `:`, nothing else (no parameters accepted). */
function sfBinary(text: string): Buffer {
  const match = /^:([A-Za-z0-9+/]*={0,2}):$/.exec(text.trim());
  if (match === null) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'not a structured-field byte sequence (:base64:)');
  return Buffer.from(match[1] ?? '', 'base64');
}

function fromXfcc(text: string): HeaderCertificate {
  const elements = splitOutsideQuotes(text, ',');
  const last = elements[elements.length - 1];
  if (last === undefined) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'empty X-Forwarded-Client-Cert');
  let cert: string | undefined;
  let chain: string | undefined;
  for (const pair of splitOutsideQuotes(last, ';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'X-Forwarded-Client-Cert element without key=value');
    const key = pair.slice(0, eq).trim().toLowerCase();
    const raw = pair.slice(eq + 1).trim();
    const unquoted = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    if (key === 'cert') cert = unquoted;
    else if (key === 'chain') chain = unquoted;
  }
  if (cert === undefined) throw new CertificateHeaderError('ERR_CERT_HEADER_NOT_A_CERTIFICATE', 'X-Forwarded-Client-Cert has no Cert=');
  const leaf = fromPemText(decodeUrl(cert));
  // Envoy's Chain= holds the leaf and the chain; keep only what follows the leaf.
  const rest = chain === undefined ? leaf.chain : fromPemText(decodeUrl(chain)).chain;
  return { leaf: leaf.leaf, chain: rest };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\\' && quoted) {
      current += c + (text[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === separator && !quoted) {
      parts.push(current.trim());
      current = '';
    } else {
      current += c;
    }
  }
  if (quoted) throw new CertificateHeaderError('ERR_CERT_HEADER_MALFORMED', 'unterminated quoted string');
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

function toCertificate(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new CertificateHeaderError('ERR_CERT_HEADER_NOT_A_CERTIFICATE', 'the header does not hold an X.509 certificate');
  }
}
