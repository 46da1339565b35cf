// Certificates forwarded by a TLS-terminating proxy. The gateway is composed in-process from its
// real listener, handler and Runtime, because `--trusted-ips` reaches the handler through
// ProxyHandlerOptions.trustedIps; every peer here is 127.0.0.1, trusted on one listener and not
// on the other.
import { startProxyPair, type ProxyPair } from '../helpers/proxy-pair.js';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { formatConfigErrors, loadConfig } from '../../src/config/index.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import type { AccessRecord } from '../../src/server/access-log.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { caIds, caSection } from './client-cert-support.js';

const der = (pem: string): Buffer => new X509Certificate(pem).raw;

describe('certificates forwarded by a trusted proxy (header-cert-auth, --trusted-ips)', () => {
  let pki: TestPki;
  let echo: EchoServer;
  let pair: ProxyPair;

  before(async () => {
    pki = await makeTestPki();
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const route = (name: string, header: string, format: string, extra = ''): string => `      - name: ${name}
        paths: ["/${name}"]
        plugins:
          - name: header-cert-auth
            config: { certificate_header_name: ${header}, certificate_header_format: ${format}, ca_certificates: [${caIds.root}], revocation_check_mode: SKIP${extra} }
`;
    const loaded = loadConfig(
      `_format_version: "3.0"
${caSection(pki)}
consumers:
  - username: client-app
services:
  - name: s
    url: ${echo.url}
    routes:
${route('url', 'X-Client-Cert', 'url_encoded')}${route('b64', 'X-ARR-ClientCert', 'base64_encoded')}${route('rfc9440', 'Client-Cert', 'rfc9440')}${route('xfcc', 'X-Forwarded-Client-Cert', 'xfcc')}${route('skip', 'X-Client-Cert', 'url_encoded', ', skip_consumer_lookup: true')}${route('insecure', 'X-Insecure-Cert', 'url_encoded', ', secure_source: false')}      - name: open
        paths: ["/open"]
`,
      { env: {}, plugins: pluginSchemas },
    );
    if (!loaded.ok) throw new Error(formatConfigErrors(loaded.errors));
    pair = await startProxyPair(loaded.config, { serverCertificate: pki.serverCert });
  });

  after(async () => {
    await pair?.close();
    await echo?.close();
  });

  async function get(base: string, path: string, headers: Record<string, string | string[]>): Promise<{ status: number; body: Record<string, unknown>; record: AccessRecord | undefined }> {
    const id = `hdr-${pair.records.length}-${Math.random().toString(36).slice(2)}`;
    const res = await request(`${base}${path}`, { headers: { ...headers, 'x-request-id': id } });
    const text = await res.body.text();
    return { status: res.statusCode, body: JSON.parse(text) as Record<string, unknown>, record: pair.records.find((r) => r.request_id === id) };
  }
  const upstreamHeaders = (body: Record<string, unknown>): Record<string, string> =>
    Object.fromEntries(Object.entries(body['headers'] as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));

  const formats = [
    ['url_encoded PEM', '/url/anything', 'x-client-cert', (p: TestPki) => encodeURIComponent(p.client.certPem)],
    ['base64 DER', '/b64/anything', 'x-arr-clientcert', (p: TestPki) => der(p.client.certPem).toString('base64')],
    ['RFC 9440 Client-Cert', '/rfc9440/anything', 'client-cert', (p: TestPki) => `:${der(p.client.certPem).toString('base64')}:`],
    ['Envoy XFCC Cert=', '/xfcc/anything', 'x-forwarded-client-cert', (p: TestPki) => `By=spiffe://lb;Hash=00;Cert="${encodeURIComponent(p.client.certPem)}";Subject="CN=client-app"`],
  ] as const;

  for (const [format, path, header, value] of formats) {
    it(`authenticates a ${format} certificate from a trusted proxy and makes it the request's certificate`, async () => {
      const res = await get(pair.trustedUrl, path, { [header]: value(pki) });
      assert.equal(res.status, 200);
      assert.equal(upstreamHeaders(res.body)['x-consumer-username'], 'client-app');
      assert.equal(res.record?.thumbprint, pki.client.thumbprint);
    });
  }

  it('strips certificate headers from an untrusted peer before any plugin reads them, and never forwards them', async () => {
    const refused = await get(pair.untrustedUrl, '/url/anything', { 'x-client-cert': encodeURIComponent(pki.client.certPem) });
    assert.equal(refused.status, 401);
    assert.equal(refused.body['message'], 'No required TLS certificate was sent');
    const open = await get(pair.untrustedUrl, '/open/anything', {
      'x-client-cert': encodeURIComponent(pki.client.certPem),
      'client-cert': `:${der(pki.client.certPem).toString('base64')}:`,
      'x-forwarded-client-cert': 'Cert="x"',
    });
    assert.equal(open.status, 200);
    const seen = upstreamHeaders(open.body);
    assert.equal(seen['x-client-cert'], undefined);
    assert.equal(seen['client-cert'], undefined);
    assert.equal(seen['x-forwarded-client-cert'], undefined);
  });

  it('believes the header from any peer when secure_source is false (still verified against the CAs)', async () => {
    const res = await get(pair.untrustedUrl, '/insecure/anything', { 'x-insecure-cert': encodeURIComponent(pki.client.certPem) });
    assert.equal(res.status, 200);
    assert.equal(upstreamHeaders(res.body)['x-consumer-username'], 'client-app');
    const foreign = await get(pair.untrustedUrl, '/insecure/anything', { 'x-insecure-cert': encodeURIComponent(pki.otherCaClient.certPem) });
    assert.equal(foreign.status, 401);
  });

  it('refuses a forwarded certificate from an unknown CA', async () => {
    const res = await get(pair.trustedUrl, '/url/anything', { 'x-client-cert': encodeURIComponent(pki.otherCaClient.certPem) });
    assert.equal(res.status, 401);
    assert.equal(res.body['message'], 'TLS certificate failed verification');
  });

  it('answers 400, not a crash, to a malformed or duplicated certificate header', async () => {
    for (const headers of [
      { 'x-client-cert': '%E0%A4%A' },
      { 'x-client-cert': 'not a certificate' },
      { 'x-client-cert': [encodeURIComponent(pki.client.certPem), encodeURIComponent(pki.otherClient.certPem)] },
    ]) {
      const res = await get(pair.trustedUrl, '/url/anything', headers);
      assert.equal(res.status, 400, JSON.stringify(headers).slice(0, 60));
      assert.equal(res.body['message'], 'Malformed client certificate header');
    }
    const sf = await get(pair.trustedUrl, '/rfc9440/anything', { 'client-cert': 'AAAA' });
    assert.equal(sf.status, 400);
  });

  it('with skip_consumer_lookup sends X-Client-Cert-DN upstream', async () => {
    const res = await get(pair.trustedUrl, '/skip/anything', { 'x-client-cert': encodeURIComponent(pki.client.certPem) });
    assert.equal(res.status, 200);
    assert.equal(upstreamHeaders(res.body)['x-client-cert-dn'], 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US');
  });
});
