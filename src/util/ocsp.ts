import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { checkUpdateWindow, RevocationError } from './revocation-error.js';

/**
 * RFC 6960 OCSP, client side: the request for one certificate and the checks on the answer. All
 * encoding, parsing and signature work is pkijs's; this module decides what to believe.
 */

const nonceOid = '1.3.6.1.5.5.7.48.1.2';
const basicResponseOid = '1.3.6.1.5.5.7.48.1.1';
const responseStatusNames = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(4)', 'sigRequired', 'unauthorized'];

export interface OcspRequest {
  /** DER of the OCSPRequest, to POST as application/ocsp-request. */
  readonly der: Uint8Array;
  /** extnValue of the nonce extension sent, to compare with the one a responder echoes. */
  readonly nonce: Uint8Array;
}

/** The status of one certificate as a verified OCSP response states it. */
export interface OcspAnswer {
  readonly status: 'good' | 'revoked';
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

/**
 * An OCSPRequest for `leaf` with a SHA-1 CertID (RFC 5019: what every responder understands; the
 * hash only names the issuer, it protects nothing) and an RFC 8954 nonce.
 */
export async function createOcspRequest(leaf: pkijs.Certificate, issuer: pkijs.Certificate): Promise<OcspRequest> {
  const request = new pkijs.OCSPRequest();
  await request.createForCertificate(leaf, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer });
  const nonce = new Uint8Array(new asn1js.OctetString({ valueHex: randomBytes(16) }).toBER(false));
  request.tbsRequest.requestExtensions = [new pkijs.Extension({ extnID: nonceOid, critical: false, extnValue: nonce.buffer })];
  return { der: new Uint8Array(request.toSchema(true).toBER(false)), nonce };
}

export interface OcspExpectation {
  readonly leaf: pkijs.Certificate;
  /** The CA that issued `leaf`: the response must be signed by it or by a responder it delegated to. */
  readonly issuer: pkijs.Certificate;
  /** The nonce sent; a response that echoes another one is refused. null: none was sent. */
  readonly nonce: Uint8Array | null;
  readonly now: Date;
}

/**
 * Reads an OCSPResponse and returns the status of `leaf`, or throws a RevocationError when the
 * response cannot be believed: not successful, signed by neither the CA nor a responder the CA
 * issued with id-kp-OCSPSigning (pkijs's RFC 6960 §4.2.2.2 check), nonce mismatch, no status for
 * the certificate, outside thisUpdate/nextUpdate, or `unknown`.
 */
export async function readOcspResponse(der: Uint8Array, expected: OcspExpectation): Promise<OcspAnswer> {
  const response = parse('OCSP response', () => pkijs.OCSPResponse.fromBER(der));
  const statusCode = response.responseStatus.valueBlock.valueDec;
  if (statusCode !== 0) {
    throw new RevocationError('ERR_OCSP_RESPONSE_STATUS', `OCSP responder answered ${responseStatusNames[statusCode] ?? `status ${statusCode}`}`);
  }
  const bytes = response.responseBytes;
  if (bytes === undefined || bytes.responseType !== basicResponseOid) {
    throw new RevocationError('ERR_OCSP_RESPONSE_STATUS', 'OCSP response is not a basic OCSP response');
  }
  const basic = parse('basic OCSP response', () => pkijs.BasicOCSPResponse.fromBER(bytes.response.valueBlock.valueHexView));

  // A CA answering for itself may leave its own certificate out; pkijs looks for the signer among
  // the embedded certificates only, so the issuer is added as a candidate (matched by responderID).
  const issuerDer = Buffer.from(expected.issuer.toSchema(true).toBER(false));
  const embedded = basic.certs ?? [];
  if (!embedded.some((c) => issuerDer.equals(Buffer.from(c.toSchema(true).toBER(false))))) basic.certs = [...embedded, expected.issuer];
  let verified: boolean;
  try {
    verified = await basic.verify({ trustedCerts: [expected.issuer], issuerCerts: [expected.issuer] });
  } catch (error) {
    throw new RevocationError('ERR_OCSP_SIGNATURE', `OCSP response not signed by the CA or its responder: ${messageOf(error)}`, { cause: error });
  }
  if (!verified) throw new RevocationError('ERR_OCSP_SIGNATURE', 'OCSP response signature is invalid');

  if (expected.nonce !== null) {
    // RFC 8954: a responder may omit the nonce (pre-produced responses); if it echoes one, it must be ours.
    const echoed = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === nonceOid);
    if (echoed !== undefined && !Buffer.from(echoed.extnValue.valueBlock.valueHexView).equals(expected.nonce)) {
      throw new RevocationError('ERR_OCSP_NONCE', 'OCSP response nonce does not match the request');
    }
  }

  const single = await findSingleResponse(basic, expected.leaf, expected.issuer);
  if (single === undefined) throw new RevocationError('ERR_OCSP_NO_STATUS', 'OCSP response has no status for the certificate');
  checkUpdateWindow('OCSP response', single.thisUpdate, single.nextUpdate, expected.now);
  const { status } = await basic.getCertificateStatus(expected.leaf, expected.issuer);
  if (status === 0) return { status: 'good', thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  if (status === 1) return { status: 'revoked', thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  throw new RevocationError('ERR_OCSP_UNKNOWN', 'OCSP responder does not know the certificate');
}

/** The SingleResponse whose CertID names `leaf` (in whatever hash algorithm the responder chose). */
async function findSingleResponse(basic: pkijs.BasicOCSPResponse, leaf: pkijs.Certificate, issuer: pkijs.Certificate): Promise<pkijs.SingleResponse | undefined> {
  for (const single of basic.tbsResponseData.responses) {
    const hashAlgorithm = certIdHashes[single.certID.hashAlgorithm.algorithmId];
    if (hashAlgorithm === undefined) continue;
    const id = await pkijs.CertID.create(leaf, { hashAlgorithm, issuerCertificate: issuer });
    if (single.certID.isEqual(id)) return single;
  }
  return undefined;
}

/** CertID hash algorithms by OID (RFC 5019 SHA-1, and the SHA-2 family some responders use). */
const certIdHashes: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

function parse<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new RevocationError('ERR_REVOCATION_MALFORMED', `not a DER ${what}: ${messageOf(error)}`, { cause: error });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
