/**
 * Certificates are checked with node:crypto at load time, so a bad PEM is a configuration error with
 * a path rather than a TLS failure at the first handshake. The SHA-256 of the DER is kept on the draft:
 * it is `cert_digest` and the identity from which an id is derived.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { ErrorList } from '../errors.js';
import { checkSni } from '../hosts.js';
import { isRecord, joinPath } from '../paths.js';
import { type CaCertificateDraft, type CertificateDraft, stringField } from '../collect.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/g;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseCertificate(pem: string, at: string, errors: ErrorList): X509Certificate | null {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    errors.add(at, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
    return null;
  }
  try {
    return new X509Certificate(pem);
  } catch (error) {
    errors.add(at, `invalid certificate: ${reason(error)}`);
    return null;
  }
}

function parseKey(pem: string, at: string, errors: ErrorList): KeyObject | null {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(pem) || /passphrase/i.test(reason(error));
    errors.add(at, encrypted ? 'encrypted private keys are not supported' : `invalid private key: ${reason(error)}`);
    return null;
  }
}

function digestOf(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

/** Adds the errors of one CA certificate and records its digest. */
export function checkCaCertificate(ca: CaCertificateDraft, errors: ErrorList, now: Date): void {
  const pem = stringField(ca.raw, 'cert');
  if (pem === undefined) return;
  const at = joinPath(ca.path, 'cert');
  if ((pem.match(PEM_CERTIFICATE) ?? []).length > 1) {
    errors.add(at, 'must contain exactly one certificate; add one ca_certificates entry per CA');
    return;
  }
  const cert = parseCertificate(pem, at, errors);
  if (cert === null) return;
  ca.digest = digestOf(cert);
  if (!cert.ca) errors.add(at, 'certificate does not appear to be a CA because it is missing the "CA" basic constraint');
  if (new Date(cert.validTo).getTime() < now.getTime()) errors.add(at, 'certificate expired, "Not After" time is in the past');
  const given = stringField(ca.raw, 'cert_digest');
  if (given !== undefined && given.toLowerCase() !== ca.digest) {
    errors.add(joinPath(ca.path, 'cert_digest'), `does not match the certificate (its SHA-256 is ${ca.digest})`);
  }
}

/** Checks a certificate/key pair; returns the certificate's public key type when both are good. */
function checkPair(draft: CertificateDraft, certField: string, keyField: string, errors: ErrorList): string | null {
  const certPem = stringField(draft.raw, certField);
  const keyPem = stringField(draft.raw, keyField);
  const cert = certPem === undefined ? null : parseCertificate(certPem, joinPath(draft.path, certField), errors);
  const key = keyPem === undefined ? null : parseKey(keyPem, joinPath(draft.path, keyField), errors);
  if (cert !== null && certField === 'cert') draft.digest = digestOf(cert);
  if (cert === null || key === null) return null;
  if (!cert.checkPrivateKey(key)) {
    errors.add(joinPath(draft.path, keyField), `does not match the certificate in '${certField}'`);
    return null;
  }
  return cert.publicKey.asymmetricKeyType ?? null;
}

/** Adds the errors of one certificate (pairs, alternative pair, SNI names) and records its digest. */
export function checkCertificate(draft: CertificateDraft, errors: ErrorList): void {
  const mainType = checkPair(draft, 'cert', 'key', errors);
  const hasCertAlt = draft.raw.cert_alt !== undefined;
  const hasKeyAlt = draft.raw.key_alt !== undefined;
  if (hasCertAlt !== hasKeyAlt) {
    errors.add(joinPath(draft.path, hasCertAlt ? 'key_alt' : 'cert_alt'), "'cert_alt' and 'key_alt' must be set together");
  } else if (hasCertAlt) {
    const altType = checkPair(draft, 'cert_alt', 'key_alt', errors);
    if (mainType !== null && altType !== null && mainType === altType) {
      errors.add(
        joinPath(draft.path, 'cert_alt'),
        `must use another key type than 'cert' (both are ${mainType}); pair RSA with ECDSA`,
      );
    }
  }
  const snis = draft.raw.snis;
  if (!Array.isArray(snis)) return;
  snis.forEach((item: unknown, i) => {
    const name = typeof item === 'string' ? item : isRecord(item) && typeof item.name === 'string' ? item.name : null;
    if (name === null) return;
    const message = checkSni(name.toLowerCase(), true);
    const at = joinPath(joinPath(draft.path, 'snis'), i);
    if (message !== null) errors.add(typeof item === 'string' ? at : joinPath(at, 'name'), message);
  });
}

/** The SNIs of a certificate entry (`name` or `{ name, id?, tags? }`): name lower-cased, id if given, tags. */
export function sniItems(raw: Record<string, unknown>): Array<{ name: string; id: string | null; tags: readonly string[]; index: number }> {
  const snis = Array.isArray(raw.snis) ? (raw.snis as unknown[]) : [];
  return snis.flatMap((item, index) => {
    if (typeof item === 'string') return [{ name: item.toLowerCase(), id: null, tags: [], index }];
    if (!isRecord(item) || typeof item.name !== 'string') return [];
    const id = typeof item.id === 'string' ? item.id.toLowerCase() : null;
    const tags = Array.isArray(item.tags) ? item.tags.filter((t): t is string => typeof t === 'string') : [];
    return [{ name: item.name.toLowerCase(), id, tags, index }];
  });
}

/** The SNI names of a certificate entry (`name` or `{ name }`), lower-cased. */
export function sniNames(raw: Record<string, unknown>): Array<[string, number]> {
  const snis = raw.snis;
  if (!Array.isArray(snis)) return [];
  return snis.flatMap((item: unknown, i): Array<[string, number]> => {
    if (typeof item === 'string') return [[item.toLowerCase(), i]];
    if (isRecord(item) && typeof item.name === 'string') return [[item.name.toLowerCase(), i]];
    return [];
  });
}
