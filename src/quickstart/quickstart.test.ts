import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { loadConfig } from '../config/index.js';
import { parseConfigText } from '../config/parse.js';
import { renderTemplate } from '../config/template.js';
import { pluginSchemas } from '../plugins/index.js';
import type { AccessRecord } from '../server/access-log.js';
import { displayPath } from './instructions.js';
import { ensureQuickstartPki, otherClientSubject } from './pki.js';
import { describeBindError, describeGatewayBindError, PortUnavailableError } from './port-errors.js';
import { formatRequestLine, RequestLog } from './request-log.js';
import { tutorialSteps } from './tutorial-config.js';

const record = (over: Partial<AccessRecord> = {}): AccessRecord => ({
  request_id: 'r1',
  method: 'GET',
  path: '/anything',
  host: 'localhost',
  client: '127.0.0.1',
  sni: 'localhost',
  thumbprint: null,
  route: 'example-route',
  service: 'example-service',
  status: 401,
  reason: 'pop_certificate_missing',
  auth: { plugin: 'openid-connect', outcome: 'failure', reason: 'pop_certificate_missing' },
  latency_ms: { total: 1, upstream: null, gateway: 1 },
  config_version: 4,
  ...over,
});

describe('quickstart', () => {
  it("the tutorial's three steps and the DPoP route are each a decK file, and together the configuration the tutorial ends with", () => {
    const env = { DECK_ISSUER: 'https://localhost:9443/realms/master' };
    const steps = tutorialSteps('http://127.0.0.1:8080/anything');
    assert.deepEqual(steps.map((s) => s.file), ['1-required-entities.yaml', '2-tls-handshake-modifier.yaml', '3-openid-connect.yaml', '4-dpop-route.yaml']);
    const documents = steps.map((s) => {
      const rendered = renderTemplate(s.text, env);
      assert.ok(rendered.ok);
      const parsed = parseConfigText(rendered.text);
      assert.ok(parsed.ok);
      return parsed.value as Record<string, unknown[]>;
    });
    const merged = {
      _format_version: '3.0',
      services: documents[0]?.['services'],
      routes: [...(documents[0]?.['routes'] ?? []), ...(documents[3]?.['routes'] ?? [])],
      plugins: [...(documents[1]?.['plugins'] ?? []), ...(documents[2]?.['plugins'] ?? []), ...(documents[3]?.['plugins'] ?? [])],
    };
    const loaded = loadConfig(JSON.stringify(merged), { env: {}, plugins: pluginSchemas });
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors));
    const oidc = loaded.config.plugins.find((p) => p.name === 'openid-connect');
    assert.equal(loaded.config.plugins.find((p) => p.config['proof_of_possession_dpop'] === 'strict')?.route, loaded.config.routes.find((r) => r.name === 'dpop-route')?.id);
    assert.equal(oidc?.config['issuer'], env.DECK_ISSUER);
    assert.equal(oidc?.config['proof_of_possession_mtls'], 'strict');
    assert.match(steps[2]?.text ?? '', /issuer: "\$\{\{ env "DECK_ISSUER" \}\}"/, 'the issuer stays the tutorial template');
  });

  it('makes the certificates once, with a second client from the same CA', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-qs-pki-'));
    try {
      const first = await ensureQuickstartPki(join(dir, 'certs'));
      assert.equal(first.created, true);
      const ca = new X509Certificate(await readFile(first.caPath));
      const other = new X509Certificate(await readFile(first.otherClientCertPath));
      assert.ok(other.verify(ca.publicKey), 'signed by rootCA.crt');
      assert.equal(other.subject.split('\n').reverse().join(', '), otherClientSubject);
      assert.equal((await stat(first.otherClientKeyPath)).mode & 0o777, 0o600);
      const again = await ensureQuickstartPki(join(dir, 'certs'));
      assert.equal(again.created, false);
      assert.equal(again.clientThumbprint, first.clientThumbprint);
      await rm(first.serverKeyPath);
      await assert.rejects(ensureQuickstartPki(join(dir, 'certs')), /holds only some of/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the port, what wanted it and the flag that moves it', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', port: 8443 });
    const proxy = describeGatewayBindError(inUse, '0.0.0.0:8000, 0.0.0.0:8443 ssl', '127.0.0.1:8001');
    assert.ok(proxy instanceof PortUnavailableError);
    assert.equal(proxy.message, 'port 8443 is already in use (gateway proxy on 0.0.0.0:8443 ssl); stop what uses it, or choose another port with --proxy-listen');
    const admin = describeGatewayBindError(Object.assign(new Error(''), { code: 'EACCES', port: 8001 }), '0.0.0.0:8000', '127.0.0.1:8001');
    assert.match((admin as Error).message, /^port 8001 is not permitted for this user \(gateway admin API on 127\.0\.0\.1:8001\); choose another port with --admin-listen$/);
    const other = new Error('something else');
    assert.equal(describeBindError(other, 'echo', '--echo-port', 8080), other);
  });

  it("shows a request's answer with the reason and the certificate", () => {
    assert.equal(formatRequestLine(record()), 'GET /anything → 401  openid-connect: pop_certificate_missing  (no client certificate)');
    assert.equal(
      formatRequestLine(record({ status: 404, reason: 'no_route', auth: null, thumbprint: 'abc' })),
      'GET /anything → 404  no_route  (client certificate x5t#S256 abc)',
    );
  });

  it('hands a finished request to whoever waits for its id, before or after it finished', async () => {
    const seen: string[] = [];
    const log = new RequestLog({ requestFinished: (r) => seen.push(`metrics ${r.request_id}`) });
    const waiting = log.waitFor('later');
    log.requestFinished(record({ request_id: 'early' }));
    log.requestFinished(record({ request_id: 'later', status: 200 }));
    assert.equal((await waiting)?.status, 200);
    assert.equal((await log.waitFor('early'))?.request_id, 'early');
    assert.equal(await log.waitFor('never', 10), null);
    assert.deepEqual(seen, ['metrics early', 'metrics later']);
  });

  it('shows paths relative to where the user is when inside it, absolute otherwise', () => {
    assert.equal(displayPath('/home/u/app/.portcullis/quickstart/certs/client.crt', '/home/u/app'), '.portcullis/quickstart/certs/client.crt');
    assert.equal(displayPath('/tmp/qs/client.crt', '/home/u/app'), '/tmp/qs/client.crt');
  });
});
