// proof_of_possession_mtls_from_header: the binding checked against a certificate forwarded by a
// TLS-terminating proxy, verified with the authenticator header-cert-auth and mtls-auth share.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makeTestPki, type TestPki } from '../../../test/helpers/pki.js';
import type { PluginInstance } from '../../pipeline/plugin.js';
import { buildInstance, clientCertificate, fakeContext, FakeIdp, runAccess } from './test-fixtures.js';

const run = runAccess;

const caId = '7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('openid-connect proof_of_possession_mtls_from_header', () => {
  let idp: FakeIdp;
  let pki: TestPki;
  const instances: PluginInstance[] = [];
  const make = (mode: 'strict' | 'optional', fromHeader: Record<string, unknown> = {}): PluginInstance => {
    const instance = buildInstance(
      {
        issuer: idp.issuer,
        proof_of_possession_mtls: mode,
        proof_of_possession_mtls_from_header: { certificate_header_name: 'X-Client-Cert', ca_certificates: [caId], ...fromHeader },
      },
      { ca_certificates: [{ id: caId, cert: pki.ca.certPem }] },
    );
    instances.push(instance);
    return instance;
  };
  const urlEncoded = (pem: string): string => encodeURIComponent(pem);
  const request = (token: string, header: string | null, extra: Parameters<typeof fakeContext>[0] = {}) =>
    fakeContext({ ...extra, headers: { authorization: `Bearer ${token}`, ...(header === null ? {} : { 'x-client-cert': header }), ...extra.headers } });

  before(async () => {
    [idp, pki] = await Promise.all([FakeIdp.start(), makeTestPki()]);
  });
  after(async () => {
    for (const instance of instances) await instance.close?.();
    await idp.close();
  });

  it('lets a bound token through with the forwarded certificate it was issued to, which becomes the request certificate', async () => {
    const plugin = make('strict');
    const token = await idp.sign({ cnf: { 'x5t#S256': pki.client.thumbprint } });
    const ctx = request(token, urlEncoded(pki.client.certPem));
    assert.equal(await run(plugin, ctx), null);
    assert.equal(ctx.auth?.reason, 'jwt_verified');
    assert.equal(ctx.clientCertificate?.thumbprint, pki.client.thumbprint);
    assert.equal(ctx.clientCertificate?.source, 'header');
    // Verification reports nothing of its own on the request: no consumer, no X-Client-Cert-* headers.
    assert.equal(ctx.identity?.credentialId, 'svc');
    assert.equal(ctx.upstreamHeaders['x-client-cert-dn'], undefined);
  });

  it('reads base64_encoded DER, and a url-encoded leaf followed by its chain', async () => {
    const token = await idp.sign({ cnf: { 'x5t#S256': pki.client.thumbprint } });
    const der = new X509Certificate(pki.client.certPem).raw.toString('base64');
    assert.equal(await run(make('strict', { certificate_header_format: 'base64_encoded' }), request(token, der)), null);
    const intermediateToken = await idp.sign({ cnf: { 'x5t#S256': pki.intermediateClient.thumbprint } });
    assert.equal(await run(make('strict'), request(intermediateToken, urlEncoded(pki.intermediateClient.chainPem))), null);
  });

  it('refuses a certificate from another CA, an expired one, another trusted client and an unreadable header', async () => {
    const plugin = make('strict');
    const token = await idp.sign({ cnf: { 'x5t#S256': pki.client.thumbprint } });
    const otherCa = await run(plugin, request(token, urlEncoded(pki.otherCaClient.certPem)));
    assert.equal(otherCa?.status, 401);
    assert.equal(otherCa?.code, 'pop_certificate_untrusted');
    assert.equal(otherCa?.challenges[0]?.params['error'], 'invalid_token');
    const expiredToken = await idp.sign({ cnf: { 'x5t#S256': pki.expiredClient.thumbprint } });
    assert.equal((await run(plugin, request(expiredToken, urlEncoded(pki.expiredClient.certPem))))?.code, 'pop_certificate_untrusted');
    assert.equal((await run(plugin, request(token, urlEncoded(pki.otherClient.certPem))))?.code, 'pop_certificate_mismatch');
    assert.equal((await run(plugin, request(token, 'not%20a%20certificate')))?.code, 'pop_certificate_invalid');
  });

  it('takes the certificate only from the header: without it a bound token is refused, whatever the TLS connection presented', async () => {
    const plugin = make('strict');
    const token = await idp.sign({ cnf: { 'x5t#S256': pki.client.thumbprint } });
    const ctx = request(token, null, { certificate: clientCertificate(pki.client.certPem) });
    assert.equal((await run(plugin, ctx))?.code, 'pop_certificate_missing');
  });

  it('does not read the header for a token that needs no certificate', async () => {
    const unbound = await idp.sign();
    assert.equal(await run(make('optional'), request(unbound, 'garbage')), null);
    assert.equal((await run(make('strict'), request(unbound, 'garbage')))?.code, 'pop_claim_missing');
  });

  it('a header named like an Object.prototype member (`constructor`) is simply absent when not sent', async () => {
    const token = await idp.sign({ cnf: { 'x5t#S256': pki.client.thumbprint } });
    const plugin = make('strict', { certificate_header_name: 'constructor' });
    assert.equal((await run(plugin, request(token, null)))?.code, 'pop_certificate_missing');
  });
});
