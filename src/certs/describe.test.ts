import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import {
  certificateThumbprint,
  createCertificateAuthority,
  describeCertificate,
  escapeRdnValue,
  formatCertificateDescription,
  issueCertificate,
  pemToDer,
  readCertificateFile,
  type CertificateAuthority,
} from './index.js';
import { x509 } from './x509.js';

const day = 86_400_000;

describe('describing a certificate', () => {
  let ca: CertificateAuthority;
  before(async () => {
    ca = await createCertificateAuthority({ subject: 'CN=Describe Test CA, O=Portcullis', keyType: 'ec-p256' });
  });

  it('reports names, key, usages and the x5t#S256 a cnf claim carries', async () => {
    const leaf = await issueCertificate({ ca, subject: 'CN=api, O=Org', usage: 'both', dnsNames: ['api.test'], ipAddresses: ['10.1.2.3', '::1'], keyType: 'ec-p256' });
    const d = describeCertificate(leaf.certPem);
    assert.equal(d.subject, 'CN=api, O=Org');
    assert.equal(d.issuer, 'CN=Describe Test CA, O=Portcullis');
    assert.equal(d.serial_number, leaf.serialNumber);
    assert.deepEqual(d.key, { type: 'EC', curve: 'P-256', bits: 256 });
    assert.deepEqual(d.dns_names, ['api.test']);
    assert.deepEqual(d.ip_addresses, ['10.1.2.3', '::1']);
    assert.deepEqual(d.key_usage, ['digitalSignature']);
    assert.deepEqual(d.extended_key_usage, ['serverAuth', 'clientAuth']);
    assert.equal(d.ca, false);
    assert.equal(d.self_signed, false);
    assert.equal(d['x5t#S256'], certificateThumbprint(leaf.certPem));
    assert.equal(d.sha256_fingerprint, new X509Certificate(leaf.certPem).fingerprint256);
    const ca_ = describeCertificate(ca.certPem);
    assert.equal(ca_.ca, true);
    assert.equal(ca_.self_signed, true);
    assert.match(formatCertificateDescription(ca_), /\(self-signed\)/);
  });

  it('says when a certificate has expired or is not yet valid', async () => {
    const expired = await issueCertificate({
      ca,
      subject: 'CN=old',
      usage: 'client',
      keyType: 'ec-p256',
      notBefore: new Date(Date.now() - 10 * day),
      notAfter: new Date(Date.now() - 3 * day),
    });
    const d = describeCertificate(expired.certPem);
    assert.equal(d.expired, true);
    assert.match(formatCertificateDescription(d), /EXPIRED [23] days ago/);
    const early = describeCertificate(expired.certPem, new Date(Date.now() - 20 * day));
    assert.equal(early.not_yet_valid, true);
    assert.equal(early.expired, false);
  });

  it('reads PEM bundles and DER, and says what a file holds when it has no certificate', async () => {
    const leaf = await issueCertificate({ ca, subject: 'CN=x', usage: 'client', keyType: 'ec-p256' });
    const bundle = readCertificateFile(Buffer.from(`${leaf.certPem}${ca.certPem}`));
    assert.equal(bundle.format, 'pem');
    assert.equal(bundle.certificatesPem.length, 2);
    const der = readCertificateFile(pemToDer(leaf.certPem));
    assert.equal(der.format, 'der');
    assert.equal(der.certificatesPem[0], leaf.certPem);
    assert.throws(() => readCertificateFile(Buffer.from(leaf.keyPem)), /no CERTIFICATE block .*\(it holds PRIVATE KEY\)/);
    assert.throws(() => readCertificateFile(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x03])), /not a PEM or DER certificate/);
  });

  it('escapes RFC 4514 specials so a name survives the round trip', async () => {
    const cn = '#weird, "name" + more;=x \\back ';
    const leaf = await issueCertificate({ ca, subject: `CN=${escapeRdnValue(cn)}, O=Org`, usage: 'client', keyType: 'ec-p256' });
    assert.deepEqual(new x509.X509Certificate(leaf.certPem).subjectName.toJSON(), [{ O: ['Org'] }, { CN: [cn] }]);
    const printed = describeCertificate(leaf.certPem).subject;
    assert.deepEqual(new x509.Name(printed).toJSON(), [{ CN: [cn] }, { O: ['Org'] }]);
  });
});
