import * as pkijs from 'pkijs';
import { checkUpdateWindow, RevocationError } from './revocation-error.js';

/**
 * RFC 5280 CRLs: read one, check that the issuing CA signed it and that it is current, then answer
 * for any certificate of that CA. Parsing and the signature check are pkijs's.
 */

/** A CRL whose signature, issuer and update window were checked. */
export interface VerifiedCrl {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  /** Whether the CRL lists `certificate` (same issuer name, same serial number). */
  isRevoked(certificate: pkijs.Certificate): boolean;
}

const deltaCrlIndicator = '2.5.29.27';
const issuingDistributionPoint = '2.5.29.28';
const keyUsageOid = '2.5.29.15';
// RFC 7468 says `X509 CRL`; some tools write `CRL`.
const pemCrl = /-----BEGIN (?:X509 )?CRL-----([A-Za-z0-9+/=\s]+)-----END (?:X509 )?CRL-----/;

/**
 * Reads a CRL (DER, or PEM as some servers publish it) issued by `issuer`, or throws a
 * RevocationError: malformed, not this CA's or badly signed, a CRL that cannot be applied alone
 * (delta, indirect, scoped to CA certificates or some reasons), or outside thisUpdate/nextUpdate.
 */
export async function readCrl(bytes: Uint8Array, issuer: pkijs.Certificate, now: Date): Promise<VerifiedCrl> {
  let crl: pkijs.CertificateRevocationList;
  try {
    crl = pkijs.CertificateRevocationList.fromBER(toDer(bytes));
  } catch (error) {
    throw new RevocationError('ERR_REVOCATION_MALFORMED', `not a DER or PEM CRL: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!crl.issuer.isEqual(issuer.subject)) throw new RevocationError('ERR_CRL_SIGNATURE', 'the CRL is not issued by the certificate’s CA');
  if (!permitsCrlSigning(issuer)) throw new RevocationError('ERR_CRL_SIGNATURE', 'the CA’s keyUsage does not include cRLSign');
  checkScope(crl);
  let signed: boolean;
  try {
    // pkijs also refuses a CRL with a critical extension it does not know.
    signed = await crl.verify({ issuerCertificate: issuer });
  } catch (error) {
    throw new RevocationError('ERR_CRL_SIGNATURE', `CRL signature not verifiable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!signed) throw new RevocationError('ERR_CRL_SIGNATURE', 'CRL signature is invalid');
  const thisUpdate = crl.thisUpdate.value;
  const nextUpdate = crl.nextUpdate?.value;
  checkUpdateWindow('CRL', thisUpdate, nextUpdate, now);
  return { thisUpdate, nextUpdate, isRevoked: (certificate) => crl.isCertificateRevoked(certificate) };
}

function toDer(bytes: Uint8Array): Uint8Array {
  if (bytes[0] === 0x30) return bytes;
  const match = pemCrl.exec(Buffer.from(bytes).toString('latin1'));
  if (match === null) return bytes;
  return Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64');
}

/** Only a complete, direct CRL covering end-entity certificates for every reason answers alone. */
function checkScope(crl: pkijs.CertificateRevocationList): void {
  for (const extension of crl.crlExtensions?.extensions ?? []) {
    if (extension.extnID === deltaCrlIndicator) throw new RevocationError('ERR_CRL_UNSUPPORTED', 'delta CRLs are not supported');
    if (extension.extnID !== issuingDistributionPoint) continue;
    const idp = extension.parsedValue as pkijs.IssuingDistributionPoint | undefined;
    if (idp === undefined) throw new RevocationError('ERR_CRL_UNSUPPORTED', 'unreadable issuingDistributionPoint');
    if (idp.indirectCRL) throw new RevocationError('ERR_CRL_UNSUPPORTED', 'indirect CRLs are not supported');
    if (idp.onlyContainsCACerts || idp.onlyContainsAttributeCerts) throw new RevocationError('ERR_CRL_UNSUPPORTED', 'the CRL does not cover end-entity certificates');
    if (idp.onlySomeReasons !== undefined) throw new RevocationError('ERR_CRL_UNSUPPORTED', 'CRLs partitioned by reason are not supported');
  }
}

/** RFC 5280 §6.3.3 (f): the CA must be allowed to sign CRLs (no keyUsage extension: any use). */
function permitsCrlSigning(issuer: pkijs.Certificate): boolean {
  const extension = issuer.extensions?.find((e) => e.extnID === keyUsageOid);
  if (extension === undefined) return true;
  const bits = (extension.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined)?.valueBlock?.valueHexView;
  // KeyUsage BIT STRING: bit 6 (cRLSign) is 0x02 of the first octet.
  return bits !== undefined && bits.length > 0 && ((bits[0] ?? 0) & 0x02) !== 0;
}
