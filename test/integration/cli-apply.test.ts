import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { admin } from '../helpers/admin.js';
import { portcullis, type CommandRun } from '../helpers/cli.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

/** Runs the CLI with `input` on stdin. */
const cli = (args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<CommandRun> => portcullis(args, { input, env });

describe('portcullis apply, sync and dump', () => {
  let gateway: GatewayProcess;
  let echo: EchoServer;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    gateway = await startGatewayProcess();
    env = { PORTCULLIS_ADMIN_URL: gateway.adminUrl, DECK_UPSTREAM: `${echo.url}/anything` };
  });
  after(async () => {
    await gateway.stop();
    await echo.close();
  });

  it("runs the tutorial's two apply steps: service and route, then a plugin on the route", async () => {
    const step1 = `
_format_version: "3.0"
services:
  - name: example-service
    url: \${{ env "DECK_UPSTREAM" }}
    routes:
      - name: example-route
        paths:
          - "/anything"
        service:
          name: example-service
`;
    const first = await cli(['apply', '-'], step1, env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), 'created 2, updated 0, unchanged 0');
    assert.equal((await fetchText(`${gateway.httpUrl}/anything`)).status, 200);

    const step2 = `
_format_version: "3.0"
plugins:
  - name: request-termination
    route: example-route
    config:
      status_code: \${{ env "DECK_STATUS" | toInt }}
      message: maintenance
`;
    const second = await cli(['apply', '-'], step2, { ...env, DECK_STATUS: '503' });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), 'created 1, updated 0, unchanged 0');
    const terminated = await fetchText(`${gateway.httpUrl}/anything`);
    assert.deepEqual([terminated.status, terminated.json<{ message: string }>().message], [503, 'maintenance']);

    const again = await cli(['apply', '-'], step1, env);
    assert.equal(again.stdout.trim(), 'created 0, updated 0, unchanged 2', 'apply is idempotent and deletes nothing');
    assert.equal((await fetchText(`${gateway.httpUrl}/anything`)).status, 503, 'the plugin is still there');

    const changed = await cli(['apply', '-'], step2, { ...env, DECK_STATUS: '418' });
    assert.equal(changed.stdout.trim(), 'created 0, updated 1, unchanged 0');
  });

  it("reports a bad file's errors at the file's paths, with exit code 1, and changes nothing", async () => {
    const before = (await admin(gateway.adminUrl, 'GET', '/status')).json<{ configuration_hash: string }>().configuration_hash;
    const bad = await cli(['apply', '-'], '_format_version: "3.0"\nplugins:\n  - name: request-termination\n    route: no-such-route\n    config: { status_code: 7 }\n', env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^portcullis: stdin: invalid configuration\n/);
    assert.match(bad.stderr, /plugins\[0\]\.route: route 'no-such-route' not found/);
    assert.match(bad.stderr, /plugins\[0\]\.config\.status_code: must be at least 100/);
    const unset = await cli(['apply', '-'], '_format_version: "3.0"\nservices:\n  - name: s\n    url: ${{ env "DECK_NOT_SET" }}\n', env);
    assert.equal(unset.code, 1);
    assert.match(unset.stderr, /DECK_NOT_SET/);
    assert.equal((await admin(gateway.adminUrl, 'GET', '/status')).json<{ configuration_hash: string }>().configuration_hash, before);
  });

  it('dump → sync → dump is identical, and sync of the dump changes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-dump-'));
    const file = join(dir, 'dump.yaml');
    const dumped = await cli(['dump', '--output', file], '', env);
    assert.equal(dumped.code, 0, dumped.stderr);
    const first = await readFile(file, 'utf8');
    assert.match(first, /route: example-route/);
    const synced = await cli(['sync', file], '', env);
    assert.equal(synced.code, 0, synced.stderr);
    assert.equal(synced.stdout.trim(), 'created 0, updated 0, deleted 0, unchanged 3');
    const second = await cli(['dump'], '', env);
    assert.equal(second.stdout, first);
  });

  it('sync prints the diff first, --dry-run only prints it, and a real sync deletes what the file omits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-sync-'));
    const file = join(dir, 'kong.yaml');
    await writeFile(file, `_format_version: "3.0"\nservices:\n  - name: example-service\n    url: ${echo.url}/anything\n    retries: 2\n    routes:\n      - name: example-route\n        paths: ["/anything"]\n`);
    const dry = await cli(['sync', '--dry-run', file], '', env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(dry.stdout.trim().split('\n'), [
      'updating service example-service (retries)',
      'deleting plugin request-termination on route example-route',
      'dry run: created 0, updated 1, deleted 1, unchanged 1',
    ]);
    assert.equal((await fetchText(`${gateway.httpUrl}/anything`)).status, 418, 'dry run changed nothing');
    const real = await cli(['sync', file], '', env);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /deleting plugin request-termination on route example-route\ncreated 0, updated 1, deleted 1, unchanged 1\n$/);
    assert.equal((await fetchText(`${gateway.httpUrl}/anything`)).status, 200);
  });

  it('applies, dumps and syncs upstreams with their targets (nested in the file and in the dump, as decK reads them)', async () => {
    const file = (weight: number): string => `_format_version: "3.0"
upstreams:
  - name: backend.internal
    targets:
      - target: 10.0.0.1
      - target: 10.0.0.2:8000
        weight: ${weight}
`;
    const applied = await cli(['apply', '-'], file(50), env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout.trim(), 'created 3, updated 0, unchanged 0');
    assert.equal((await cli(['apply', '-'], file(50), env)).stdout.trim(), 'created 0, updated 0, unchanged 3', 'targets are matched by upstream and address');
    assert.equal((await cli(['apply', '-'], file(10), env)).stdout.trim(), 'created 0, updated 1, unchanged 2');
    // One added through the admin API is the gateway's; apply leaves it, sync deletes it.
    assert.equal((await admin(gateway.adminUrl, 'POST', '/upstreams/backend.internal/targets', { target: '10.0.0.3' })).status, 201);

    const dir = await mkdtemp(join(tmpdir(), 'portcullis-upstreams-'));
    const dumpFile = join(dir, 'dump.yaml');
    assert.equal((await cli(['dump', '--output', dumpFile], '', env)).code, 0);
    const first = await readFile(dumpFile, 'utf8');
    assert.match(first, /upstreams:\n(.*\n)*? {4}name: backend\.internal\n/);
    assert.match(first, /upstreams:\n(.*\n)*? {4}targets:\n(.*\n)*? {8}target: 10\.0\.0\.3:8000\n/);
    assert.doesNotMatch(first, /^targets:/m, 'no top-level targets: decK has no such section');
    const synced = await cli(['sync', dumpFile], '', env);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout.trim(), /^created 0, updated 0, deleted 0, unchanged \d+$/);
    assert.equal((await cli(['dump'], '', env)).stdout, first, 'dump → sync → dump is identical');

    // The file without the target added through the admin API (the dump's last entity).
    const cut = first.search(/ {6}- id: [0-9a-f-]+\n {8}target: 10\.0\.0\.3:8000\n/);
    assert.ok(cut > 0);
    const kept = join(dir, 'kong.yaml');
    await writeFile(kept, first.slice(0, cut));
    const total = Number(/unchanged (\d+)/.exec(synced.stdout)?.[1]);
    const dry = await cli(['sync', '--dry-run', kept], '', env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(dry.stdout.trim().split('\n'), ['deleting target 10.0.0.3:8000 of upstream backend.internal', `dry run: created 0, updated 0, deleted 1, unchanged ${total - 1}`]);

    const bad = await cli(['apply', '-'], '_format_version: "3.0"\nupstreams:\n  - name: backend.internal\n    targets:\n      - target: "not a host"\n', env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /upstreams\[0\]\.targets\[0\]\.target: Invalid target \('not a host'\); not a valid hostname or ip address/);
  });

  it('reports an unreachable admin API in one line with exit code 1', async () => {
    for (const command of [['apply', '-'], ['sync', '-'], ['dump']]) {
      const result = await cli([...command, '--admin-url', 'http://127.0.0.1:1'], '_format_version: "3.0"\n', env);
      assert.equal(result.code, 1, command.join(' '));
      assert.match(result.stderr, /^portcullis: cannot reach the admin API at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\n$/);
    }
  });
});
