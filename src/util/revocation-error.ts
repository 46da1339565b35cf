/**
 * Why a revocation answer (OCSP response or CRL) could not be had or could not be believed. Every
 * one of these means "status unknown", never "revoked": STRICT refuses the certificate then,
 * IGNORE_CA_ERROR lets it through.
 */
export type RevocationErrorCode =
  /** The responder or CRL server did not answer in time, refused the connection, or sent a non-2xx. */
  | 'ERR_REVOCATION_FETCH'
  /** The answer was larger than the limit for its kind. */
  | 'ERR_REVOCATION_TOO_LARGE'
  /** The URL is not http(s) (e.g. an LDAP distribution point). */
  | 'ERR_REVOCATION_URL_UNSUPPORTED'
  /** The bytes are not a DER (or PEM) OCSP response / CRL. */
  | 'ERR_REVOCATION_MALFORMED'
  /** OCSPResponseStatus other than successful (tryLater, unauthorized, …), or no basic response. */
  | 'ERR_OCSP_RESPONSE_STATUS'
  /** Signature invalid, or signed by someone neither the CA nor its delegated OCSP responder. */
  | 'ERR_OCSP_SIGNATURE'
  /** The response carries no status for the certificate asked about. */
  | 'ERR_OCSP_NO_STATUS'
  /** The responder answered `unknown` for the certificate. */
  | 'ERR_OCSP_UNKNOWN'
  /** The response echoes a different nonce than the one sent (a replay). */
  | 'ERR_OCSP_NONCE'
  /** thisUpdate in the future or nextUpdate in the past (OCSP or CRL). */
  | 'ERR_REVOCATION_STALE'
  /** CRL signature invalid, or the CRL is not the issuing CA's (name, cRLSign). */
  | 'ERR_CRL_SIGNATURE'
  /** A CRL we cannot apply alone: delta, indirect, partitioned by reason or CA-only, unknown critical extension. */
  | 'ERR_CRL_UNSUPPORTED';

/** A revocation answer that could not be had or believed; `message` is safe to log (no URLs with credentials). */
export class RevocationError extends Error {
  readonly code: RevocationErrorCode;
  constructor(code: RevocationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RevocationError';
    this.code = code;
  }
}

/** Clock skew tolerated on thisUpdate/nextUpdate, as OpenSSL's OCSP_check_validity callers commonly allow. */
export const revocationClockSkewMs = 5 * 60_000;

/** Throws ERR_REVOCATION_STALE unless `now` lies within [thisUpdate − skew, nextUpdate + skew]. */
export function checkUpdateWindow(what: string, thisUpdate: Date, nextUpdate: Date | undefined, now: Date): void {
  if (thisUpdate.getTime() > now.getTime() + revocationClockSkewMs) {
    throw new RevocationError('ERR_REVOCATION_STALE', `${what} thisUpdate ${thisUpdate.toISOString()} is in the future`);
  }
  if (nextUpdate !== undefined && nextUpdate.getTime() < now.getTime() - revocationClockSkewMs) {
    throw new RevocationError('ERR_REVOCATION_STALE', `${what} expired at its nextUpdate ${nextUpdate.toISOString()}`);
  }
}
