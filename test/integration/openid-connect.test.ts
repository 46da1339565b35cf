// The tutorial's flow end to end: the development IdP (oidc-provider, Keycloak paths, HTTPS,
// tls_client_auth) issues certificate-bound tokens to real client certificates; the gateway, with
// tls-handshake-modifier and openid-connect (strict PoP), lets them through only with that certificate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { formatConfigErrors, loadConfig } from '../../src/config/index.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import { defaultSettings } from '../../src/server/settings.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import { createLogger } from '../../src/util/logger.js';
import { fetchText, type SimpleResponse } from '../helpers/http.js';
import { devClientSecret, startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';
import type { TestCredential } from '../helpers/pki.js';
import { indent } from './client-cert-support.js';

/** A gateway client of the IdP that authenticates to the introspection endpoint with its certificate (RFC 8705 §2.1). */
const mtlsIntrospectionClient = 'kong-introspection-mtls';
const gatewayCertificateId = '3f5a2e1c-9b8d-4c7e-a6f5-0e1d2c3b4a59';
const tutorialCertificateId = '8c4b2a1d-6e5f-4a3b-9c8d-7e6f5a4b3c2d';

describe('openid-connect against a real IdP, through the gateway', () => {
  let idp: TestIdp;
  let echo: EchoServer;
  let gateway: Gateway;
  let base: string;
  const agents: Agent[] = [];

  const agentFor = async (credential: TestCredential | null): Promise<Agent> => {
    const agent = new Agent({
      connect: {
        rejectUnauthorized: false,
        ...(credential === null ? {} : { cert: await readFile(credential.certPath, 'utf8'), key: await readFile(credential.keyPath, 'utf8') }),
      },
    });
    agents.push(agent);
    return agent;
  };
  const get = async (path: string, token: string | null, credential: TestCredential | null): Promise<SimpleResponse> =>
    fetchText(`${base}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` }, dispatcher: await agentFor(credential) });

  before(async () => {
    idp = await startTestIdp({
      accessTokenTtlSeconds: 60,
      extraClients: [
        { client_id: mtlsIntrospectionClient, token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=other-app', introspection: true, grant_types: [] },
      ],
    });
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const text = `_format_version: "3.0"
services:
  - name: example-service
    url: ${echo.url}/anything
    routes:
      - name: example-route
        paths: ["/anything"]
      - name: opaque-route
        paths: ["/opaque"]
      - name: optional-route
        paths: ["/optional"]
      - name: opaque-mtls-route
        paths: ["/opaque-mtls"]
      - name: opaque-wrong-certificate-route
        paths: ["/opaque-wrong-certificate"]
certificates:
  - id: ${gatewayCertificateId}
    cert: |
${indent(idp.pki.otherClient.certPem, 6)}
    key: |
${indent(idp.pki.otherClient.keyPem, 6)}
  - id: ${tutorialCertificateId}
    cert: |
${indent(idp.pki.client.certPem, 6)}
    key: |
${indent(idp.pki.client.keyPem, 6)}
plugins:
  - name: tls-handshake-modifier
    config: { tls_client_certificate: REQUEST }
  - name: openid-connect
    route: example-route
    config:
      issuer: ${idp.issuer}
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
      proof_of_possession_auth_methods_validation: on
      rediscovery_lifetime: 0
  - name: openid-connect
    route: opaque-route
    config:
      issuer: ${idp.issuer}
      auth_methods: [introspection]
      client_id: [${testIdpClientIds.introspection}]
      client_secret: [${devClientSecret}]
      proof_of_possession_mtls: strict
  - name: openid-connect
    route: optional-route
    config:
      issuer: ${idp.issuer}
      auth_methods: [bearer]
      proof_of_possession_mtls: optional
      scopes_required: [write]
  - name: openid-connect
    route: opaque-mtls-route
    config:
      issuer: ${idp.issuer}
      auth_methods: [introspection]
      client_id: [${mtlsIntrospectionClient}]
      introspection_endpoint_auth_method: tls_client_auth
      tls_client_auth_cert_id: ${gatewayCertificateId}
      proof_of_possession_mtls: strict
  - name: openid-connect
    route: opaque-wrong-certificate-route
    config:
      issuer: ${idp.issuer}
      auth_methods: [introspection]
      client_id: [${mtlsIntrospectionClient}]
      client_auth: [tls_client_auth]
      tls_client_auth_cert_id: ${tutorialCertificateId}
`;
    const loaded = loadConfig(text, { env: {}, plugins: pluginSchemas });
    if (!loaded.ok) throw new Error(formatConfigErrors(loaded.errors));
    const prefix = await mkdtemp(join(tmpdir(), 'portcullis-oidc-'));
    gateway = await startGateway(
      { ...defaultSettings, prefix, proxyListen: '127.0.0.1:0 ssl', adminListen: 'off', accessLog: false, logLevel: 'silent', trustedCertificates: [idp.pki.ca.certPath] },
      { logger: createLogger({ level: 'silent' }), config: loaded.config },
    );
    base = `https://127.0.0.1:${gateway.proxyListeners[0]!.address.port}`;
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await gateway?.close();
    await echo?.close();
    await idp?.close();
  });

  it("the tutorial: 200 with the certificate the token was issued to", async () => {
    const token = await idp.requestToken();
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const res = await get('/anything', token.access_token!, idp.pki.client);
    assert.equal(res.status, 200, res.text);
  });

  it('refuses the token with another certificate from the same CA, and with none', async () => {
    const token = (await idp.requestToken()).access_token!;
    const other = await get('/anything', token, idp.pki.otherClient);
    assert.equal(other.status, 401);
    assert.deepEqual(other.json(), { message: 'Unauthorized' });
    assert.match(String(other.headers['www-authenticate']), /^Bearer realm="[^"]+", error="invalid_token"$/);
    const none = await get('/anything', token, null);
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /error="invalid_token"/);
  });

  it('answers 401 without an error code when no token is sent', async () => {
    const res = await get('/anything', null, idp.pki.client);
    assert.equal(res.status, 401);
    assert.doesNotMatch(String(res.headers['www-authenticate']), /error=/);
  });

  it('refuses expired, tampered, wrong-issuer and unbound tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      await idp.mintToken({ iat: now - 120, exp: now - 60 }),
      await idp.mintToken({ iss: 'https://127.0.0.1:1/realms/other' }),
      await idp.mintToken({}, { boundTo: null }),
      (await idp.mintToken()).replace(/\.[^.]+$/, '.AAAA'),
    ]) {
      const res = await get('/anything', token, idp.pki.client);
      assert.equal(res.status, 401, res.text);
    }
  });

  it('optional PoP lets an unbound token through, checks bound ones, and requires scopes (403)', async () => {
    const unbound = await idp.mintToken({ scope: 'write' }, { boundTo: null });
    assert.equal((await get('/optional', unbound, null)).status, 200);
    const bound = await idp.mintToken({ scope: 'write' });
    assert.equal((await get('/optional', bound, idp.pki.otherClient)).status, 401);
    const readOnly = await idp.mintToken({ scope: 'read' }, { boundTo: null });
    const res = await get('/optional', readOnly, null);
    assert.equal(res.status, 403);
    assert.match(String(res.headers['www-authenticate']), /error="insufficient_scope", scope="write"/);
  });

  it('introspects opaque certificate-bound tokens and checks their cnf', async () => {
    const token = await idp.requestToken({ clientId: testIdpClientIds.opaque });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal((await get('/opaque', token.access_token!, idp.pki.client)).status, 200);
    assert.equal((await get('/opaque', token.access_token!, idp.pki.otherClient)).status, 401);
    assert.equal((await get('/opaque', 'not-a-real-token', idp.pki.client)).status, 401);
  });

  it('introspects with tls_client_auth: the gateway presents its certificate to the IdP', async () => {
    const token = await idp.requestToken({ clientId: testIdpClientIds.opaque });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal((await get('/opaque-mtls', token.access_token!, idp.pki.client)).status, 200);
    assert.equal((await get('/opaque-mtls', token.access_token!, idp.pki.otherClient)).status, 401);
    const inactive = await get('/opaque-mtls', 'not-a-real-token', idp.pki.client);
    assert.equal(inactive.status, 401);
    // The IdP checks the certificate: the tutorial client's is not the subject registered for the gateway.
    const refused = await get('/opaque-wrong-certificate', token.access_token!, idp.pki.client);
    assert.equal(refused.status, 500, 'introspection refused by the IdP is introspection_unavailable');
    assert.equal(refused.json<{ message: string }>().message, 'An unexpected error occurred');
  });

  it('follows a key rollover at the IdP mid-traffic', async () => {
    assert.equal((await get('/anything', (await idp.requestToken()).access_token!, idp.pki.client)).status, 200);
    await idp.idp.rotateKeys();
    const fresh = (await idp.requestToken()).access_token!;
    assert.equal((await get('/anything', fresh, idp.pki.client)).status, 200);
  });
});
