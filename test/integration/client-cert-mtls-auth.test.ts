import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useEchoGateway } from '../helpers/gateway-process.js';
import { caIds, caSection, echoed, tlsRequest } from './client-cert-support.js';

describe('mtls-auth', () => {
  const suite = useEchoGateway(({ echoUrl, pki }) => `_format_version: "3.0"
${caSection(pki)}
consumers:
  - username: client-app
  - username: someone
    custom_id: other-app
  - username: anonymous-user
services:
  - name: s
    url: ${echoUrl}
    routes:
      - name: strict
        paths: ["/strict"]
        plugins:
          - name: mtls-auth
            config: { ca_certificates: [${caIds.root}], revocation_check_mode: SKIP }
      - name: partial
        paths: ["/partial"]
        plugins:
          - name: mtls-auth
            config: { ca_certificates: [${caIds.intermediate}], allow_partial_chain: true, skip_consumer_lookup: true, revocation_check_mode: SKIP }
      - name: full-chain
        paths: ["/full-chain"]
        plugins:
          - name: mtls-auth
            config: { ca_certificates: [${caIds.root}, ${caIds.intermediate}], skip_consumer_lookup: true, authenticated_group_by: DN, revocation_check_mode: SKIP }
      - name: default
        paths: ["/default"]
        plugins:
          - name: mtls-auth
            config: { ca_certificates: [${caIds.root}], default_consumer: anonymous-user, revocation_check_mode: SKIP }
      - name: anon
        paths: ["/anon"]
        plugins:
          - name: mtls-auth
            config: { ca_certificates: [${caIds.root}], anonymous: anonymous-user, revocation_check_mode: SKIP }
`);

  it('maps a trusted certificate to the consumer named by its CN and sends identity headers upstream', async () => {
    const res = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.client, path: '/strict/anything' });
    assert.equal(res.status, 200);
    assert.equal(echoed(res, 'x-consumer-username'), 'client-app');
  });

  it('matches custom_id as well as username', async () => {
    const res = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.otherClient, path: '/strict/anything' });
    assert.equal(res.status, 200);
    assert.equal(echoed(res, 'x-consumer-username'), 'someone');
  });

  it('answers 401 "No required TLS certificate was sent" without a certificate', async () => {
    const res = await tlsRequest({ port: suite.port, servername: 'localhost', path: '/strict/anything' });
    assert.equal(res.status, 401);
    assert.equal((JSON.parse(res.body) as { message: string }).message, 'No required TLS certificate was sent');
  });

  const refused = [
    ['an expired certificate', 'expiredClient'],
    ['a certificate from another CA', 'otherCaClient'],
    ['a self-signed certificate', 'selfSignedClient'],
    ['a certificate without clientAuth (a server certificate)', 'serverCert'],
  ] as const;
  for (const [what, name] of refused) {
    it(`answers 401 "TLS certificate failed verification" to ${what}`, async () => {
      const res = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki[name], path: '/strict/anything' });
      assert.equal(res.status, 401);
      assert.equal((JSON.parse(res.body) as { message: string }).message, 'TLS certificate failed verification');
    });
  }

  it('refuses a trusted certificate that matches no consumer', async () => {
    const res = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.noEkuClient, path: '/strict/anything' });
    assert.equal(res.status, 401);
  });

  it('maps a trusted certificate that matches no consumer to default_consumer', async () => {
    const res = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.noEkuClient, path: '/default/anything' });
    assert.equal(res.status, 200);
    assert.equal(echoed(res, 'x-consumer-username'), 'anonymous-user');
    assert.equal(echoed(res, 'x-anonymous-consumer'), undefined);
    const untrusted = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.otherCaClient, path: '/default/anything' });
    assert.equal(untrusted.status, 401, 'default_consumer is for trusted certificates only');
  });

  it('accepts a chain ending at a configured intermediate only with allow_partial_chain', async () => {
    const res = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.intermediateClient, path: '/partial/anything' });
    assert.equal(res.status, 200);
    assert.equal(echoed(res, 'x-client-cert-dn'), 'CN=intermediate-app');
    assert.equal(echoed(res, 'x-authenticated-groups'), 'intermediate-app');
  });

  it('verifies a leaf + intermediate chain sent by the client up to the root', async () => {
    const withChain = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.intermediateClient, sendChain: true, path: '/full-chain/anything' });
    assert.equal(withChain.status, 200);
    assert.equal(echoed(withChain, 'x-authenticated-groups'), 'CN=intermediate-app');
  });

  it('proxies as the anonymous consumer when authentication fails and anonymous is set', async () => {
    const res = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.otherCaClient, path: '/anon/anything' });
    assert.equal(res.status, 200);
    assert.equal(echoed(res, 'x-anonymous-consumer'), 'true');
    assert.equal(echoed(res, 'x-consumer-username'), 'anonymous-user');
  });

  it('keeps the certificate verified on a resumed session', async () => {
    const first = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.client, path: '/strict/anything' });
    const second = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.client, session: first.session, path: '/strict/anything' });
    assert.equal(second.reused, true);
    assert.equal(second.status, 200);
    assert.equal(echoed(second, 'x-consumer-username'), 'client-app');
  });
});
