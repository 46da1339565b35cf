/**
 * `--status-listen`, Kong's status API: /status, /status/ready and /metrics without the admin token
 * (load balancers and scrapers probe it), read-only, and nothing else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

describe('the status listener', () => {
  let gateway: GatewayProcess;
  before(async () => {
    gateway = await startGatewayProcess({ args: ['--status-listen', '127.0.0.1:0', '--admin-token', 'admin-secret-token'] });
  });
  after(() => gateway.stop());

  it('answers /status, /status/ready and /metrics without the admin token, which the admin API still needs', async () => {
    assert.match(gateway.statusUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const status = await fetchText(`${gateway.statusUrl}/status`);
    assert.equal(status.status, 200);
    assert.deepEqual(status.json<{ database: unknown }>().database, { reachable: true });
    const ready = await fetchText(`${gateway.statusUrl}/status/ready`);
    assert.deepEqual([ready.status, ready.json<{ message: string }>().message], [200, 'ready']);
    assert.equal((await fetchText(`${gateway.statusUrl}/metrics`)).status, 200);
    assert.equal((await fetchText(`${gateway.adminUrl}/status`)).status, 401);
  });

  it('serves nothing else, and changes nothing', async () => {
    for (const path of ['/', '/services', '/config', '/consumers', '/clustering/nodes']) assert.equal((await fetchText(`${gateway.statusUrl}${path}`)).status, 404, path);
    assert.equal((await fetchText(`${gateway.statusUrl}/status`, { method: 'POST', body: '{}' })).status, 405);
  });
});

describe('the status listener of a node with workers', () => {
  let gateway: GatewayProcess;
  before(async () => {
    // A fixed port, as in production: the primary serves it, and no worker may try to bind it too.
    const port = await freePort();
    gateway = await startGatewayProcess({ args: ['--workers', '2', '--status-listen', `127.0.0.1:${port}`] });
  });
  after(() => gateway.stop());

  it("is served once by the node, with the workers' metrics and the node's cluster facts", async () => {
    assert.equal((await fetchText(`${gateway.statusUrl}/status/ready`)).status, 200);
    const metrics = (await fetchText(`${gateway.statusUrl}/metrics`)).text;
    assert.equal(metrics.match(/^portcullis_config_age_seconds /gm)?.length, 1, metrics);
    assert.match(metrics, /^# TYPE portcullis_http_requests_total counter$/m);
  });
});
