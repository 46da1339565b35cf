/**
 * cors and ip-restriction against a real gateway: a preflight answered by the gateway (nothing
 * upstream, no auth plugin asked), Kong's origin matching (exact, regex, credentials with the
 * request's origin), the headers on proxied responses and on the gateway's own refusals (a key-auth
 * 401 exposes WWW-Authenticate), preflight_continue; ip-restriction by allow and deny lists, with
 * Kong's default message and a custom status, and the client address from a trusted proxy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { eventually } from '../helpers/eventually.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

describe('cors and ip-restriction', () => {
  let gateway: GatewayProcess;
  let upstream: CountingUpstream;
  const call = (path: string, method: 'GET' | 'OPTIONS', headers: Record<string, string> = {}) => fetchText(`${gateway.httpUrl}${path}`, { method, headers });

  before(async () => {
    upstream = await startCountingUpstream();
    gateway = await startGatewayProcess({
      args: ['--trusted-ips', '127.0.0.1'],
      config: `_format_version: "3.0"
consumers:
  - username: app
    keyauth_credentials: [{ key: app-key }]
services:
  - name: api
    url: ${upstream.url}
    routes:
      - name: any
        paths: [/any]
        plugins:
          - name: cors
      - name: listed
        paths: [/listed]
        plugins:
          - name: cors
            config:
              origins: ["https://app.example.com", "https://.*\\\\.partner\\\\.example"]
              headers: [Authorization, DPoP]
              exposed_headers: [X-Trace]
              credentials: true
              max_age: 600
          - name: key-auth
      - name: continue
        paths: [/continue]
        plugins:
          - name: cors
            config: { preflight_continue: true }
      - name: allow
        paths: [/allow]
        plugins:
          - name: ip-restriction
            config: { allow: [10.0.0.0/8, "2001:db8::/32"] }
      - name: deny
        paths: [/deny]
        plugins:
          - name: ip-restriction
            config: { deny: [192.0.2.7], status: 401, message: go away }
`,
    });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it('answers a preflight itself, 200, with every allowed method and the requested headers; the upstream sees nothing', async () => {
    const before = upstream.methods.length;
    const preflight = await call('/any', 'OPTIONS', { origin: 'https://site.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-a,x-b' });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT');
    assert.equal(preflight.headers['access-control-allow-headers'], 'x-a,x-b');
    assert.equal(preflight.text, '');
    assert.equal(upstream.methods.length, before);
    const reason = await eventually('the preflight in the access log', () => accessRecords(gateway).find((r) => r['method'] === 'OPTIONS')?.['reason']);
    assert.equal(reason, 'cors_preflight');
    const plain = await call('/any', 'GET', { origin: 'https://site.example' });
    assert.equal(plain.headers['access-control-allow-origin'], '*');
    assert.equal((await call('/any', 'GET')).headers['access-control-allow-origin'], '*', 'allow_origin_absent defaults to true');
  });

  it('matches listed origins (exact, or a regex on the host, anchored), sends credentials with the request origin, and Vary: Origin', async () => {
    const preflight = await call('/listed', 'OPTIONS', { origin: 'https://api.partner.example', 'access-control-request-method': 'GET' });
    assert.equal(preflight.status, 200, 'a preflight needs no API key: cors runs first and answers it');
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://api.partner.example');
    assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
    assert.equal(preflight.headers['access-control-allow-headers'], 'Authorization,DPoP');
    assert.equal(preflight.headers['access-control-max-age'], '600');
    assert.equal(preflight.headers['vary'], 'Origin');
    const exact = await call('/listed', 'GET', { origin: 'https://app.example.com:443', apikey: 'app-key' });
    assert.equal(exact.status, 200);
    assert.equal(exact.headers['access-control-allow-origin'], 'https://app.example.com', 'the default port is dropped before comparing');
    assert.equal(exact.headers['access-control-expose-headers'], 'X-Trace');
    assert.match(String(exact.headers['vary']), /Accept-Encoding.*Origin/, "the upstream's Vary keeps its value");
    const other = await call('/listed', 'GET', { origin: 'https://evil.partner.example.attacker', apikey: 'app-key' });
    assert.equal(other.headers['access-control-allow-origin'], undefined, 'the regex is anchored at the end');
  });

  it("adds its headers to the gateway's own refusals, exposing WWW-Authenticate to the page's script", async () => {
    const refused = await call('/listed', 'GET', { origin: 'https://app.example.com' });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(refused.headers['www-authenticate'], 'Key');
    assert.equal(refused.headers['access-control-expose-headers'], 'X-Trace,WWW-Authenticate');
  });

  it('preflight_continue passes the preflight to the upstream', async () => {
    const before = upstream.methods.length;
    const passed = await call('/continue', 'OPTIONS', { origin: 'https://site.example', 'access-control-request-method': 'GET' });
    assert.equal(passed.status, 200);
    assert.deepEqual(upstream.methods.slice(before), ['OPTIONS']);
    assert.equal(passed.headers['access-control-allow-origin'], undefined, 'the upstream answers it, as Kong');
  });

  it('ip-restriction: allow lists by CIDR (the address a trusted proxy forwards in X-Real-IP), deny with a custom status and message', async () => {
    const refused = await call('/allow', 'GET');
    assert.equal(refused.status, 403);
    assert.equal(refused.json().message, 'IP address not allowed: 127.0.0.1');
    assert.equal((await call('/allow', 'GET', { 'x-real-ip': '10.1.2.3' })).status, 200);
    assert.equal((await call('/allow', 'GET', { 'x-real-ip': '2001:db8::1' })).status, 200);
    assert.equal((await call('/deny', 'GET')).status, 200);
    const denied = await call('/deny', 'GET', { 'x-real-ip': '192.0.2.7' });
    assert.equal(denied.status, 401);
    assert.equal(denied.json().message, 'go away');
    const reasons = await eventually('the refusals in the access log', () => {
      const found = accessRecords(gateway).filter((r) => r['status'] === 401 && String(r['path']) === '/deny');
      return found.length > 0 && found.map((r) => r['reason']);
    });
    assert.deepEqual(reasons, ['ip_not_allowed']);
  });

  it('refuses a bad CIDR, an ip-restriction with no list, and a cors origin that is no regex, with the paths', async () => {
    const cidr = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'ip-restriction', config: { allow: ['10.0.0.0/8', '10.0.0.0/33'] } });
    assert.equal(cidr.status, 400);
    assert.match(cidr.text, /config.allow\[1\]/);
    assert.match(cidr.text, /invalid ip or cidr range: '10.0.0.0\/33'/);
    const none = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'ip-restriction', config: {} });
    assert.match(none.text, /at least one of these fields must be non-empty: 'config.allow', 'config.deny'/);
    const regex = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'cors', config: { origins: ['https://(unclosed'] } });
    assert.match(regex.text, /config.origins\[0\]/);
    assert.match(regex.text, /is not a valid regex/);
  });
});
