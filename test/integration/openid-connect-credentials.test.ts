// openid-connect with tokens from the development IdP, where Kong also looks for them: the form or
// JSON body and the query string (removed before proxying with hide_credentials), and certificate
// binding against a certificate forwarded by a TLS-terminating proxy
// (proof_of_possession_mtls_from_header). Composed in-process from the real listener, handler and
// Runtime, because `--trusted-ips` reaches the handler through ProxyHandlerOptions: every peer is
// 127.0.0.1, trusted on one listener and not on the other.
import { startProxyPair, type ProxyPair } from '../helpers/proxy-pair.js';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { formatConfigErrors, loadConfig } from '../../src/config/index.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import type { AccessRecord } from '../../src/server/access-log.js';
import { devClientSecret, startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';
import { caIds, caSection } from './client-cert-support.js';

interface Echo {
  args: Record<string, string | string[]>;
  headers: Record<string, string>;
  url: string;
  data: string | null;
  data_length: number;
  json: unknown;
  form: Record<string, string | string[]>;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  record: AccessRecord | undefined;
  echo(): Echo;
}

const bufferLimit = 64 * 1024;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('openid-connect: tokens in the body and the query, certificates from a proxy header', () => {
  let idp: TestIdp;
  let echo: EchoServer;
  let pair: ProxyPair;

  /** An unbound JWT from the IdP (`kong-secret`, client_secret_basic): no certificate needed. */
  const unboundToken = async (): Promise<string> => {
    const res = await idp.requestToken({ clientId: testIdpClientIds.secret, clientSecret: devClientSecret, certPath: null });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.access_token!;
  };

  before(async () => {
    idp = await startTestIdp();
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const loaded = loadConfig(
      `_format_version: "3.0"
${caSection(idp.pki)}
services:
  - name: echo
    url: ${echo.url}/anything
    routes:
      - name: body
        paths: ["/body"]
      - name: pop-header
        paths: ["/pop-header"]
      - name: pop-open
        paths: ["/pop-open"]
plugins:
  - name: openid-connect
    route: body
    config:
      issuer: ${idp.issuer}
      auth_methods: [bearer]
  - name: openid-connect
    route: pop-header
    config:
      issuer: ${idp.issuer}
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
      proof_of_possession_mtls_from_header:
        certificate_header_name: X-Client-Cert
        certificate_header_format: url_encoded
        ca_certificates: [${caIds.root}]
        http_proxy_host: null
        https_proxy_host: null
  - name: openid-connect
    route: pop-open
    config:
      issuer: ${idp.issuer}
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
      proof_of_possession_mtls_from_header:
        certificate_header_name: X-Open-Client-Cert
        certificate_header_format: base64_encoded
        ca_certificates: [${caIds.root}]
        secure_source: false
`,
      { env: {}, plugins: pluginSchemas },
    );
    if (!loaded.ok) throw new Error(formatConfigErrors(loaded.errors));
    pair = await startProxyPair(loaded.config, { serverCertificate: idp.pki.serverCert, trustedCaPems: [idp.caPem], maxBufferedBodyBytes: bufferLimit });
  });

  after(async () => {
    await pair?.close();
    await echo?.close();
    await idp?.close();
  });

  async function send(base: string, path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
    const id = `oidc-cred-${pair.records.length}-${Math.random().toString(36).slice(2)}`;
    const res = await request(`${base}${path}`, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers: { ...init.headers, 'x-request-id': id }, body: init.body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, record: pair.records.find((r) => r.request_id === id), echo: () => JSON.parse(text) as Echo };
  }
  const upstreamHeader = (echoed: Echo, name: string): string | undefined =>
    Object.entries(echoed.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

  describe('token in the body (bearer_token_param_type: Kong default)', () => {
    it('authenticates with access_token in a form body and forwards the other fields, byte for byte', async () => {
      const token = await unboundToken();
      const res = await send(pair.trustedUrl, '/body/anything', { headers: form, body: `note=hello%20world&access_token=${token}&n=1` });
      assert.equal(res.status, 200, res.text);
      const echoed = res.echo();
      assert.equal(echoed.data, 'note=hello%20world&n=1');
      assert.deepEqual(echoed.form, { note: 'hello world', n: '1' });
      assert.equal(upstreamHeader(echoed, 'content-length'), String('note=hello%20world&n=1'.length));
      assert.equal(upstreamHeader(echoed, 'authorization'), `Bearer ${token}`, 'upstream_access_token_header');
      assert.equal(res.record?.auth?.reason, 'jwt_verified');
    });

    it('authenticates with access_token in a JSON body and removes only that member', async () => {
      const token = await unboundToken();
      const res = await send(pair.trustedUrl, '/body/anything', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: token, order: { id: 7, items: ['a', 'b'] } }),
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.echo().json, { order: { id: 7, items: ['a', 'b'] } });
    });

    it('refuses a form body too large to buffer with 413 when the token can only be in it', async () => {
      const res = await send(pair.trustedUrl, '/body/anything', { headers: form, body: `x=${'a'.repeat(bufferLimit)}` });
      assert.equal(res.status, 413);
      assert.deepEqual(Object.keys(JSON.parse(res.text) as object).sort(), ['message', 'request_id']);
      assert.equal(res.record?.reason, 'request_body_too_large');
    });

    it('streams a large body untouched when the token is in the header', async () => {
      const token = await unboundToken();
      const big = `x=${'a'.repeat(4 * bufferLimit)}&access_token=not-this-one`;
      const res = await send(pair.trustedUrl, '/body/anything', { headers: { ...form, authorization: `Bearer ${token}` }, body: big });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.echo().data_length, big.length);
    });
  });

  describe('token in the query', () => {
    it('removes access_token from the upstream query and keeps the other arguments exactly', async () => {
      const token = await unboundToken();
      const res = await send(pair.trustedUrl, `/body/anything?page=2&access_token=${token}&q=a%20b`);
      assert.equal(res.status, 200, res.text);
      const echoed = res.echo();
      assert.deepEqual(echoed.args, { page: '2', q: 'a b' });
      assert.match(echoed.url, /\/anything\/anything\?page=2&q=a%20b$/);
    });
  });

  describe('proof_of_possession_mtls_from_header', () => {
    it('lets a certificate-bound token through with its certificate forwarded by a trusted proxy', async () => {
      const token = (await idp.requestToken()).access_token!;
      const res = await send(pair.trustedUrl, '/pop-header/anything', {
        headers: { authorization: `Bearer ${token}`, 'x-client-cert': encodeURIComponent(idp.pki.client.certPem) },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.record?.thumbprint, idp.pki.client.thumbprint, 'the forwarded certificate is the request certificate');
    });

    it('refuses the token with another trusted client certificate, one from an unknown CA, or none', async () => {
      const token = (await idp.requestToken()).access_token!;
      for (const [pem, why] of [
        [idp.pki.otherClient.certPem, 'another client'],
        [idp.pki.otherCaClient.certPem, 'an unknown CA'],
        [null, 'no header'],
      ] as const) {
        const res = await send(pair.trustedUrl, '/pop-header/anything', {
          headers: { authorization: `Bearer ${token}`, ...(pem === null ? {} : { 'x-client-cert': encodeURIComponent(pem) }) },
        });
        assert.equal(res.status, 401, why);
        assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/, why);
      }
    });

    it('does not believe the header from a peer outside --trusted-ips (secure_source)', async () => {
      const token = (await idp.requestToken()).access_token!;
      const res = await send(pair.untrustedUrl, '/pop-header/anything', {
        headers: { authorization: `Bearer ${token}`, 'x-client-cert': encodeURIComponent(idp.pki.client.certPem) },
      });
      assert.equal(res.status, 401);
      assert.equal(res.record?.auth?.reason, 'pop_certificate_missing');
    });

    it('believes the header from anyone with secure_source: false', async () => {
      const token = (await idp.requestToken()).access_token!;
      const der = new X509Certificate(idp.pki.client.certPem).raw.toString('base64');
      const res = await send(pair.untrustedUrl, '/pop-open/anything', { headers: { authorization: `Bearer ${token}`, 'x-open-client-cert': der } });
      assert.equal(res.status, 200, res.text);
    });
  });
});
