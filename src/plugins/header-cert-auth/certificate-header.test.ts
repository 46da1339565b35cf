import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { makeTestPki, type TestPki } from '../../../test/helpers/pki.js';
import { CertificateHeaderError, parseCertificateChainHeader, parseCertificateHeader } from './certificate-header.js';

describe('parseCertificateHeader', () => {
  let pki: TestPki;
  let der: Buffer;
  before(async () => {
    pki = await makeTestPki();
    der = new X509Certificate(pki.client.certPem).raw;
  });

  it('reads url-encoded PEM with its chain, base64 DER or PEM, RFC 9440 and XFCC', () => {
    const chain = parseCertificateHeader(encodeURIComponent(pki.intermediateClient.chainPem), 'url_encoded');
    assert.equal(chain.chain.length, 1);
    assert.ok(parseCertificateHeader(der.toString('base64'), 'base64_encoded').leaf.raw.equals(der));
    assert.ok(parseCertificateHeader(Buffer.from(pki.client.certPem).toString('base64'), 'base64_encoded').leaf.raw.equals(der));
    assert.ok(parseCertificateHeader(`:${der.toString('base64')}:`, 'rfc9440').leaf.raw.equals(der));
    const xfcc = `By=a;Cert="${encodeURIComponent(pki.otherClient.certPem)}",By=b;Hash=1;Cert="${encodeURIComponent(pki.client.certPem)}"`;
    assert.ok(parseCertificateHeader(xfcc, 'xfcc').leaf.raw.equals(der), 'the last element (the nearest proxy) wins');
    assert.equal(parseCertificateChainHeader(`:${der.toString('base64')}:, :${der.toString('base64')}:`).length, 2);
  });

  it('accepts PEM whose newlines a proxy turned into spaces', () => {
    assert.ok(parseCertificateHeader(encodeURIComponent(pki.client.certPem.replace(/\n/g, ' ')), 'url_encoded').leaf.raw.equals(der));
  });

  it('throws a typed error with a stable code for every bad input', () => {
    const cases: Array<[string | string[], Parameters<typeof parseCertificateHeader>[1], string]> = [
      ['', 'url_encoded', 'ERR_CERT_HEADER_EMPTY'],
      ['%E0%A4%A', 'url_encoded', 'ERR_CERT_HEADER_MALFORMED'],
      ['hello', 'url_encoded', 'ERR_CERT_HEADER_NOT_A_CERTIFICATE'],
      ['**', 'base64_encoded', 'ERR_CERT_HEADER_MALFORMED'],
      ['AAAA', 'base64_encoded', 'ERR_CERT_HEADER_NOT_A_CERTIFICATE'],
      ['AAAA', 'rfc9440', 'ERR_CERT_HEADER_MALFORMED'],
      ['By=x;Hash=1', 'xfcc', 'ERR_CERT_HEADER_NOT_A_CERTIFICATE'],
      ['Cert="unterminated', 'xfcc', 'ERR_CERT_HEADER_MALFORMED'],
      [['a', 'b'], 'url_encoded', 'ERR_CERT_HEADER_MALFORMED'],
    ];
    for (const [value, format, code] of cases) {
      assert.throws(() => parseCertificateHeader(value, format), (e: unknown) => e instanceof CertificateHeaderError && e.code === code, `${format}: ${String(value)}`);
    }
  });
});
