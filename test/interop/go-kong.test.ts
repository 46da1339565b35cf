/**
 * decK's sequences, replayed with go-kong itself against a running gateway. `go-kong/` is a small Go
 * program on Debian's go-kong (the Go client decK is built on), built offline in GOPATH mode, with one
 * subcommand per decK command: the same list requests, the same client-side ids, the same defaults
 * filled from `/schemas/...` and the same comparison before it writes (see its files). This test runs
 * it and asserts what a decK user would see.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { admin } from '../helpers/admin.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

type Json = Record<string, unknown>;

interface SyncResult {
  created: number;
  updated: number;
  deleted: number;
  changes: Array<{ op: string; kind: string; name: string; id: string }>;
  requests: Array<{ request: string; status: number }>;
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const GO_KONG = '/usr/share/gocode/src/github.com/kong/go-kong/kong';

/** Go and go-kong from Debian; installed here when missing (CI's .ci/run installs them first). */
function ensureGoKong(): void {
  const missing = [existsSync('/usr/bin/go') ? null : 'golang-go', existsSync(GO_KONG) ? null : 'golang-github-kong-go-kong-dev'].filter((p) => p !== null);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`the go-kong interop suite needs Debian's ${missing.join(' ')} (apt-get install them)`);
  execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const indent = (text: string, spaces: number): string =>
  text
    .trim()
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');

/** The tutorial's decK steps in one file: the service and route, then its two plugins. */
const tutorial = (stripPath = true): string => `_format_version: "3.0"
services:
- name: example-service
  url: http://httpbin.konghq.com/anything
  routes:
  - name: example-route
    paths:
    - /anything${stripPath ? '' : '\n    strip_path: false'}
plugins:
- name: tls-handshake-modifier
  route: example-route
  config:
    tls_client_certificate: REQUEST
- name: openid-connect
  route: example-route
  config:
    issuer: https://localhost:9443/realms/master
    auth_methods:
    - bearer
    proof_of_possession_mtls: strict
    proof_of_possession_auth_methods_validation: true
`;

describe('decK sequences replayed with go-kong', () => {
  let gateway: GatewayProcess;
  let pki: TestPki;
  let dir: string;
  let binary: string;

  /** Runs one deckreplay command; resolves with its JSON output, or rejects with its stderr. */
  function deck<T = Json>(...args: string[]): Promise<T> {
    return new Promise((resolve, reject) => {
      execFile(binary, ['--admin-url', gateway.adminUrl, ...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`deckreplay ${args.join(' ')}: ${stderr || error.message}\n${stdout}`));
        else resolve(JSON.parse(stdout) as T);
      });
    });
  }

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  before(async () => {
    ensureGoKong();
    dir = await mkdtemp(join(tmpdir(), 'portcullis-go-kong-'));
    binary = join(dir, 'deckreplay');
    // GOPATH mode, offline: every import comes from Debian's /usr/share/gocode.
    execFileSync('go', ['build', '-o', binary, './test/interop/go-kong/'], {
      cwd: repoRoot,
      env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(dir, 'gocache'), GOFLAGS: '', GOPROXY: 'off' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Certificate keys shown as Kong shows them: decK compares them.
    [gateway, pki] = await Promise.all([startGatewayProcess({ args: ['--admin-private-keys', 'shown'] }), makeTestPki()]);
  });
  after(async () => {
    await gateway?.stop();
  });

  it('reads the version as Kong 3.x, and the Server header names Portcullis', async () => {
    const version = await deck<{ version: string; major_minor: string; server: string }>('version');
    assert.match(version.major_minor, /^3\.\d+$/);
    assert.match(version.server, /^portcullis\//);
    assert.doesNotMatch(version.server, /ai-gateway/);
  });

  it('dumps an empty gateway: every list decK reads answers (upstreams an empty list), nothing in it', async () => {
    const dump = await deck<{ state: Json & { optional: Json }; requests: SyncResult['requests'] }>('dump');
    const statusOf = (path: string): number | undefined => dump.requests.find((r) => r.request === `GET ${path}?size=1000`)?.status;
    for (const path of ['/services', '/routes', '/plugins', '/certificates', '/ca_certificates', '/snis', '/upstreams', '/consumers', '/key-auths', '/consumer_groups']) {
      assert.equal(statusOf(path), 200, path);
    }
    for (const path of ['/partials']) assert.equal(statusOf(path), 404, `${path}: 404, which decK skips`);
    for (const kind of ['services', 'routes', 'plugins', 'certificates', 'snis', 'upstreams', 'consumers']) assert.equal(dump.state[kind], null, kind);
  });

  it("syncs the tutorial's file with decK's client-side ids; a second sync changes nothing; a diff finds the one change", async () => {
    const path = await file('tutorial.yaml', tutorial());
    const first = await deck<SyncResult>('sync', path);
    assert.deepEqual([first.created, first.updated, first.deleted], [4, 0, 0], JSON.stringify(first.changes));
    assert.ok(first.requests.some((r) => r.request === 'GET /schemas/plugins/openid-connect' && r.status === 200));
    // The gateway keeps the ids the client made up.
    const config = (await admin(gateway.adminUrl, 'GET', '/config', undefined, { accept: 'application/json' })).json<{ services: Json[]; plugins: Json[] }>();
    const serviceId = first.changes.find((c) => c.kind === 'service')?.id;
    assert.equal(config.services[0]?.id, serviceId);
    assert.deepEqual(config.plugins.map((p) => p.id).sort(), first.changes.filter((c) => c.kind === 'plugin').map((c) => c.id).sort());

    const second = await deck<SyncResult>('sync', path);
    assert.deepEqual(second.changes, [], 'the defaults decK fills are the ones the gateway shows');

    const changed = await file('tutorial-changed.yaml', tutorial(false));
    const diff = await deck<SyncResult>('diff', changed);
    assert.deepEqual(diff.changes.map((c) => [c.op, c.kind, c.name]), [['update', 'route', 'example-route']]);
    assert.ok(!diff.requests.some((r) => r.request.startsWith('PUT ')), 'a diff writes nothing');
  });

  it('applies the tutorial step by step (apply deletes nothing), and syncs a full gateway from its own dump without changes', async () => {
    const consumers = `_format_version: "3.0"
consumers:
- username: alice
  custom_id: c-alice
- username: bob
  custom_id: c-bob
certificates:
- cert: |
${indent(pki.serverCert.certPem, 4)}
  key: |
${indent(pki.serverCert.keyPem, 4)}
  snis:
  - a.example.test
  - b.example.test
ca_certificates:
- cert: |
${indent(pki.ca.certPem, 4)}
`;
    const applied = await deck<SyncResult>('apply', await file('more.yaml', consumers));
    assert.deepEqual([applied.created, applied.updated, applied.deleted], [6, 0, 0], JSON.stringify(applied.changes));
    // Portcullis's own dump (decK YAML with every id and key), synced back with go-kong: no change.
    const dump = await admin(gateway.adminUrl, 'GET', '/config?include_private_keys=true');
    const again = await deck<SyncResult>('sync', await file('dump.yaml', dump.text));
    assert.deepEqual(again.changes, []);
  });

  it("finds a consumer by custom_id (go-kong's GetByCustomID), and none for an unknown one", async () => {
    assert.equal((await deck<{ username: string }>('custom-id', 'c-bob')).username, 'bob');
    assert.equal((await deck<{ username: string }>('custom-id', 'c-alice')).username, 'alice');
    assert.deepEqual(await deck('custom-id', 'nobody'), { not_found: true });
  });

  it('creates an SNI with the id the client chose (PUT /snis/{uuid})', async () => {
    const certificates = (await admin(gateway.adminUrl, 'GET', '/certificates')).json<{ data: Json[] }>().data;
    const certId = String(certificates[0]?.id);
    const sniId = '6f1c2b8e-2f43-4b5e-9a51-0d5b2e0c7a11';
    const result = await deck<{ put: Json; get: Json }>('sni-put', certId, sniId, 'c.example.test');
    assert.equal(result.put.id, sniId);
    assert.equal(result.get.id, sniId);
    assert.equal(result.get.name, 'c.example.test');
  });

  it('validates a file online: a good one passes, a bad plugin config fails with its field named', async () => {
    const good = await deck<{ ok: boolean; results: Json[] }>('validate', await file('valid.yaml', tutorial()));
    assert.equal(good.ok, true);
    assert.ok(good.results.length >= 4);
    // decK's own typed structs catch a wrong route field before any request; a plugin's config is
    // a free map to decK, so only the gateway can tell.
    const bad = tutorial().replace('proof_of_possession_mtls: strict', 'proof_of_possession_mtls: sometimes');
    await assert.rejects(deck('validate', await file('invalid.yaml', bad)), (error: Error) => {
      assert.match(error.message, /"type": "plugins"[\s\S]*"status": 400[\s\S]*config\.proof_of_possession_mtls: /);
      return true;
    });
  });

  it("pushes a configuration as the ingress controller does (POST /config?check_hash=1), and reads the changed hash", async () => {
    const before = (await admin(gateway.adminUrl, 'GET', '/status')).json<{ configuration_hash: string }>().configuration_hash;
    const pushed = await deck<{ push_status: number; configuration_hash: string }>('ingress-push', await file('ingress.yaml', tutorial(false)));
    assert.equal(pushed.push_status, 201);
    assert.notEqual(pushed.configuration_hash, before);
    const unchanged = await deck<{ push_status: number }>('ingress-push', await file('ingress.yaml', tutorial(false)));
    assert.ok(unchanged.push_status >= 200 && unchanged.push_status < 400, 'the controller takes any 2xx/3xx as success');
    const refused = await deck<{ push_status: number; error_body: { flattened_errors: Json[] } }>(
      'ingress-push',
      await file('ingress-bad.yaml', tutorial().replace('    - /anything', '    - anything')),
    );
    assert.equal(refused.push_status, 400);
    assert.equal(refused.error_body.flattened_errors[0]?.entity_type, 'route');
  });

  it("applies upstreams with their targets as decK does; a second apply changes nothing; a weight is one target update; the dump reads them back", async () => {
    const upstreams = (weight: number): string => `_format_version: "3.0"
upstreams:
- name: backend.internal
  slots: 100
  targets:
  - target: 10.0.0.1:8000
  - target: backend-2.internal:9000
    weight: ${weight}
`;
    const path = await file('upstreams.yaml', upstreams(50));
    const valid = await deck<{ ok: boolean; results: Json[] }>('validate', path);
    assert.deepEqual(valid.results.map((r) => [r.type, r.status]), [['upstreams', 200], ['targets', 200], ['targets', 200]]);
    const hashed = upstreams(50).replace('  slots: 100', '  slots: 100\n  hash_on: header');
    await assert.rejects(deck('validate', await file('upstreams-invalid.yaml', hashed)), (error: Error) => {
      assert.match(error.message, /"type": "upstreams"[\s\S]*"status": 400[\s\S]*hash_on_header: required field missing/);
      return true;
    });
    const first = await deck<SyncResult>('apply', path);
    assert.deepEqual(
      first.changes.map((c) => [c.op, c.kind, c.name]),
      [['create', 'upstream', 'backend.internal'], ['create', 'target', '10.0.0.1:8000'], ['create', 'target', 'backend-2.internal:9000']],
      JSON.stringify(first.requests),
    );
    const statusOf = (result: SyncResult, pattern: RegExp): number[] => result.requests.filter((r) => pattern.test(r.request)).map((r) => r.status);
    // decK fills the upstream's defaults (algorithm, hash_on included) from the gateway's schemas.
    assert.deepEqual(statusOf(first, /^GET \/schemas\/(upstreams|targets)$/), [200, 200]);
    assert.deepEqual(statusOf(first, /^PUT \/upstreams\/[0-9a-f-]{36}$/), [201]);
    assert.deepEqual(statusOf(first, /^POST \/upstreams\/[0-9a-f-]{36}\/targets$/), [201, 201]);

    const again = await deck<SyncResult>('apply', path);
    assert.deepEqual(again.changes, [], 'the defaults decK fills are the ones the gateway shows');
    const changed = await deck<SyncResult>('apply', await file('upstreams-changed.yaml', upstreams(10)));
    assert.deepEqual(changed.changes.map((c) => [c.op, c.kind, c.name]), [['update', 'target', 'backend-2.internal:9000']]);
    assert.deepEqual(statusOf(changed, /^PATCH \/upstreams\/[0-9a-f-]{36}\/targets\/[0-9a-f-]{36}$/), [200]);

    // The gateway keeps the ids decK made up, and its dump (targets read per upstream) has them.
    const dump = await deck<{ state: { upstreams: Json[]; targets: Array<Json & { upstream: Json }> } }>('dump');
    const upstreamId = first.changes[0]?.id;
    assert.deepEqual(dump.state.upstreams.map((u) => [u.id, u.name, u.algorithm, u.hash_on, u.slots]), [[upstreamId, 'backend.internal', 'round-robin', 'none', 100]]);
    assert.deepEqual(
      dump.state.targets.map((t) => [t.id, t.target, t.weight, t.upstream.id]).sort(),
      [[first.changes[1]?.id, '10.0.0.1:8000', 100, upstreamId], [first.changes[2]?.id, 'backend-2.internal:9000', 10, upstreamId]].sort(),
    );
  });

  it('resets the gateway: every entity deleted, the dump afterwards empty', async () => {
    await deck<SyncResult>('apply', await file('tutorial-again.yaml', tutorial()));
    const reset = await deck<SyncResult>('reset');
    assert.ok(reset.deleted >= 4, JSON.stringify(reset.changes));
    const dump = await deck<{ state: Json }>('dump');
    for (const kind of ['services', 'routes', 'plugins', 'consumers', 'certificates', 'snis', 'ca_certificates', 'upstreams', 'targets']) assert.equal(dump.state[kind], null, kind);
  });
});
