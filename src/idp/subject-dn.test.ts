import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createCertificateAuthority, issueCertificate } from '../certs/index.js';
import { parseDistinguishedName, subjectDnMatches } from './subject-dn.js';

describe('tls_client_auth_subject_dn matching', () => {
  let tutorial: X509Certificate;
  let multi: X509Certificate;
  before(async () => {
    const ca = await createCertificateAuthority({ subject: 'CN=DN Test CA', keyType: 'ec-p256' });
    const [a, b] = await Promise.all([
      issueCertificate({ ca, subject: 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US', usage: 'client', keyType: 'ec-p256' }),
      issueCertificate({ ca, subject: 'CN=svc, O=Acme\\, Inc., C=DE', usage: 'client', keyType: 'ec-p256' }),
    ]);
    tutorial = new X509Certificate(a.certPem);
    multi = new X509Certificate(b.certPem);
  });

  it('matches the tutorial DN as typed into Keycloak, with or without spaces, values in any letter case', () => {
    assert.ok(subjectDnMatches(tutorial, 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US'));
    assert.ok(subjectDnMatches(tutorial, 'CN=client-app,OU=Dev,O=ClientOrg,L=City,ST=State,C=US'));
    assert.ok(subjectDnMatches(tutorial, 'CN=Client-App, OU=dev, O=clientorg, L=city, ST=state, C=us'));
  });

  it('refuses another value, a missing or extra attribute, and the reversed (OpenSSL -subj) order', () => {
    assert.ok(!subjectDnMatches(tutorial, 'CN=client-app2, OU=Dev, O=ClientOrg, L=City, ST=State, C=US'));
    assert.ok(!subjectDnMatches(tutorial, 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State'));
    assert.ok(!subjectDnMatches(tutorial, 'CN=client-app, OU=Dev, OU=Extra, O=ClientOrg, L=City, ST=State, C=US'));
    assert.ok(!subjectDnMatches(tutorial, 'C=US, ST=State, L=City, O=ClientOrg, OU=Dev, CN=client-app'));
    assert.ok(!subjectDnMatches(tutorial, 'CN=client-app'));
  });

  it('understands RFC 4514 escapes', () => {
    assert.ok(subjectDnMatches(multi, 'CN=svc, O=Acme\\, Inc., C=DE'));
    assert.ok(subjectDnMatches(multi, 'CN=svc,O="Acme, Inc.",C=DE'));
    assert.ok(!subjectDnMatches(multi, 'CN=svc, O=Acme, C=DE'));
  });

  it('rejects strings that are not distinguished names', () => {
    assert.throws(() => parseDistinguishedName('client-app'), TypeError);
    assert.throws(() => parseDistinguishedName(''), TypeError);
    assert.ok(!subjectDnMatches(tutorial, 'not a dn'));
  });
});
