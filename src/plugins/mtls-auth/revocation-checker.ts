import type { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import * as pkijs from 'pkijs';
import type { ClientCertificate } from '../../connection/client-certificate.js';
import { readCrl, type VerifiedCrl } from '../../util/crl.js';
import { createOcspRequest, readOcspResponse } from '../../util/ocsp.js';
import { RevocationError } from '../../util/revocation-error.js';
import { describeUrl, parseRevocationUrl, RevocationHttpClient } from '../../util/revocation-http.js';

/** The revocation status of one certificate, as far as it could be had. */
export type RevocationStatus =
  | { readonly status: 'good' | 'revoked'; readonly source: 'ocsp' | 'crl' }
  | { readonly status: 'unknown'; /** Why, safe to log: error codes and URL origins only. */ readonly detail: string };

/** One certificate to check, described once per verification and reused by every request on it. */
export interface RevocationSubject {
  /** Cache key: the issuing CA (SHA-256 of its DER) and the serial number. */
  readonly key: string;
  readonly thumbprint: string;
  readonly leaf: X509Certificate;
  /** The CA certificate that signed `leaf`; null if none of the candidates did. */
  readonly issuer: X509Certificate | null;
  readonly ocsp: readonly string[];
  readonly crl: readonly string[];
}

export interface RevocationCheckerOptions {
  /** For the log only: the authenticator decides what an unknown status means. */
  readonly mode: 'IGNORE_CA_ERROR' | 'STRICT';
  /** `cert_cache_ttl`: how long (ms) an answer is reused; 0: never. */
  readonly cacheTtlMs: number;
  /** `http_timeout` (ms). */
  readonly httpTimeoutMs: number;
  /** `ssl_verify`. */
  readonly sslVerify: boolean;
  readonly trustedCaPems: readonly string[];
  readonly logger: Logger;
}

export interface RevocationChecker {
  /** The certificate's status: cached, joined to a fetch in flight, or fetched. Never rejects. */
  check(subject: RevocationSubject): Promise<RevocationStatus>;
  /** Closes the HTTP connections to responders. */
  close(): Promise<void>;
}

/** How long a failure to get an answer is remembered, so a dead responder is not asked on every request. */
const unknownRetryMs = 10_000;
const maxCachedAnswers = 10_000;
const maxCachedCrls = 256;

/**
 * Kong's order: OCSP first (each http(s) responder of the AIA), then the CRL distribution points;
 * the first answer that can be believed wins. Answers are cached per (issuer, serial) for
 * `cert_cache_ttl`, never past the answer's nextUpdate; CRLs per (issuer, URL), so one download
 * serves every certificate of that CA; concurrent checks share one fetch. Built once per plugin
 * instance, like the trust store.
 */
export function createRevocationChecker(options: RevocationCheckerOptions): RevocationChecker {
  const answers = new Map<string, { status: RevocationStatus; until: number }>();
  const answersInFlight = new Map<string, Promise<RevocationStatus>>();
  const crls = new Map<string, { crl: VerifiedCrl; until: number }>();
  const crlsInFlight = new Map<string, Promise<VerifiedCrl>>();
  let http: RevocationHttpClient | undefined;
  const client = (): RevocationHttpClient =>
    (http ??= new RevocationHttpClient({ sslVerify: options.sslVerify, timeoutMs: options.httpTimeoutMs, trustedCaPems: options.trustedCaPems }));

  const remember = <T extends { until: number }>(map: Map<string, T>, max: number, key: string, value: T): void => {
    if (options.cacheTtlMs <= 0 || value.until <= Date.now()) return;
    if (map.size >= max) map.clear();
    map.set(key, value);
  };

  /** now + cert_cache_ttl, but not past the answer's own nextUpdate. */
  const expiry = (now: number, nextUpdate: Date | undefined): number =>
    Math.min(now + options.cacheTtlMs, nextUpdate?.getTime() ?? Number.POSITIVE_INFINITY);

  async function resolve(subject: RevocationSubject): Promise<RevocationStatus> {
    let status: RevocationStatus;
    let until: number;
    try {
      ({ status, until } = await ask(subject));
    } catch (error) {
      // Programming errors end here too: an exception must become neither a pass nor a 500.
      status = { status: 'unknown', detail: error instanceof Error ? error.message : String(error) };
      until = 0;
    }
    if (status.status === 'unknown') {
      // From now, not from the start: a fetch that timed out after http_timeout must still be remembered.
      until = Date.now() + Math.min(options.cacheTtlMs, unknownRetryMs);
      const outcome = options.mode === 'STRICT' ? 'refused (STRICT)' : 'let through (IGNORE_CA_ERROR)';
      options.logger.warn(
        { thumbprint: subject.thumbprint, reason: 'revocation_unknown', detail: status.detail },
        `client certificate revocation status unavailable; ${outcome}`,
      );
    }
    remember(answers, maxCachedAnswers, subject.key, { status, until });
    return status;
  }

  async function ask(subject: RevocationSubject): Promise<{ status: RevocationStatus; until: number }> {
    const now = Date.now();
    // An unknown status's `until` is set by resolve().
    if (subject.issuer === null) return { status: { status: 'unknown', detail: 'the issuing CA certificate is not known' }, until: 0 };
    const leaf = pkijs.Certificate.fromBER(subject.leaf.raw);
    const issuer = pkijs.Certificate.fromBER(subject.issuer.raw);
    const problems: string[] = [];
    for (const text of subject.ocsp) {
      const url = parseRevocationUrl(text);
      if (url === null) continue;
      try {
        const request = await createOcspRequest(leaf, issuer);
        const body = await client().postOcsp(url, request.der);
        const answer = await readOcspResponse(body, { leaf, issuer, nonce: request.nonce, now: new Date() });
        return { status: { status: answer.status, source: 'ocsp' }, until: expiry(now, answer.nextUpdate) };
      } catch (error) {
        problems.push(`OCSP ${describeUrl(url)}: ${describeProblem(error)}`);
      }
    }
    for (const text of subject.crl) {
      const url = parseRevocationUrl(text);
      if (url === null) continue;
      try {
        const { crl, until } = await loadCrl(url, subject.issuer, issuer);
        return { status: { status: crl.isRevoked(leaf) ? 'revoked' : 'good', source: 'crl' }, until };
      } catch (error) {
        problems.push(`CRL ${describeUrl(url)}: ${describeProblem(error)}`);
      }
    }
    const detail = problems.length > 0 ? problems.join('; ') : 'no http(s) OCSP responder or CRL distribution point';
    return { status: { status: 'unknown', detail }, until: 0 };
  }

  async function loadCrl(url: URL, issuerCertificate: X509Certificate, issuer: pkijs.Certificate): Promise<{ crl: VerifiedCrl; until: number }> {
    const key = `${issuerCertificate.fingerprint256} ${url.href}`;
    const cached = crls.get(key);
    if (cached !== undefined && cached.until > Date.now()) return cached;
    let pending = crlsInFlight.get(key);
    if (pending === undefined) {
      pending = (async () => readCrl(await client().getCrl(url), issuer, new Date()))();
      crlsInFlight.set(key, pending);
      const settled = (): void => void crlsInFlight.delete(key);
      pending.then(settled, settled);
    }
    const started = Date.now();
    const crl = await pending;
    const entry = { crl, until: expiry(started, crl.nextUpdate) };
    remember(crls, maxCachedCrls, key, entry);
    return entry;
  }

  return {
    check(subject) {
      const cached = answers.get(subject.key);
      if (cached !== undefined && cached.until > Date.now()) return Promise.resolve(cached.status);
      let pending = answersInFlight.get(subject.key);
      if (pending === undefined) {
        pending = resolve(subject);
        answersInFlight.set(subject.key, pending);
        // resolve() never rejects.
        void pending.then(() => answersInFlight.delete(subject.key));
      }
      return pending;
    },
    async close() {
      await http?.close();
    },
  };
}

/**
 * Describes `certificate` for revocation checks, finding its issuer among `candidates` (the
 * configured CAs, then the intermediates the client sent) by name and signature. Cheap enough for
 * the verification step, which runs once per TLS connection or thumbprint.
 */
export function describeRevocationSubject(certificate: ClientCertificate, candidates: readonly X509Certificate[]): RevocationSubject {
  const leaf = certificate.certificate;
  const issuer = candidates.find((candidate) => leaf.checkIssued(candidate) && leaf.verify(candidate.publicKey)) ?? null;
  return {
    key: issuer === null ? `unknown-issuer ${certificate.thumbprint}` : `${issuer.fingerprint256} ${leaf.serialNumber.toLowerCase()}`,
    thumbprint: certificate.thumbprint,
    leaf,
    issuer,
    ocsp: certificate.revocation.ocsp,
    crl: certificate.revocation.crl,
  };
}

function describeProblem(error: unknown): string {
  if (error instanceof RevocationError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
