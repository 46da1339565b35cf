// The test PKI is what every mTLS test stands on: check it is what its documentation says.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { makeTestPki, tutorialClientSubject } from './pki.js';

describe('test PKI helper', () => {
  it('is made once per process and written to a temp dir', async () => {
    const [a, b] = await Promise.all([makeTestPki(), makeTestPki()]);
    assert.equal(a, b);
    for (const credential of [a.serverCert, a.client, a.intermediateClient, a.noEkuClient]) {
      assert.equal(readFileSync(credential.certPath, 'utf8'), credential.certPem);
      assert.equal(readFileSync(credential.keyPath, 'utf8'), credential.keyPem);
      assert.equal(readFileSync(credential.chainPath, 'utf8'), credential.chainPem);
      assert.equal(statSync(credential.keyPath).mode & 0o077, 0, 'keys are private to the owner');
    }
    assert.equal(readFileSync(a.ca.certPath, 'utf8'), a.ca.certPem);
    assert.ok(existsSync(a.ca.keyPath));
  });

  it('holds the certificates its fields describe', async () => {
    const pki = await makeTestPki();
    const root = new X509Certificate(pki.ca.certPem);
    const server = new X509Certificate(pki.serverCert.certPem);
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
    assert.equal(server.verify(root.publicKey), true);
    assert.equal(pki.serverCert.keyType, 'rsa-2048');
    assert.equal(pki.client.keyType, 'rsa-2048');
    assert.equal(new X509Certificate(pki.client.certPem).subject, tutorialClientSubject.split(', ').reverse().join('\n'));
    assert.equal(new X509Certificate(pki.otherCaClient.certPem).subject, new X509Certificate(pki.client.certPem).subject);
    assert.equal(new X509Certificate(pki.otherCaClient.certPem).verify(root.publicKey), false);
    assert.notEqual(pki.otherClient.thumbprint, pki.client.thumbprint);
    assert.ok(new Date(new X509Certificate(pki.expiredClient.certPem).validTo).getTime() < Date.now());
    assert.equal(pki.intermediateClient.chainPem, pki.intermediateClient.certPem + pki.intermediateCa.certPem);
    assert.equal(new X509Certificate(pki.intermediateCa.certPem).verify(root.publicKey), true);
    assert.equal(new X509Certificate(pki.selfSignedClient.certPem).issuer, 'CN=self-signed-app');
    assert.equal(new X509Certificate(pki.noEkuClient.certPem).keyUsage, undefined);
  });
});
