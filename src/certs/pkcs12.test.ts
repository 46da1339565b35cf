import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import tls from 'node:tls';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority, type IssuedCertificate } from './index.js';
import { createPkcs12 } from './pkcs12.js';

// EC keys and few iterations: these tests are about structure, not strength.
const iterations = 1000;
const password = 'pässwörd-✓';

describe('PKCS#12 files made by createPkcs12', () => {
  let ca: CertificateAuthority;
  let leaf: IssuedCertificate;
  let other: IssuedCertificate;
  before(async () => {
    ca = await createCertificateAuthority({ subject: 'CN=PKCS12 Test CA', keyType: 'ec-p256' });
    [leaf, other] = await Promise.all([
      issueCertificate({ ca, subject: 'CN=localhost', usage: 'server', dnsNames: ['localhost'], keyType: 'ec-p256' }),
      issueCertificate({ ca, subject: 'CN=other', usage: 'client', keyType: 'ec-p256' }),
    ]);
  });

  it('a key store with a non-ASCII password opens in Node and serves the key it holds', async () => {
    const pfx = await createPkcs12({ password, iterations, keys: [{ alias: 'server', keyPem: leaf.keyPem, certPem: leaf.certPem, chainPem: [ca.certPem] }] });
    assert.doesNotThrow(() => tls.createSecureContext({ pfx, passphrase: password }));
    assert.throws(() => tls.createSecureContext({ pfx, passphrase: 'pässwörd-x' }));
  });

  it('refuses a password shorter than keytool accepts, naming the rule', async () => {
    await assert.rejects(createPkcs12({ password: 'abcde', keys: [{ alias: 'a', keyPem: leaf.keyPem, certPem: leaf.certPem }] }), /at least 6 characters/);
  });

  it('refuses a key that does not belong to its certificate, an empty store and a repeated alias', async () => {
    await assert.rejects(
      createPkcs12({ password: 'secret1', iterations, keys: [{ alias: 'x', keyPem: other.keyPem, certPem: leaf.certPem }] }),
      /keyPem does not belong to certPem/,
    );
    await assert.rejects(createPkcs12({ password: 'secret1', iterations }), /at least one key or trusted certificate/);
    await assert.rejects(
      createPkcs12({
        password: 'secret1',
        iterations,
        keys: [{ alias: 'dup', keyPem: leaf.keyPem, certPem: leaf.certPem }],
        trusted: [{ alias: 'dup', certPem: ca.certPem }],
      }),
      /alias 'dup' is used twice/,
    );
  });
});
