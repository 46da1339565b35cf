// RFC 9728 Protected Resource Metadata from a real gateway process: the documents read and checked
// with oauth4webapi's resource discovery (an independent client implementation), the
// `resource_metadata` auth-param on every challenge a route sends, a configured resource
// identifier, CORS for browser clients, and routes without the plugin left alone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oauth from 'oauth4webapi';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { DPOP_ALGORITHMS } from '../../src/dpop/proof.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { devClientSecret, startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

describe('protected-resource-metadata through the gateway', () => {
  let idp: TestIdp;
  let echo: EchoServer;
  let gateway: GatewayProcess;
  let origin: string;
  /** openid-connect's realm: the issuer's host. */
  let realm: string;
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  const custom = ((url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch;

  const send = async (path: string, options: { method?: 'GET' | 'HEAD' | 'OPTIONS' | 'POST'; headers?: Record<string, string> } = {}) => {
    const res = await request(`${origin}${path}`, { method: options.method ?? 'GET', headers: options.headers ?? {}, dispatcher: agent });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  };
  const discover = async (resource: string) => oauth.processResourceDiscoveryResponse(new URL(resource), await oauth.resourceDiscoveryRequest(new URL(resource), { [oauth.customFetch]: custom }));
  const upstreamHits = () => accessRecords(gateway).filter((r) => (r['latency_ms'] as { upstream: number | null }).upstream !== null).length;

  before(async () => {
    idp = await startTestIdp();
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const oidc = (extra: string) => `          - name: openid-connect
            config:
              issuer: ${idp.issuer}
              auth_methods: [bearer]
${extra}`;
    gateway = await startGatewayProcess({
      args: ['--trusted-certificate', idp.caPath],
      config: `_format_version: "3.0"
services:
  - name: echo
    url: ${echo.url}/anything
    routes:
      - name: dpop
        paths: [/dpop]
        plugins:
${oidc('              proof_of_possession_dpop: strict\n              scopes_required: ["files:read files:write"]\n')}
          - name: protected-resource-metadata
      - name: mixed
        paths: [/mixed]
        plugins:
${oidc('              proof_of_possession_dpop: optional\n')}
          - name: protected-resource-metadata
            config: { cache_max_age: 0 }
      - name: mcp
        paths: [/mcp]
        methods: [POST]
        plugins:
${oidc('')}
          - name: protected-resource-metadata
            config:
              resource: https://mcp.example.test/mcp
              authorization_servers: ["https://as.example.test"]
              resource_name: Example MCP server
      - name: quiet
        paths: [/quiet]
        plugins:
${oidc('')}
          - name: protected-resource-metadata
            config: { challenge: false }
      - name: scoped
        paths: [/scoped]
        plugins:
${oidc('              scopes_required: [admin]\n')}
          - name: protected-resource-metadata
      - name: plain
        paths: [/plain]
        plugins:
${oidc('')}
`,
    });
    origin = gateway.httpsUrl;
    realm = `realm="${new URL(idp.issuer).host}"`;
  });
  after(async () => {
    await agent.close();
    await gateway?.stop();
    await echo?.close();
    await idp?.close();
  });

  it("serves the route's document, derived from its openid-connect, and oauth4webapi accepts it", async () => {
    const metadata = await discover(`${origin}/dpop`);
    assert.deepEqual(metadata, {
      resource: `${origin}/dpop`,
      authorization_servers: [idp.issuer],
      scopes_supported: ['files:read', 'files:write'],
      bearer_methods_supported: ['header'],
      tls_client_certificate_bound_access_tokens: false,
      dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
      dpop_bound_access_tokens_required: true,
    });
    const raw = await send(`${WELL_KNOWN}/dpop`);
    assert.equal(raw.status, 200);
    assert.match(String(raw.headers['content-type']), /^application\/json/);
    assert.equal(raw.headers['cache-control'], 'public, max-age=300');
    assert.equal(raw.headers['access-control-allow-origin'], '*');
    const record = accessRecords(gateway).find((r) => r['path'] === `${WELL_KNOWN}/dpop`);
    assert.equal(record?.['route'], 'dpop');
    assert.equal(record?.['status'], 200);
    assert.equal((record?.['latency_ms'] as { upstream: unknown }).upstream, null, 'answered by the gateway');
  });

  it('names each path of the route as its own resource (RFC 9728 §3.3 compares the exact URL)', async () => {
    const metadata = await discover(`${origin}/dpop/files/1`);
    assert.equal(metadata.resource, `${origin}/dpop/files/1`);
    const dpopOff = await discover(`${origin}/mixed`);
    assert.equal(dpopOff.dpop_bound_access_tokens_required, false);
    assert.deepEqual(dpopOff.bearer_methods_supported, ['header', 'body', 'query']);
  });

  it('adds resource_metadata to the challenge of a 401, and the URL leads to a document for that resource', async () => {
    const before = upstreamHits();
    const res = await send('/dpop/files/1');
    assert.equal(res.status, 401);
    const url = `${origin}${WELL_KNOWN}/dpop/files/1`;
    assert.equal(res.headers['www-authenticate'], `DPoP algs="${DPOP_ALGORITHMS.join(' ')}", ${realm}, resource_metadata="${url}"`);
    const followed = await undiciFetch(url, { dispatcher: agent });
    const metadata = await oauth.processResourceDiscoveryResponse(new URL(`${origin}/dpop/files/1`), followed);
    assert.equal(metadata.resource, `${origin}/dpop/files/1`);
    assert.equal(upstreamHits(), before, 'nothing reached the upstream');
  });

  it('adds it to both challenges when both schemes are accepted, with the error of the refusal', async () => {
    const res = await send('/mixed', { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(res.status, 401);
    const url = `${origin}${WELL_KNOWN}/mixed`;
    const header = String(res.headers['www-authenticate']);
    assert.match(header, /^Bearer [^]*error="invalid_token"[^]*resource_metadata="([^"]+)"[^]*, DPoP algs="[^"]+"[^]*resource_metadata="([^"]+)"$/);
    assert.equal(header.split(`resource_metadata="${url}"`).length - 1, 2, header);
    assert.equal((await send(`${WELL_KNOWN}/mixed`)).headers['cache-control'], 'no-cache');
  });

  it('serves a configured resource at the URL derived from it, whatever method the route takes, and only there', async () => {
    const res = await send(`${WELL_KNOWN}/mcp`);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), {
      resource: 'https://mcp.example.test/mcp',
      authorization_servers: ['https://as.example.test'],
      bearer_methods_supported: ['header', 'body', 'query'],
      resource_name: 'Example MCP server',
      tls_client_certificate_bound_access_tokens: false,
      dpop_bound_access_tokens_required: false,
    });
    const refused = await request(`${origin}/mcp`, { method: 'POST', dispatcher: agent });
    await refused.body.text();
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['www-authenticate'], `Bearer ${realm}, resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"`);
    assert.equal((await send(`${WELL_KNOWN}/mcp/other`)).status, 404);
  });

  it('adds it to a 403 insufficient_scope next to the scope that would do (MCP)', async () => {
    const idpAgent = new Agent({ connect: { ca: idp.caPem } });
    const idpFetch = ((url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: idpAgent })) as unknown as typeof fetch;
    const issuer = new URL(idp.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.customFetch]: idpFetch }));
    const client: oauth.Client = { client_id: testIdpClientIds.secret };
    const grant = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(devClientSecret), new URLSearchParams({ scope: 'read' }), { [oauth.customFetch]: idpFetch });
    const { access_token: token } = await oauth.processClientCredentialsResponse(as, client, grant);
    await idpAgent.close();
    const res = await send('/scoped', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 403);
    assert.equal(res.headers['www-authenticate'], `Bearer ${realm}, error="insufficient_scope", scope="admin", resource_metadata="${origin}${WELL_KNOWN}/scoped"`);
    assert.deepEqual((await discover(`${origin}/scoped`)).scopes_supported, ['admin']);
  });

  it('leaves challenge: false routes and routes without the plugin without the parameter, and the latter without a document', async () => {
    assert.equal((await send(`${WELL_KNOWN}/quiet`)).status, 200);
    assert.equal((await send('/quiet')).headers['www-authenticate'], `Bearer ${realm}`);
    const plain = await send(`${WELL_KNOWN}/plain`);
    assert.equal(plain.status, 404);
    assert.equal((JSON.parse(plain.text) as { message?: string }).message, 'no Route matched with those values');
    assert.equal((await send('/plain')).headers['www-authenticate'], `Bearer ${realm}`);
    assert.equal((await send(`${WELL_KNOWN}/nowhere`)).status, 404);
  });

  it('answers HEAD and a CORS preflight; other methods are routed as usual', async () => {
    const head = await send(`${WELL_KNOWN}/dpop`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const preflight = await send(`${WELL_KNOWN}/dpop`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.equal(preflight.headers['access-control-allow-headers'], 'mcp-protocol-version');
    assert.match(String(preflight.headers['access-control-allow-methods']), /GET/);
    assert.equal((await send(`${WELL_KNOWN}/dpop`, { method: 'POST' })).status, 404);
  });
});
