// OCSP responses and CRLs made here with pkijs and @peculiar/x509, so that the answers a real
// responder never sends (forged, stale, replayed, from the wrong responder) can be tried too. The
// integration test (test/integration/client-cert-revocation.test.ts) covers real openssl output.
import assert from 'node:assert/strict';
import { randomBytes, webcrypto } from 'node:crypto';
import { before, describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { x509 } from '../certs/x509.js';
import { readCrl } from './crl.js';
import { createOcspRequest, readOcspResponse } from './ocsp.js';
import { RevocationError, type RevocationErrorCode } from './revocation-error.js';

interface Party {
  readonly name: string;
  readonly cert: pkijs.Certificate;
  readonly key: webcrypto.CryptoKey;
}

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const hour = 3_600_000;
const ocspSigning = '1.3.6.1.5.5.7.3.9';
const clientAuth = '1.3.6.1.5.5.7.3.2';
const nonceOid = '1.3.6.1.5.5.7.48.1.2';

async function make(name: string, issuer: Party | null, extensions: x509.Extension[]): Promise<Party> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(8).toString('hex')}`,
    subject: name,
    issuer: issuer?.name ?? name,
    notBefore: new Date(Date.now() - hour),
    notAfter: new Date(Date.now() + 24 * hour),
    publicKey: keys.publicKey,
    signingKey: issuer?.key ?? keys.privateKey,
    signingAlgorithm: algorithm,
    extensions,
  });
  return { name, cert: pkijs.Certificate.fromBER(cert.rawData), key: keys.privateKey };
}

const caExtensions = (usages: number) => [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(usages, true)];
const crlSigningCa = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
const leafExtensions = (eku: string) => [new x509.BasicConstraintsExtension(false, undefined, true), new x509.ExtendedKeyUsageExtension([eku])];

interface ResponseOptions {
  signer: Party;
  /** Certificates embedded in the response; default the signer's. */
  embed?: pkijs.Certificate[];
  /** Sign with this key instead of the signer's (a forged signature). */
  signingKey?: webcrypto.CryptoKey;
  about: pkijs.Certificate;
  issuer: pkijs.Certificate;
  status: 'good' | 'revoked' | 'unknown';
  thisUpdate?: Date;
  nextUpdate?: Date;
  nonce?: Uint8Array;
}

async function ocspResponse(o: ResponseOptions): Promise<Uint8Array> {
  const basic = new pkijs.BasicOCSPResponse();
  basic.tbsResponseData.responderID = o.signer.cert.subject;
  basic.tbsResponseData.producedAt = new Date();
  const certID = await pkijs.CertID.create(o.about, { hashAlgorithm: 'SHA-1', issuerCertificate: o.issuer });
  const single = new pkijs.SingleResponse({ certID, thisUpdate: o.thisUpdate ?? new Date(Date.now() - 60_000) });
  if (o.nextUpdate !== undefined) single.nextUpdate = o.nextUpdate;
  // CertStatus ::= CHOICE { good [0] NULL, revoked [1] RevokedInfo, unknown [2] UnknownInfo }
  single.certStatus =
    o.status === 'revoked'
      ? new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value: [new asn1js.GeneralizedTime({ valueDate: new Date(Date.now() - hour) })] })
      : new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: o.status === 'good' ? 0 : 2 } });
  basic.tbsResponseData.responses.push(single);
  if (o.nonce !== undefined) {
    basic.tbsResponseData.responseExtensions = [new pkijs.Extension({ extnID: nonceOid, extnValue: new Uint8Array(o.nonce).buffer })];
  }
  const embed = o.embed ?? [o.signer.cert];
  if (embed.length > 0) basic.certs = embed;
  await basic.sign(o.signingKey ?? o.signer.key, 'SHA-256');
  return wrapBasic(basic);
}

function wrapBasic(basic: pkijs.BasicOCSPResponse): Uint8Array {
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: '1.3.6.1.5.5.7.48.1.1',
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER(false));
}

async function rejectsWith(promise: Promise<unknown>, code: RevocationErrorCode): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof RevocationError, `expected a RevocationError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('OCSP (readOcspResponse, createOcspRequest)', () => {
  let ca: Party;
  let otherCa: Party;
  let leaf: Party;
  let otherLeaf: Party;
  let delegated: Party;
  let notDelegated: Party;
  let foreignResponder: Party;
  const now = () => new Date();

  before(async () => {
    ca = await make('CN=OCSP Test CA', null, caExtensions(crlSigningCa));
    otherCa = await make('CN=Other CA', null, caExtensions(crlSigningCa));
    [leaf, otherLeaf, delegated, notDelegated, foreignResponder] = await Promise.all([
      make('CN=leaf', ca, leafExtensions(clientAuth)),
      make('CN=other-leaf', ca, leafExtensions(clientAuth)),
      make('CN=Delegated Responder', ca, leafExtensions(ocspSigning)),
      make('CN=Not A Responder', ca, leafExtensions(clientAuth)),
      make('CN=Foreign Responder', otherCa, leafExtensions(ocspSigning)),
    ]);
  });

  const read = (der: Uint8Array, nonce: Uint8Array | null = null) => readOcspResponse(der, { leaf: leaf.cert, issuer: ca.cert, nonce, now: now() });

  it('builds a request pkijs reads back, for the certificate asked about and with a nonce', async () => {
    const request = await createOcspRequest(leaf.cert, ca.cert);
    const parsed = pkijs.OCSPRequest.fromBER(request.der);
    const id = await pkijs.CertID.create(leaf.cert, { hashAlgorithm: 'SHA-1', issuerCertificate: ca.cert });
    assert.ok(parsed.tbsRequest.requestList[0]?.reqCert.isEqual(id));
    const nonce = parsed.tbsRequest.requestExtensions?.find((e) => e.extnID === nonceOid);
    assert.ok(nonce !== undefined && Buffer.from(nonce.extnValue.valueBlock.valueHexView).equals(request.nonce));
  });

  it('believes the CA itself, even when it embeds no certificate', async () => {
    const answer = await read(await ocspResponse({ signer: ca, embed: [], about: leaf.cert, issuer: ca.cert, status: 'good', nextUpdate: new Date(Date.now() + hour) }));
    assert.equal(answer.status, 'good');
    assert.ok(answer.nextUpdate !== undefined);
  });

  it('believes a responder the CA delegated to with id-kp-OCSPSigning', async () => {
    assert.equal((await read(await ocspResponse({ signer: delegated, about: leaf.cert, issuer: ca.cert, status: 'revoked' }))).status, 'revoked');
  });

  it('refuses a responder certificate without id-kp-OCSPSigning', async () => {
    await rejectsWith(read(await ocspResponse({ signer: notDelegated, about: leaf.cert, issuer: ca.cert, status: 'good' })), 'ERR_OCSP_SIGNATURE');
  });

  it('refuses an OCSP signer issued by another CA', async () => {
    await rejectsWith(
      read(await ocspResponse({ signer: foreignResponder, embed: [foreignResponder.cert, otherCa.cert], about: leaf.cert, issuer: ca.cert, status: 'good' })),
      'ERR_OCSP_SIGNATURE',
    );
  });

  it('refuses a forged signature', async () => {
    await rejectsWith(read(await ocspResponse({ signer: delegated, signingKey: foreignResponder.key, about: leaf.cert, issuer: ca.cert, status: 'good' })), 'ERR_OCSP_SIGNATURE');
  });

  it('refuses an answer past its nextUpdate or not yet valid', async () => {
    const stale = { signer: ca, about: leaf.cert, issuer: ca.cert, status: 'good' as const, thisUpdate: new Date(Date.now() - 3 * hour), nextUpdate: new Date(Date.now() - hour) };
    await rejectsWith(read(await ocspResponse(stale)), 'ERR_REVOCATION_STALE');
    await rejectsWith(read(await ocspResponse({ signer: ca, about: leaf.cert, issuer: ca.cert, status: 'good', thisUpdate: new Date(Date.now() + hour) })), 'ERR_REVOCATION_STALE');
  });

  it('refuses an echoed nonce that is not the one sent (a replay), accepts the right one', async () => {
    const sent = (await createOcspRequest(leaf.cert, ca.cert)).nonce;
    const other = (await createOcspRequest(leaf.cert, ca.cert)).nonce;
    await rejectsWith(read(await ocspResponse({ signer: ca, about: leaf.cert, issuer: ca.cert, status: 'good', nonce: other }), sent), 'ERR_OCSP_NONCE');
    assert.equal((await read(await ocspResponse({ signer: ca, about: leaf.cert, issuer: ca.cert, status: 'good', nonce: sent }), sent)).status, 'good');
  });

  it('treats unknown, an answer about another certificate, tryLater and garbage as no answer', async () => {
    await rejectsWith(read(await ocspResponse({ signer: ca, about: leaf.cert, issuer: ca.cert, status: 'unknown' })), 'ERR_OCSP_UNKNOWN');
    await rejectsWith(read(await ocspResponse({ signer: ca, about: otherLeaf.cert, issuer: ca.cert, status: 'good' })), 'ERR_OCSP_NO_STATUS');
    const tryLater = new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: 3 }) });
    await rejectsWith(read(new Uint8Array(tryLater.toSchema().toBER(false))), 'ERR_OCSP_RESPONSE_STATUS');
    await rejectsWith(read(new Uint8Array([1, 2, 3])), 'ERR_REVOCATION_MALFORMED');
  });
});

describe('CRL (readCrl)', () => {
  let ca: Party;
  let impostor: Party;
  let noCrlSign: Party;
  let revoked: Party;
  let good: Party;

  before(async () => {
    [ca, impostor, noCrlSign] = await Promise.all([
      make('CN=CRL Test CA', null, caExtensions(crlSigningCa)),
      // Same name, different key: a CRL it signs must not pass as the real CA's.
      make('CN=CRL Test CA', null, caExtensions(crlSigningCa)),
      make('CN=No CRL Signing CA', null, caExtensions(x509.KeyUsageFlags.keyCertSign)),
    ]);
    [revoked, good] = await Promise.all([make('CN=revoked', ca, leafExtensions(clientAuth)), make('CN=good', ca, leafExtensions(clientAuth))]);
  });

  const serialOf = (party: Party) => Buffer.from(party.cert.serialNumber.valueBlock.valueHexView).toString('hex');

  async function crl(signer: Party, options: { thisUpdate?: Date; nextUpdate?: Date; extensions?: x509.Extension[] } = {}): Promise<x509.X509Crl> {
    return x509.X509CrlGenerator.create({
      issuer: signer.name,
      thisUpdate: options.thisUpdate ?? new Date(Date.now() - 60_000),
      nextUpdate: options.nextUpdate ?? new Date(Date.now() + hour),
      entries: [{ serialNumber: serialOf(revoked), revocationDate: new Date(Date.now() - hour), reason: x509.X509CrlReason.keyCompromise }],
      extensions: options.extensions ?? [],
      signingAlgorithm: algorithm,
      signingKey: signer.key,
    });
  }

  it('answers for the CA’s certificates from a DER or PEM CRL', async () => {
    const made = await crl(ca);
    for (const bytes of [new Uint8Array(made.rawData), new Uint8Array(Buffer.from(made.toString('pem')))]) {
      const verified = await readCrl(bytes, ca.cert, new Date());
      assert.equal(verified.isRevoked(revoked.cert), true);
      assert.equal(verified.isRevoked(good.cert), false);
    }
  });

  it('refuses a CRL signed by another key under the CA’s name', async () => {
    await rejectsWith(readCrl(new Uint8Array((await crl(impostor)).rawData), ca.cert, new Date()), 'ERR_CRL_SIGNATURE');
  });

  it('refuses a CRL from a CA whose keyUsage lacks cRLSign', async () => {
    await rejectsWith(readCrl(new Uint8Array((await crl(noCrlSign)).rawData), noCrlSign.cert, new Date()), 'ERR_CRL_SIGNATURE');
  });

  it('refuses a CRL past its nextUpdate', async () => {
    const stale = await crl(ca, { thisUpdate: new Date(Date.now() - 3 * hour), nextUpdate: new Date(Date.now() - hour) });
    await rejectsWith(readCrl(new Uint8Array(stale.rawData), ca.cert, new Date()), 'ERR_REVOCATION_STALE');
  });

  it('refuses a delta CRL, which cannot answer alone', async () => {
    const delta = new x509.Extension('2.5.29.27', true, new asn1js.Integer({ value: 1 }).toBER(false));
    await rejectsWith(readCrl(new Uint8Array((await crl(ca, { extensions: [delta] })).rawData), ca.cert, new Date()), 'ERR_CRL_UNSUPPORTED');
  });

  it('refuses bytes that are not a CRL', async () => {
    await rejectsWith(readCrl(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), ca.cert, new Date()), 'ERR_REVOCATION_MALFORMED');
  });
});
