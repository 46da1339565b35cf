/**
 * file-log against a real gateway: one JSON line per request with Kong's record (request, response,
 * route, service, consumer, latencies, tries, client_ip, started_at, upstream_uri, workspace_name)
 * and Portcullis's auth outcome; no credential anywhere in the file (key in a header and in the
 * query, Authorization, Cookie); refused requests logged too; reopen follows a moved file; a file
 * that cannot be written does not fail requests; Kong's path check and custom_fields_by_lua refused.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

/** A parsed record. */
type Line = unknown;

/** The value at a dotted path of a parsed record (undefined where it is absent). */
function field(value: Line, path: string): unknown {
  let at: unknown = value;
  for (const key of path.split('.')) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}


async function linesOf(path: string): Promise<Line[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
}

describe('file-log', () => {
  let gateway: GatewayProcess;
  let upstream: CountingUpstream;
  let dir: string;
  let logPath: string;
  let rotatingPath: string;

  before(async () => {
    upstream = await startCountingUpstream();
    dir = await mkdtemp(join(tmpdir(), 'portcullis-file-log-'));
    logPath = join(dir, 'access.log');
    rotatingPath = join(dir, 'rotating.log');
    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
consumers:
  - username: alice
    custom_id: A-1
    keyauth_credentials: [{ key: alice-secret-key }]
services:
  - name: api
    url: ${upstream.url}/base
    routes:
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
            config: { key_names: [x-api-key] }
          - name: file-log
            config: { path: ${logPath} }
      - name: rotating
        paths: [/rotating]
        plugins:
          - name: file-log
            config: { path: ${rotatingPath}, reopen: true }
      - name: unwritable
        paths: [/unwritable]
        plugins:
          - name: file-log
            config: { path: ${join(dir, 'missing-dir', 'x.log')} }
`,
    });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it("writes Kong's record for a proxied request, with the consumer, and no credential anywhere in the file", async () => {
    const answer = await fetchText(`${gateway.httpUrl}/keyed/items?x-api-key=alice-secret-key&page=2&flag`, {
      headers: { 'x-api-key': 'alice-secret-key', authorization: 'Bearer some-secret-token', cookie: 'session=secret-cookie', 'x-trace': 't1' },
    });
    assert.equal(answer.status, 200);
    const [line] = await eventually('the record in the file', async () => {
      const lines = await linesOf(logPath);
      return lines.length >= 1 ? lines : undefined;
    });
    assert.ok(line !== undefined);
    assert.equal(field(line, 'request.method'), 'GET');
    assert.equal(field(line, 'request.uri'), '/keyed/items?x-api-key=REDACTED&page=2&flag');
    assert.match(text(field(line, 'request.url')), /^http:\/\/127\.0\.0\.1:\d+\/keyed\/items\?x-api-key=REDACTED&page=2&flag$/);
    assert.deepEqual(field(line, 'request.querystring'), { 'x-api-key': 'REDACTED', page: '2', flag: true });
    assert.equal(field(line, 'request.headers.x-api-key'), 'REDACTED');
    assert.equal(field(line, 'request.headers.authorization'), 'REDACTED');
    assert.equal(field(line, 'request.headers.cookie'), 'REDACTED');
    assert.equal(field(line, 'request.headers.x-trace'), 't1');
    assert.equal(typeof field(line, 'request.size'), 'number');
    assert.equal(field(line, 'request.id'), answer.headers['x-request-id']);
    assert.equal(field(line, 'response.status'), 200);
    assert.equal(field(line, 'response.headers.x-request-id'), answer.headers['x-request-id']);
    assert.ok(Number(field(line, 'response.size')) > 2);
    assert.equal(field(line, 'upstream_uri'), '/base/items?x-api-key=REDACTED&page=2&flag');
    assert.equal(field(line, 'upstream_status'), '200');
    assert.equal(field(line, 'route.name'), 'keyed');
    assert.equal(field(line, 'service.name'), 'api');
    // Kong's entity form: the route names its service by id.
    assert.equal(field(line, 'route.service.id'), field(line, 'service.id'));
    assert.deepEqual({ username: field(line, 'consumer.username'), custom_id: field(line, 'consumer.custom_id') }, { username: 'alice', custom_id: 'A-1' });
    assert.equal(field(line, 'authenticated_entity.consumer_id'), field(line, 'consumer.id'));
    for (const k of ['kong', 'proxy', 'request', 'receive']) assert.equal(typeof field(line, `latencies.${k}`), 'number', k);
    assert.ok(Number(field(line, 'latencies.proxy')) >= 0);
    assert.equal((field(line, 'tries') as unknown[]).length, 1);
    assert.equal(field(line, 'client_ip'), '127.0.0.1');
    assert.ok(Math.abs(Number(field(line, 'started_at')) - Date.now()) < 60_000);
    assert.equal(field(line, 'source'), 'service');
    assert.equal(field(line, 'workspace_name'), 'default');
    assert.deepEqual(field(line, 'auth'), { plugin: 'key-auth', outcome: 'success', reason: 'api_key_valid' });
    const raw = await readFile(logPath, 'utf8');
    for (const secret of ['alice-secret-key', 'some-secret-token', 'secret-cookie']) assert.ok(!raw.includes(secret), secret);
  });

  it('logs a refused request too, as the gateway\'s answer, with its reason', async () => {
    assert.equal((await fetchText(`${gateway.httpUrl}/keyed/x`, { headers: { 'x-api-key': 'wrong-secret' } })).status, 401);
    const refused = await eventually('the 401 in the file', async () => (await linesOf(logPath)).find((l) => field(l, 'response.status') === 401));
    assert.equal(field(refused, 'source'), 'kong');
    assert.equal(field(refused, 'reason'), 'invalid_api_key');
    assert.equal(field(refused, 'request.headers.x-api-key'), 'REDACTED');
    assert.equal(field(refused, 'upstream_uri'), '');
    assert.equal(field(refused, 'latencies.proxy'), -1);
    assert.equal(field(refused, 'consumer'), undefined);
    assert.ok(!(await readFile(logPath, 'utf8')).includes('wrong-secret'));
  });

  it('with reopen, follows a file moved away (as logrotate does): the next record goes to a new file at the path', async () => {
    assert.equal((await fetchText(`${gateway.httpUrl}/rotating/1`)).status, 200);
    await eventually('the first record', async () => (await linesOf(rotatingPath)).length === 1);
    await rename(rotatingPath, `${rotatingPath}.1`);
    assert.equal((await fetchText(`${gateway.httpUrl}/rotating/2`)).status, 200);
    const lines = await eventually('a record in the new file', async () => {
      const now = await linesOf(rotatingPath);
      return now.length === 1 ? now : undefined;
    });
    assert.equal(field(lines[0], 'request.uri'), '/rotating/2');
    assert.equal((await linesOf(`${rotatingPath}.1`)).length, 1);
  });

  it('answers requests when the file cannot be written, and says so in its log', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await fetchText(`${gateway.httpUrl}/unwritable`)).status, 200);
    await gateway.waitForLog((l) => text(l['msg']).includes('file-log: could not write'));
    const metrics = await admin(gateway.adminUrl, 'GET', '/metrics');
    assert.match(metrics.text, /portcullis_log_entries_dropped_total\{plugin="file-log",reason="write_failed"\} [1-9]/);
  });

  it("refuses a path Kong refuses and custom_fields_by_lua, at their paths", async () => {
    const badPath = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'file-log', config: { path: '/tmp/a*b.log' } });
    assert.equal(badPath.status, 400);
    assert.match(badPath.text, /not a valid filename/);
    const lua = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'file-log', config: { path: '/tmp/x.log', custom_fields_by_lua: { x: "return 'y'" } } });
    assert.equal(lua.status, 400);
    assert.match(lua.text, /custom_fields_by_lua/);
    assert.match(lua.text, /runs no Lua/);
    const missing = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'file-log', config: {} });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /path/);
  });
});
