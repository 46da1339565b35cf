// Kong's openid-connect admin endpoints through the real admin API (the admin listener routes
// `/openid-connect/` to the plugin): the issuers the running configuration uses, one of them, and
// DELETE, which forgets its discovery document, keys and the tokens verified with them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatConfigErrors, loadConfig } from '../../src/config/index.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import { defaultSettings } from '../../src/server/settings.js';
import { createLogger } from '../../src/util/logger.js';
import { admin } from '../helpers/admin.js';
import { fetchText, type SimpleResponse } from '../helpers/http.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';

interface IssuerView {
  id: string;
  issuer: string;
  configuration: { issuer?: string; jwks_uri?: string } | null;
  keys: Array<{ kid?: string; kty?: string; d?: unknown }>;
  created_at: number;
  updated_at: number;
  status: 'ok' | 'stale' | 'unavailable';
  last_error: string | null;
}

describe('openid-connect admin API: /openid-connect/issuers', () => {
  let idp: TestIdp;
  let idpDir: string;
  let echo: EchoServer;
  let gateway: Gateway;
  let proxyUrl: string;
  let adminUrl: string;

  const call = (token: string, path = '/a/anything'): Promise<SimpleResponse> => fetchText(`${proxyUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const list = async (): Promise<IssuerView[]> => {
    const res = await admin(adminUrl, 'GET', '/openid-connect/issuers');
    assert.equal(res.status, 200, res.text);
    const body = res.json<{ data: IssuerView[]; next: unknown }>();
    assert.equal(body.next, null);
    return body.data;
  };

  before(async () => {
    idpDir = await mkdtemp(join(tmpdir(), 'portcullis-oidc-admin-idp-'));
    idp = await startTestIdp({ dir: idpDir });
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    // Routes a and b name the issuer with the same settings (one shared issuer); c with another timeout (its own).
    const plugin = (route: string, extra = '') => `  - name: openid-connect
    route: ${route}
    config: { issuer: ${idp.issuer}, auth_methods: [bearer], rediscovery_lifetime: 0${extra} }
`;
    const loaded = loadConfig(
      `_format_version: "3.0"
services:
  - name: echo
    url: ${echo.url}/anything
    routes:
      - { name: a, paths: ["/a"] }
      - { name: b, paths: ["/b"] }
      - { name: c, paths: ["/c"] }
plugins:
${plugin('a')}${plugin('b')}${plugin('c', ', timeout: 5000')}`,
      { env: {}, plugins: pluginSchemas },
    );
    if (!loaded.ok) throw new Error(formatConfigErrors(loaded.errors));
    const prefix = await mkdtemp(join(tmpdir(), 'portcullis-oidc-admin-'));
    gateway = await startGateway(
      { ...defaultSettings, prefix, proxyListen: '127.0.0.1:0', adminListen: '127.0.0.1:0', accessLog: false, logLevel: 'silent', trustedCertificates: [idp.caPath] },
      { logger: createLogger({ level: 'silent' }), config: loaded.config },
    );
    proxyUrl = `http://127.0.0.1:${gateway.proxyListeners[0]!.address.port}`;
    adminUrl = `http://127.0.0.1:${gateway.adminListeners[0]!.address.port}`;
  });

  after(async () => {
    await gateway?.close();
    await echo?.close();
    await idp?.close();
    await rm(idpDir, { recursive: true, force: true });
  });

  it('lists the issuers in use, shared by instances with the same settings, with their discovery and public keys', async () => {
    const token = await idp.mintToken({}, { boundTo: null });
    for (const path of ['/a/anything', '/c/anything']) assert.equal((await call(token, path)).status, 200, path);
    const issuers = await list();
    assert.equal(issuers.length, 2, 'a and b share one issuer; c has its own');
    for (const issuer of issuers) {
      assert.equal(issuer.issuer, idp.issuer);
      assert.match(issuer.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(issuer.status, 'ok');
      assert.equal(issuer.last_error, null);
      assert.equal(issuer.configuration?.issuer, idp.issuer);
      assert.ok(issuer.keys.length > 0);
      assert.ok(issuer.keys.every((k) => typeof k.kid === 'string' && k.d === undefined), 'public keys only');
      assert.ok(issuer.updated_at >= issuer.created_at);
    }
  });

  it('shows one issuer by id, and answers 404 for an unknown id or path and 405 for other methods', async () => {
    const [first] = await list();
    const one = await admin(adminUrl, 'GET', `/openid-connect/issuers/${first!.id}`);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.json<IssuerView>(), first);
    assert.equal((await admin(adminUrl, 'GET', '/openid-connect/issuers/00000000-0000-5000-8000-000000000000')).status, 404);
    assert.equal((await admin(adminUrl, 'GET', '/openid-connect/nothing')).status, 404);
    assert.equal((await admin(adminUrl, 'POST', '/openid-connect/issuers', {})).status, 405);
    assert.equal((await admin(adminUrl, 'PATCH', `/openid-connect/issuers/${first!.id}`, {})).status, 405);
  });

  it('DELETE forgets the discovery document, the keys and the tokens verified with them; the next request rediscovers', async () => {
    const token = await idp.mintToken({}, { boundTo: null });
    assert.equal((await call(token)).status, 200);
    const ids = (await list()).map((i) => i.id);
    const port = idp.idp.port;
    const view = async (id: string): Promise<IssuerView> => (await admin(adminUrl, 'GET', `/openid-connect/issuers/${id}`)).json<IssuerView>();

    // With the IdP gone, the cached token and keys would still answer; DELETE removes both.
    await idp.close();
    assert.equal((await call(token)).status, 200, 'served from the token cache while the IdP is down');
    for (const id of ids) assert.equal((await admin(adminUrl, 'DELETE', `/openid-connect/issuers/${id}`)).status, 204);
    for (const id of ids) {
      const dropped = await view(id);
      assert.deepEqual([dropped.configuration, dropped.keys, dropped.status], [null, [], 'unavailable']);
    }
    const unavailable = await call(token);
    assert.equal(unavailable.status, 500, 'nothing cached any more, and the IdP cannot be reached');
    assert.equal(unavailable.json<{ message: string }>().message, 'An unexpected error occurred');
    assert.ok((await list()).some((i) => i.last_error !== null), 'the failed rediscovery is reported');

    // The IdP is back (same keys, same issuer); DELETE also clears the retry backoff.
    idp = await startTestIdp({ dir: idpDir, port });
    for (const id of ids) assert.equal((await admin(adminUrl, 'DELETE', `/openid-connect/issuers/${id}`)).status, 204);
    assert.equal((await call(token)).status, 200);
    assert.ok(
      (await Promise.all(ids.map(view))).some((i) => i.status === 'ok' && i.configuration?.issuer === idp.issuer),
      'rediscovered',
    );
  });
});
