/**
 * The "real files" suite: decK files written the way Kong's docs and decK examples write them
 * (test/real-files/*.yaml), each taken through a user's whole loop against a real gateway:
 * `portcullis validate`, `portcullis apply`, requests with curl, `portcullis dump`, `sync` of the
 * dump and of the original file (both change nothing), and a second dump identical to the first.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { portcullis } from '../helpers/cli.js';
import { curl } from '../helpers/curl.js';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';

const realFiles = fileURLToPath(new URL('../../../test/real-files/', import.meta.url));

interface RealFile {
  readonly path: string;
  readonly env: NodeJS.ProcessEnv;
}

/** validate + apply: the file is good and the gateway takes it. */
async function validateAndApply(gateway: GatewayProcess, file: RealFile): Promise<void> {
  const env = { ...file.env, PORTCULLIS_ADMIN_URL: gateway.adminUrl };
  const validated = await portcullis(['validate', file.path], { env });
  assert.equal(validated.code, 0, validated.stderr);
  assert.match(validated.stdout, /^configuration is valid: /);
  const applied = await portcullis(['apply', file.path], { env });
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout.trim(), /^created [1-9]\d*, updated 0, unchanged 0$/);
}

/** dump → sync → dump is identical, and neither the dump nor the original file changes anything on sync. */
async function roundTrips(gateway: GatewayProcess, file: RealFile): Promise<void> {
  const env = { ...file.env, PORTCULLIS_ADMIN_URL: gateway.adminUrl };
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-real-file-'));
  const dumpPath = join(dir, 'dump.yaml');
  const dumped = await portcullis(['dump', '--output', dumpPath], { env });
  assert.equal(dumped.code, 0, dumped.stderr);
  const first = await readFile(dumpPath, 'utf8');
  for (const source of [dumpPath, file.path]) {
    const synced = await portcullis(['sync', source], { env });
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout.trim().split('\n').at(-1) ?? '', /^created 0, updated 0, deleted 0, unchanged [1-9]\d*$/, `sync of ${source} changed something:\n${synced.stdout}`);
  }
  const second = await portcullis(['dump'], { env });
  assert.equal(second.stdout, first, 'dump → sync → dump is identical');
}

describe('real decK files: validate, apply, curl, dump, sync', () => {
  let echo: EchoServer;

  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await echo.close();
  });

  describe('key-auth + acl + rate-limiting on a service', () => {
    let gateway: GatewayProcess;
    let file: RealFile;
    before(async () => {
      gateway = await startGatewayProcess();
      file = { path: join(realFiles, 'key-auth-acl-rate-limiting.yaml'), env: { DECK_UPSTREAM_URL: `${echo.url}/anything` } };
      await validateAndApply(gateway, file);
    });
    after(() => gateway.stop());

    it('refuses a request without a key, and a consumer outside the allowed group, with Kong’s answers', async () => {
      const missing = await curl(`${gateway.httpUrl}/orders`);
      assert.equal(missing.status, 401);
      assert.equal(missing.headers['www-authenticate'], 'Key');
      assert.equal(missing.json().message, 'No API key found in request');
      const wrong = await curl(`${gateway.httpUrl}/orders`, ['-H', 'apikey: not-a-key']);
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json().message, 'Unauthorized');
      const intern = await curl(`${gateway.httpUrl}/orders`, ['-H', 'apikey: intern-key-456']);
      assert.equal(intern.status, 403);
      assert.equal(intern.json().message, 'You cannot consume this service');
    });

    it('passes the partner with its consumer headers and counts it against the hour, then answers 429', async () => {
      const first = await curl(`${gateway.httpUrl}/orders?sku=1`, ['-H', 'apikey: partner-key-123']);
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-ratelimit-limit-hour'], '5');
      assert.equal(first.headers['x-ratelimit-remaining-hour'], '4');
      const seen = first.json<{ headers: Record<string, string> }>().headers;
      assert.equal(seen['x-consumer-username'], 'partner-app');
      assert.equal(seen['x-consumer-custom-id'], 'partner-001');
      assert.equal(seen['x-consumer-groups'], undefined, 'hide_groups_header');
      for (let i = 0; i < 4; i++) assert.equal((await curl(`${gateway.httpUrl}/orders`, ['-H', 'apikey: partner-key-123'])).status, 200);
      const limited = await curl(`${gateway.httpUrl}/orders`, ['-H', 'apikey: partner-key-123']);
      assert.equal(limited.status, 429);
      assert.equal(limited.json().message, 'API rate limit exceeded');
      assert.equal(limited.headers['x-ratelimit-remaining-hour'], '0');
      assert.match(limited.headers['retry-after'] ?? '', /^\d+$/);
    });

    it('dumps and syncs back unchanged', () => roundTrips(gateway, file));
  });

  describe('cors + openid-connect with certificate-bound tokens (the tutorial, for a browser app)', () => {
    let idp: TestIdp;
    let gateway: GatewayProcess;
    let file: RealFile;
    before(async () => {
      idp = await startTestIdp();
      gateway = await startGatewayProcess({ args: ['--trusted-certificate', idp.caPath] });
      file = { path: join(realFiles, 'cors-openid-connect-mtls.yaml'), env: { DECK_UPSTREAM_URL: `${echo.url}/anything`, DECK_ISSUER: idp.issuer } };
      await validateAndApply(gateway, file);
    });
    after(async () => {
      await gateway.stop();
      await idp.close();
    });

    it('answers a preflight at the gateway, without a token', async () => {
      const preflight = await curl(`${gateway.httpsUrl}/anything`, ['-X', 'OPTIONS', '-H', 'Origin: https://app.example.com', '-H', 'Access-Control-Request-Method: POST', '-H', 'Access-Control-Request-Headers: Authorization']);
      assert.equal(preflight.status, 200);
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
      assert.equal(preflight.headers['access-control-allow-methods'], 'GET,POST');
      assert.equal(preflight.headers['access-control-allow-headers'], 'Authorization,Content-Type');
      assert.equal(preflight.headers['access-control-max-age'], '3600');
    });

    it('refuses a request without a token with a Bearer challenge the browser may read', async () => {
      const refused = await curl(`${gateway.httpsUrl}/anything`, ['-H', 'Origin: https://app.example.com', '--cert', idp.pki.client.certPath, '--key', idp.pki.client.keyPath]);
      assert.equal(refused.status, 401);
      assert.match(refused.headers['www-authenticate'] ?? '', /^Bearer/);
      assert.equal(refused.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.match(refused.headers['access-control-expose-headers'] ?? '', /WWW-Authenticate/i);
    });

    it('passes the token with the certificate it is bound to, and refuses it with another certificate', async () => {
      const token = await idp.requestToken();
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const bearer = ['-H', `Authorization: Bearer ${token.access_token ?? ''}`, '-H', 'Origin: https://app.example.com'];
      const ok = await curl(`${gateway.httpsUrl}/anything`, [...bearer, '--cert', idp.pki.client.certPath, '--key', idp.pki.client.keyPath]);
      assert.equal(ok.status, 200, ok.body);
      assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
      const other = await curl(`${gateway.httpsUrl}/anything`, [...bearer, '--cert', idp.pki.otherClient.certPath, '--key', idp.pki.otherClient.keyPath]);
      assert.equal(other.status, 401);
      assert.match(other.headers['www-authenticate'] ?? '', /error="invalid_token"/);
    });

    it('dumps and syncs back unchanged', () => roundTrips(gateway, file));
  });

  describe('jwt or basic-auth for partners, anonymous kept out by the acl', () => {
    let gateway: GatewayProcess;
    let file: RealFile;
    before(async () => {
      gateway = await startGatewayProcess();
      file = { path: join(realFiles, 'jwt-basic-auth-partners.yaml'), env: { DECK_UPSTREAM_URL: `${echo.url}/anything` } };
      await validateAndApply(gateway, file);
    });
    after(() => gateway.stop());

    const partnerToken = (expiresIn: string): Promise<string> =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer('acme-issuer')
        .setExpirationTime(expiresIn)
        .sign(new TextEncoder().encode('acme-hs256-shared-secret-0123456789abcdef'));

    it('passes a JWT signed with the partner secret, and the legacy basic credentials (hidden from the upstream)', async () => {
      const jwt = await curl(`${gateway.httpUrl}/partners`, ['-H', `Authorization: Bearer ${await partnerToken('10m')}`]);
      assert.equal(jwt.status, 200, jwt.body);
      assert.equal(jwt.json<{ headers: Record<string, string> }>().headers['x-consumer-username'], 'partner-acme');
      const basic = await curl(`${gateway.httpUrl}/partners`, ['-u', 'acme-legacy:legacy-password-Secr3t']);
      assert.equal(basic.status, 200, basic.body);
      const seen = basic.json<{ headers: Record<string, string> }>().headers;
      assert.equal(seen['x-consumer-username'], 'partner-acme');
      assert.equal(seen['authorization'], undefined, 'hide_credentials');
    });

    it('keeps out the anonymous consumer (acl: no credential, 401), a wrong password, and a token beyond maximum_expiration', async () => {
      assert.equal((await curl(`${gateway.httpUrl}/partners`)).status, 401);
      assert.equal((await curl(`${gateway.httpUrl}/partners`, ['-u', 'acme-legacy:wrong'])).status, 401);
      const tooLong = await curl(`${gateway.httpUrl}/partners`, ['-H', `Authorization: Bearer ${await partnerToken('2h')}`]);
      assert.equal(tooLong.status, 401, 'refused by jwt, then anonymous, whom the acl refuses');
    });

    it('dumps (the password as its hash) and syncs back unchanged, the password still working', async () => {
      await roundTrips(gateway, file);
      const dumped = await portcullis(['dump'], { env: { PORTCULLIS_ADMIN_URL: gateway.adminUrl } });
      assert.ok(!dumped.stdout.includes('legacy-password-Secr3t'));
      assert.equal((await curl(`${gateway.httpUrl}/partners`, ['-u', 'acme-legacy:legacy-password-Secr3t'])).status, 200);
    });
  });

  describe('upstream-backed services: balancing, ip-restriction, maintenance', () => {
    let targets: CountingUpstream[];
    let gateway: GatewayProcess;
    let file: RealFile;
    before(async () => {
      targets = await Promise.all([startCountingUpstream(), startCountingUpstream()]);
      gateway = await startGatewayProcess();
      const [a, b] = targets.map((target) => new URL(target.url).host);
      file = { path: join(realFiles, 'upstream-backed-services.yaml'), env: { DECK_TARGET_A: a, DECK_TARGET_B: b } };
      await validateAndApply(gateway, file);
    });
    after(async () => {
      await gateway.stop();
      await Promise.all(targets.map((target) => new Promise((resolve) => target.server.close(resolve))));
    });

    it('balances round-robin over both targets', async () => {
      for (let i = 0; i < 6; i++) {
        const answer = await curl(`${gateway.httpUrl}/inventory/items`);
        assert.equal(answer.status, 200);
        assert.equal(answer.body, 'ok');
      }
      assert.deepEqual(targets.map((target) => target.hits()), [3, 3]);
    });

    it('refuses a client outside the allowed network with the configured message, and answers maintenance without the upstream', async () => {
      const hits = targets.map((target) => target.hits());
      const office = await curl(`${gateway.httpUrl}/office`);
      assert.equal(office.status, 403);
      assert.equal(office.json().message, 'Office network only');
      const maintenance = await curl(`${gateway.httpUrl}/maintenance`);
      assert.equal(maintenance.status, 503);
      assert.equal(maintenance.json().message, 'Inventory is under maintenance');
      const wrongMethod = await curl(`${gateway.httpUrl}/inventory/items`, ['-X', 'POST']);
      assert.equal(wrongMethod.status, 404);
      assert.deepEqual(targets.map((target) => target.hits()), hits);
    });

    it('dumps and syncs back unchanged', () => roundTrips(gateway, file));
  });

  describe('rate-limiting tiers by consumer group (Kong Enterprise files)', () => {
    let gateway: GatewayProcess;
    let file: RealFile;
    before(async () => {
      gateway = await startGatewayProcess();
      file = { path: join(realFiles, 'consumer-group-rate-limiting-tiers.yaml'), env: { DECK_UPSTREAM_URL: `${echo.url}/anything` } };
      await validateAndApply(gateway, file);
    });
    after(() => gateway.stop());

    it("gives each tier its group's limit, and refuses the Free tier's fourth request in the hour", async () => {
      for (const [key, limit] of [['amal', '3'], ['dana', '5'], ['mahan', '10']] as const) {
        const answer = await curl(`${gateway.httpUrl}/anything`, ['-H', `apikey: ${key}`]);
        assert.equal(answer.status, 200, answer.body);
        assert.equal(answer.headers['x-ratelimit-limit-hour'], limit, key);
      }
      for (let i = 0; i < 2; i++) assert.equal((await curl(`${gateway.httpUrl}/anything`, ['-H', 'apikey: amal'])).status, 200);
      const limited = await curl(`${gateway.httpUrl}/anything`, ['-H', 'apikey: amal']);
      assert.equal(limited.status, 429);
      assert.equal(limited.json().message, 'API rate limit exceeded');
      assert.equal((await curl(`${gateway.httpUrl}/anything`, ['-H', 'apikey: dana'])).status, 200, 'another tier counts on its own');
    });

    it('dumps and syncs back unchanged', () => roundTrips(gateway, file));
  });

  describe('request-transformer + correlation-id + http-log on an internal service', () => {
    let gateway: GatewayProcess;
    let file: RealFile;
    let collector: Server;
    const batches: unknown[] = [];
    const collectorHeaders: IncomingHttpHeaders[] = [];
    before(async () => {
      collector = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8').on('data', (c: string) => (body += c));
        req.on('end', () => {
          collectorHeaders.push(req.headers);
          batches.push(JSON.parse(body));
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
      gateway = await startGatewayProcess();
      file = {
        path: join(realFiles, 'request-transformer-correlation-id-http-log.yaml'),
        env: { DECK_UPSTREAM_URL: `${echo.url}/anything`, DECK_LOG_URL: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/logs` },
      };
      await validateAndApply(gateway, file);
    });
    after(async () => {
      await gateway.stop();
      await new Promise((resolve) => collector.close(resolve));
    });

    it('gives each request a correlation id the upstream and the client see, and the upstream the headers and query it expects', async () => {
      const answer = await curl(`${gateway.httpUrl}/billing/invoices?month=11`, ['-H', 'X-Internal-Debug: 1', '-H', 'X-Client-Version: 4.2', '-H', 'X-Forwarded-Team: web']);
      assert.equal(answer.status, 200, answer.body);
      const id = answer.headers['x-correlation-id'] ?? '';
      assert.match(id, /^[0-9a-f-]{36}#\d+$/, 'uuid#counter, echoed downstream');
      const seen = answer.json<{ headers: Record<string, string>; args: Record<string, string> }>();
      assert.equal(seen.headers['x-correlation-id'], id);
      assert.equal(seen.headers['x-internal-debug'], undefined);
      assert.equal(seen.headers['x-api-version'], '4.2');
      assert.equal(seen.headers['x-client-version'], undefined);
      assert.equal(seen.headers['x-gateway'], 'portcullis');
      assert.match(seen.headers['x-forwarded-team'] ?? '', /^web, ?billing$/, 'appended as a second value');
      assert.deepEqual(seen.args, { month: '11', source: 'gateway' });
      const next = await curl(`${gateway.httpUrl}/billing/invoices`);
      assert.notEqual(next.headers['x-correlation-id'], id);
    });

    it('ships every request to the log collector in batches, with its headers', async () => {
      await eventually('the requests in the collector', () => batches.flat().length >= 2, 10_000);
      const records = batches.flat() as Array<{ request: { uri: string }; response: { status: number }; service: { name: string } }>;
      assert.ok(records.every((r) => r.service.name === 'billing' && r.response.status === 200));
      assert.equal(collectorHeaders[0]?.['x-log-source'], 'portcullis');
      assert.equal(collectorHeaders[0]?.['content-type'], 'application/json');
    });

    it('dumps and syncs back unchanged', () => roundTrips(gateway, file));
  });

  describe('prometheus global (Kong monitoring guide)', () => {
    let gateway: GatewayProcess;
    let file: RealFile;
    before(async () => {
      gateway = await startGatewayProcess();
      file = { path: join(realFiles, 'prometheus-global.yaml'), env: { DECK_UPSTREAM_URL: `${echo.url}/anything` } };
      await validateAndApply(gateway, file);
    });
    after(() => gateway.stop());

    it("exports Kong's series for every service, per consumer, on /metrics", async () => {
      assert.equal((await curl(`${gateway.httpUrl}/reports`, ['-H', 'apikey: reporting-key-789'])).status, 200);
      assert.equal((await curl(`${gateway.httpUrl}/reports`)).status, 401);
      assert.equal((await curl(`${gateway.httpUrl}/status-page`)).status, 200);
      const metrics = await curl(`${gateway.adminUrl}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /kong_http_requests_total\{service="reports",route="reports-route",code="200",source="service",workspace="default",consumer="reporting-app"\} 1/);
      assert.match(metrics.body, /kong_http_requests_total\{service="reports",route="reports-route",code="401",source="kong",workspace="default",consumer=""\} 1/);
      assert.match(metrics.body, /kong_http_requests_total\{service="status",route="status-route",code="200"/);
      const series = (name: string, ...labels: string[]): string[] => metrics.body.split('\n').filter((line) => line.startsWith(`${name}{`) && labels.every((label) => line.includes(label)));
      assert.ok(series('kong_request_latency_ms_bucket', 'service="reports"', 'route="reports-route"', 'workspace="default"').length > 0, 'latency (Kong gives it no consumer label)');
      assert.ok(series('kong_bandwidth_bytes', 'service="reports"', 'direction="egress"', 'consumer="reporting-app"').length > 0, 'bandwidth per consumer');
      assert.ok(series('kong_upstream_latency_ms_bucket', 'service="status"').length > 0, 'upstream latency');
    });

    it('dumps and syncs back unchanged', () => roundTrips(gateway, file));
  });
});
