import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../../certs/index.js';
import { x509 } from '../../certs/x509.js';
import { createClientCertificate } from '../../connection/client-certificate.js';
import { createLogger } from '../../util/logger.js';
import { createRevocationChecker, describeRevocationSubject, type RevocationCheckerOptions, type RevocationSubject } from './revocation-checker.js';

describe('createRevocationChecker', () => {
  let ca: CertificateAuthority;
  let server: Server;
  let requests = 0;
  /** What the CRL server answers: the CRL, or an HTTP status. */
  let answer: 'crl' | 500 = 'crl';
  let crlDer: Buffer;
  let base: string;

  before(async () => {
    ca = await createCertificateAuthority({ subject: 'CN=Checker Test CA', keyType: 'ec-p256' });
    server = createServer((_req, res) => {
      requests++;
      if (answer === 'crl') res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crlDer);
      else res.writeHead(answer).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function subjectFor(path: string, revoked: boolean): Promise<RevocationSubject> {
    const leaf = await issueCertificate({ ca, subject: `CN=${path}`, usage: 'client', keyType: 'ec-p256', crlDistributionPoint: `${base}/${path}.crl` });
    const certificate = createClientCertificate(new X509Certificate(leaf.certPem), [], 'tls');
    const crl = await x509.X509CrlGenerator.create({
      issuer: new x509.X509Certificate(ca.certPem).subjectName,
      thisUpdate: new Date(Date.now() - 60_000),
      nextUpdate: new Date(Date.now() + 3_600_000),
      // With a reason: @peculiar/x509 writes an entry without one with an empty extensions SEQUENCE, which pkijs refuses.
      entries: revoked ? [{ serialNumber: leaf.serialNumber, revocationDate: new Date(Date.now() - 60_000), reason: x509.X509CrlReason.keyCompromise }] : [],
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      signingKey: ca.privateKey,
    });
    crlDer = Buffer.from(crl.rawData);
    return describeRevocationSubject(certificate, [new X509Certificate(ca.certPem)]);
  }

  const options = (overrides: Partial<RevocationCheckerOptions> = {}): RevocationCheckerOptions => ({
    mode: 'STRICT',
    cacheTtlMs: 60_000,
    httpTimeoutMs: 5_000,
    sslVerify: true,
    trustedCaPems: [],
    logger: createLogger({ level: 'silent' }),
    ...overrides,
  });

  it('finds the issuer among the candidates and keys the cache by issuer and serial', async () => {
    const subject = await subjectFor('describe', false);
    assert.ok(subject.issuer?.subject.includes('Checker Test CA'));
    assert.ok(subject.key.endsWith(subject.leaf.serialNumber.toLowerCase()));
    assert.equal(describeRevocationSubject(createClientCertificate(subject.leaf, [], 'tls'), []).issuer, null);
  });

  it('shares one fetch among concurrent checks, even with caching off', async () => {
    const checker = createRevocationChecker(options({ cacheTtlMs: 0 }));
    const subject = await subjectFor('concurrent', true);
    const before = requests;
    // All five start in this tick, before any answer can exist.
    const checks = Array.from({ length: 5 }, () => checker.check(subject));
    const results = await Promise.all(checks);
    assert.deepEqual(results, Array.from({ length: 5 }, () => ({ status: 'revoked', source: 'crl' })));
    assert.equal(requests, before + 1);
    // Caching off: the next check asks again.
    await checker.check(subject);
    assert.equal(requests, before + 2);
    await checker.close();
  });

  it('reuses an answer within cert_cache_ttl', async () => {
    const checker = createRevocationChecker(options());
    const subject = await subjectFor('cached', false);
    const before = requests;
    assert.deepEqual(await checker.check(subject), { status: 'good', source: 'crl' });
    assert.deepEqual(await checker.check(subject), { status: 'good', source: 'crl' });
    assert.equal(requests, before + 1);
    await checker.close();
  });

  it('remembers for a while that no answer could be had, so a failing server is not asked on every request', async () => {
    const checker = createRevocationChecker(options());
    const subject = await subjectFor('failing', true);
    answer = 500;
    try {
      const before = requests;
      const first = await checker.check(subject);
      assert.equal(first.status, 'unknown');
      assert.match(first.status === 'unknown' ? first.detail : '', /^CRL http:\/\/127\.0\.0\.1:\d+: ERR_REVOCATION_FETCH: answered HTTP 500$/);
      assert.equal((await checker.check(subject)).status, 'unknown');
      assert.equal(requests, before + 1);
    } finally {
      answer = 'crl';
      await checker.close();
    }
  });

  it('says unknown, without fetching, when the certificate names no http(s) URL or its issuer is not known', async () => {
    const checker = createRevocationChecker(options());
    const subject = await subjectFor('ldap-only', false);
    const before = requests;
    const ldap = await checker.check({ ...subject, key: 'ldap', crl: ['ldap://ldap.example/cn=CA?certificateRevocationList'] });
    assert.deepEqual(ldap, { status: 'unknown', detail: 'no http(s) OCSP responder or CRL distribution point' });
    assert.equal((await checker.check({ ...subject, key: 'orphan', issuer: null })).status, 'unknown');
    assert.equal(requests, before);
    await checker.close();
  });
});
