import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfigObject } from './index.js';
import { CA_CERT, catalog, EC_CERT, EC_KEY, lines, loaded, OTHER_KEY, RSA_CERT, RSA_KEY } from './test-fixtures.js';

const CA_ID = '0a6b7c1d-0000-4000-8000-0000000000ca';
const CERT_ID = '0a6b7c1d-0000-4000-8000-0000000000ce';
const doc = (extra: Record<string, unknown>) => ({ _format_version: '3.0', ...extra });
const errorsOf = (extra: Record<string, unknown>, now?: Date) => {
  const result = loadConfigObject(doc(extra), { plugins: catalog, ...(now === undefined ? {} : { now }) });
  if (result.ok) assert.fail('expected the configuration to be refused');
  return lines(result.errors);
};

describe('ca_certificates', () => {
  it('load with a computed cert_digest (SHA-256 of the DER, hex)', () => {
    const config = loaded(loadConfigObject(doc({ ca_certificates: [{ id: CA_ID, cert: CA_CERT }] }), { plugins: catalog }));
    const expected = createHash('sha256').update(new X509Certificate(CA_CERT).raw).digest('hex');
    assert.deepEqual(config.ca_certificates[0], { id: CA_ID, cert: CA_CERT, cert_digest: expected, tags: [] });
  });

  it('refuse a certificate that is not a CA, a wrong digest, and garbage', () => {
    assert.deepEqual(
      errorsOf({
        ca_certificates: [
          { cert: EC_CERT },
          { cert: CA_CERT, cert_digest: '0'.repeat(64) },
          { cert: 'hello' },
          { cert: CA_CERT + EC_CERT },
        ],
      }).map((l) => l.replace(/its SHA-256 is [0-9a-f]+/, 'its SHA-256 is …')),
      [
        'ca_certificates[0].cert: certificate does not appear to be a CA because it is missing the "CA" basic constraint',
        'ca_certificates[1].cert_digest: does not match the certificate (its SHA-256 is …)',
        'ca_certificates[2].cert: must be a PEM certificate (-----BEGIN CERTIFICATE-----)',
        'ca_certificates[3].cert: must contain exactly one certificate; add one ca_certificates entry per CA',
      ],
    );
  });

  it('refuse an expired CA', () => {
    assert.deepEqual(errorsOf({ ca_certificates: [{ cert: CA_CERT }] }, new Date('2200-01-01T00:00:00Z')), [
      'ca_certificates[0].cert: certificate expired, "Not After" time is in the past',
    ]);
  });

  it('refuse the same CA twice', () => {
    assert.deepEqual(errorsOf({ ca_certificates: [{ cert: CA_CERT }, { cert: CA_CERT }] }), [
      'ca_certificates[1].cert: same certificate as ca_certificates[0]',
    ]);
  });

  it('are what service ca_certificates and client_certificate refer to', () => {
    const config = loaded(
      loadConfigObject(
        doc({
          ca_certificates: [{ id: CA_ID, cert: CA_CERT }],
          certificates: [{ id: CERT_ID, cert: EC_CERT, key: EC_KEY }],
          services: [{ name: 'api', url: 'https://s.example', ca_certificates: [CA_ID], client_certificate: CERT_ID, tls_verify: true }],
        }),
        { plugins: catalog },
      ),
    );
    assert.deepEqual(config.services[0]?.ca_certificates, [CA_ID]);
    assert.equal(config.services[0]?.client_certificate, CERT_ID);
  });
});

describe('certificates', () => {
  it('load with SNIs given as names or {name} objects, lower-cased', () => {
    const config = loaded(
      loadConfigObject(
        doc({ certificates: [{ cert: RSA_CERT, key: RSA_KEY, cert_alt: EC_CERT, key_alt: EC_KEY, snis: ['Example.com', { name: '*.example.com' }, '*'] }] }),
        { plugins: catalog },
      ),
    );
    const [cert] = config.certificates;
    assert.deepEqual(cert?.snis, ['example.com', '*.example.com', '*']);
    assert.equal(cert?.cert_alt, EC_CERT);
    assert.match(cert?.id ?? '', /^[0-9a-f-]{36}$/);
  });

  it('refuse a key that does not match, a lone alternative and two alternatives of one type', () => {
    assert.deepEqual(
      errorsOf({
        certificates: [
          { cert: EC_CERT, key: OTHER_KEY },
          { cert: RSA_CERT, key: RSA_KEY, cert_alt: EC_CERT },
          { cert: EC_CERT, key: EC_KEY, cert_alt: EC_CERT, key_alt: EC_KEY },
          { cert: RSA_CERT, key: 'not a key' },
        ],
      }).map((l) => l.replace(/invalid private key: .*/, 'invalid private key: …')),
      [
        "certificates[0].key: does not match the certificate in 'cert'",
        "certificates[1].key_alt: 'cert_alt' and 'key_alt' must be set together",
        "certificates[2].cert_alt: must use another key type than 'cert' (both are ec); pair RSA with ECDSA",
        'certificates[3].key: invalid private key: …',
      ],
    );
  });

  it('may repeat one certificate in several entries, each with its own SNIs and id', () => {
    const config = loaded(
      loadConfigObject(doc({ certificates: [{ cert: EC_CERT, key: EC_KEY, snis: ['a.example'] }, { cert: EC_CERT, key: EC_KEY, snis: ['b.example'] }] }), {
        plugins: catalog,
      }),
    );
    assert.notEqual(config.certificates[0]?.id, config.certificates[1]?.id);
  });

  it('refuse an SNI served by two certificates, and malformed SNIs', () => {
    assert.deepEqual(
      errorsOf({
        certificates: [
          { cert: RSA_CERT, key: RSA_KEY, snis: ['example.com', '10.0.0.1'] },
          { cert: EC_CERT, key: EC_KEY, snis: [{ name: 'EXAMPLE.com' }, 'a.*.example'] },
        ],
      }),
      [
        'certificates[0].snis[1]: must not be an IP address',
        'certificates[1].snis[1]: invalid wildcard: must be placed at leftmost or rightmost label',
        "certificates[1].snis[0]: duplicate SNI 'example.com' (also used by certificates[0].snis[0])",
      ],
    );
  });
});
