import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import {
  certificateThumbprint,
  createCertificateAuthority,
  createSelfSignedCertificate,
  issueCertificate,
  loadCertificateAuthority,
  pemToDer,
  splitPem,
  type CertificateAuthority,
  type IssuedCertificate,
} from './index.js';
import { x509 } from './x509.js';

const tutorialSubject = 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US';

describe('certificates made by src/certs', () => {
  let ca: CertificateAuthority;
  let server: IssuedCertificate;
  let client: IssuedCertificate;

  before(async () => {
    ca = await createCertificateAuthority({ subject: 'CN=Portcullis Dev Root CA' });
    server = await issueCertificate({
      ca,
      subject: 'CN=localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    client = await issueCertificate({ ca, subject: tutorialSubject, usage: 'client', keyType: 'ec-p256' });
  });

  it('a leaf verifies against its CA with Node and names it as issuer', () => {
    const caCert = new X509Certificate(ca.certPem);
    const leaf = new X509Certificate(server.certPem);
    assert.equal(leaf.verify(caCert.publicKey), true);
    assert.equal(leaf.checkIssued(caCert), true);
    assert.equal(caCert.ca, true);
    assert.equal(leaf.ca, false);
    assert.equal(caCert.verify(caCert.publicKey), true, 'the root is self-signed');
  });

  it('a server certificate matches localhost, 127.0.0.1 and ::1 and nothing else', () => {
    const leaf = new X509Certificate(server.certPem);
    assert.equal(leaf.checkHost('localhost'), 'localhost');
    assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(leaf.checkIP('::1'), '::1');
    assert.equal(leaf.checkHost('example.com'), undefined);
    assert.equal(leaf.checkIP('127.0.0.2'), undefined);
    assert.equal(leaf.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  });

  it('the tutorial subject is encoded in OpenSSL order, C first and CN last', () => {
    const leaf = new X509Certificate(client.certPem);
    assert.equal(leaf.subject, 'C=US\nST=State\nL=City\nO=ClientOrg\nOU=Dev\nCN=client-app');
    assert.equal(leaf.issuer, 'CN=Portcullis Dev Root CA');
  });

  it('carries basicConstraints, keyUsage, extendedKeyUsage and key identifiers', () => {
    const caCert = new x509.X509Certificate(ca.certPem);
    const leaf = new x509.X509Certificate(server.certPem);
    const caBasic = caCert.getExtension(x509.BasicConstraintsExtension);
    assert.equal(caBasic?.ca, true);
    assert.equal(caBasic?.critical, true);
    const basic = leaf.getExtension(x509.BasicConstraintsExtension);
    assert.equal(basic?.ca, false);
    assert.equal(basic?.critical, true);
    const usage = leaf.getExtension(x509.KeyUsagesExtension);
    assert.ok(usage !== null && (usage.usages & x509.KeyUsageFlags.digitalSignature) !== 0);
    assert.ok((caCert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign);
    assert.deepEqual([...(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], ['1.3.6.1.5.5.7.3.1']);
    const clientEku = new x509.X509Certificate(client.certPem).getExtension(x509.ExtendedKeyUsageExtension);
    assert.deepEqual([...(clientEku?.usages ?? [])], ['1.3.6.1.5.5.7.3.2']);
    const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    assert.ok(ski !== undefined && ski.length > 0);
    assert.equal(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, ski);
    assert.ok(leaf.getExtension(x509.SubjectKeyIdentifierExtension) !== null);
  });

  it('signs with SHA-256, serials are random and positive, notBefore is back-dated', () => {
    const leaf = new X509Certificate(server.certPem);
    const peculiar = new x509.X509Certificate(server.certPem);
    assert.deepEqual(peculiar.signatureAlgorithm, { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    assert.equal(leaf.serialNumber.toLowerCase(), server.serialNumber);
    assert.match(server.serialNumber, /^[4-7][0-9a-f]{31}$/);
    assert.notEqual(server.serialNumber, client.serialNumber);
    const notBefore = new Date(leaf.validFrom).getTime();
    assert.ok(notBefore < Date.now() - 60_000, 'notBefore is in the past');
    const days = (new Date(leaf.validTo).getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 364 && days <= 365, `valid for 365 days, got ${days}`);
  });

  it('defaults to RSA-2048 leaves and writes PKCS#8 keys that match the certificate', () => {
    const key = createPrivateKey(server.keyPem);
    assert.match(server.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(key.asymmetricKeyType, 'rsa');
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(new X509Certificate(server.certPem).checkPrivateKey(key), true);
    const ecKey = createPrivateKey(client.keyPem);
    assert.equal(ecKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(new X509Certificate(client.certPem).checkPrivateKey(ecKey), true);
  });

  it('reports the RFC 8705 thumbprint and converts PEM to DER', () => {
    const der = pemToDer(client.certPem);
    assert.deepEqual(der, new X509Certificate(client.certPem).raw);
    assert.equal(client.thumbprint, createHash('sha256').update(der).digest('base64url'));
    assert.equal(certificateThumbprint(client.certPem), client.thumbprint);
    assert.equal(client.thumbprint.length, 43);
    assert.throws(() => pemToDer('not a pem'), TypeError);
  });

  it('an intermediate CA chains leaf → intermediate → root', async () => {
    const intermediate = await createCertificateAuthority({ subject: 'CN=Dev Intermediate CA', issuer: ca, keyType: 'ec-p256' });
    const leaf = await issueCertificate({ ca: intermediate, subject: 'CN=intermediate-app', usage: 'client', keyType: 'ec-p256' });
    const [leafPem, interPem, ...rest] = splitPem(leaf.chainPem).map((b) => b.pem);
    assert.equal(leafPem, leaf.certPem);
    assert.equal(interPem, intermediate.certPem);
    assert.deepEqual(rest, []);
    const interCert = new X509Certificate(intermediate.certPem);
    assert.equal(new X509Certificate(leaf.certPem).verify(interCert.publicKey), true);
    assert.equal(interCert.verify(new X509Certificate(ca.certPem).publicKey), true);
    assert.equal(interCert.ca, true);
    assert.equal(intermediate.pathLength, 0);
    assert.equal(intermediate.rootPem, ca.certPem);
    const peculiar = new x509.X509Certificate(intermediate.certPem);
    assert.equal(peculiar.getExtension(x509.BasicConstraintsExtension)?.pathLength, 0);
    await assert.rejects(createCertificateAuthority({ subject: 'CN=Too deep', issuer: intermediate }), /pathLength 0/);
  });

  it('puts CRL distribution point, OCSP URL and a chosen serial in the certificate', async () => {
    const leaf = await issueCertificate({
      ca,
      subject: 'CN=revocable',
      usage: 'client',
      keyType: 'ec-p256',
      crlDistributionPoint: 'http://127.0.0.1:8999/ca.crl',
      ocspUrl: 'http://127.0.0.1:8998/',
      serialNumber: '1000',
      omitExtendedKeyUsage: true,
    });
    const node = new X509Certificate(leaf.certPem);
    assert.equal(node.serialNumber, '1000');
    assert.match(node.infoAccess ?? '', /OCSP - URI:http:\/\/127\.0\.0\.1:8998\//);
    const peculiar = new x509.X509Certificate(leaf.certPem);
    assert.ok(peculiar.getExtension(x509.CRLDistributionPointsExtension) !== null);
    assert.equal(peculiar.getExtension(x509.ExtendedKeyUsageExtension), null);
    assert.equal(node.keyUsage, undefined, 'Node only lists extended key usages, and there are none');
  });

  it('honours notBefore/notAfter, including a certificate that has already expired', async () => {
    const notBefore = new Date(Date.now() - 3 * 86_400_000);
    const notAfter = new Date(Date.now() - 86_400_000);
    const leaf = await issueCertificate({ ca, subject: 'CN=expired', usage: 'client', keyType: 'ec-p256', notBefore, notAfter });
    const node = new X509Certificate(leaf.certPem);
    assert.equal(new Date(node.validTo).getTime(), Math.floor(notAfter.getTime() / 1000) * 1000);
    assert.equal(new Date(node.validFrom).getTime(), Math.floor(notBefore.getTime() / 1000) * 1000);
  });

  it('makes self-signed leaves that are not CAs', async () => {
    const self = await createSelfSignedCertificate({ subject: 'CN=self', keyType: 'ec-p256', dnsNames: ['localhost'] });
    const node = new X509Certificate(self.certPem);
    assert.equal(node.ca, false);
    assert.equal(node.verify(node.publicKey), true);
    assert.equal(node.subject, node.issuer);
    assert.equal(self.chainPem, self.certPem);
  });

  it('loads a CA back from PEM and issues with it', async () => {
    const loaded = await loadCertificateAuthority({ certPem: ca.certPem, keyPem: ca.keyPem });
    assert.equal(loaded.keyType, 'rsa-2048');
    assert.equal(loaded.rootPem, ca.certPem);
    assert.deepEqual(loaded.intermediatesPem, []);
    const leaf = await issueCertificate({ ca: loaded, subject: 'CN=from-loaded', usage: 'client', keyType: 'ec-p256' });
    assert.equal(new X509Certificate(leaf.certPem).verify(new X509Certificate(ca.certPem).publicKey), true);
    await assert.rejects(loadCertificateAuthority({ certPem: ca.certPem, keyPem: client.keyPem }), /does not belong/);
    await assert.rejects(loadCertificateAuthority({ certPem: server.certPem, keyPem: server.keyPem }), /not a CA/);
  });

  it('refuses bad options with a TypeError naming the option', async () => {
    const bad: [Parameters<typeof issueCertificate>[0], RegExp][] = [
      [{ ca, subject: 'client-app', usage: 'client' }, /subject/],
      [{ ca, subject: 'CN=x', usage: 'nobody' as 'client' }, /usage/],
      [{ ca, subject: 'CN=x', usage: 'client', keyType: 'rsa-1024' as 'rsa-2048' }, /keyType/],
      [{ ca, subject: 'CN=x', usage: 'client', ipAddresses: ['localhost'] }, /ipAddresses/],
      [{ ca, subject: 'CN=x', usage: 'client', ipAddresses: ['::ffff:127.0.0.1'] }, /ipAddresses/],
      [{ ca, subject: 'CN=x', usage: 'client', dnsNames: ['bad name'] }, /dnsNames/],
      [{ ca, subject: 'CN=x', usage: 'client', validDays: 0 }, /validDays/],
      [{ ca, subject: 'CN=x', usage: 'client', notBefore: new Date(), notAfter: new Date(Date.now() - 1000) }, /notAfter/],
      [{ ca, subject: 'CN=x', usage: 'client', serialNumber: 'xyz' }, /serialNumber/],
      [{ ca, subject: 'CN=x', usage: 'client', ocspUrl: 'not a url' }, /ocspUrl/],
    ];
    for (const [opts, message] of bad) {
      await assert.rejects(issueCertificate({ ...opts, keyType: opts.keyType ?? 'ec-p256' }), (error: unknown) => {
        assert.ok(error instanceof TypeError, String(error));
        assert.match(error.message, message);
        return true;
      });
    }
  });
});
