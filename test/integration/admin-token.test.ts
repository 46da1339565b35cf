import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { adminExposureWarning } from '../../src/admin/admin-exposure.js';
import { admin } from '../helpers/admin.js';
import { cliPath, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const run = promisify(execFile);

describe('admin token', () => {
  let gateway: GatewayProcess;
  before(async () => {
    gateway = await startGatewayProcess({ args: ['--admin-token', 's3cret-token'] });
  });
  after(async () => {
    await gateway.stop();
  });

  it('refuses every admin request without the token with 401', async () => {
    for (const path of ['/', '/status', '/services', '/config', '/metrics']) {
      const res = await admin(gateway.adminUrl, 'GET', path);
      assert.equal(res.status, 401, path);
      assert.equal(res.json<{ name: string }>().name, 'unauthorized');
    }
    assert.equal((await admin(gateway.adminUrl, 'POST', '/services', { name: 'x', host: 'example.com' })).status, 401);
  });

  it('refuses a wrong token, a wrong scheme and a prefix of the token', async () => {
    for (const authorization of ['Bearer wrong', 'Basic czNjcmV0LXRva2Vu', 'Bearer s3cret', 'Bearer s3cret-token-and-more']) {
      assert.equal((await admin(gateway.adminUrl, 'GET', '/status', undefined, { authorization })).status, 401, authorization);
    }
  });

  it('accepts Authorization: Bearer and Kong-Admin-Token', async () => {
    assert.equal((await admin(gateway.adminUrl, 'GET', '/status', undefined, { authorization: 'Bearer s3cret-token' })).status, 200);
    assert.equal((await admin(gateway.adminUrl, 'GET', '/status', undefined, { 'kong-admin-token': 's3cret-token' })).status, 200);
  });

  it('is passed by the CLI with --admin-token, and a refusal is one line with exit code 1', async () => {
    const ok = await run(process.execPath, [cliPath, 'dump', '--admin-url', gateway.adminUrl, '--admin-token', 's3cret-token']);
    assert.match(ok.stdout, /_format_version: "3.0"/);
    await assert.rejects(run(process.execPath, [cliPath, 'dump', '--admin-url', gateway.adminUrl]), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.equal(error.stderr, 'portcullis: admin API answered 401: Invalid credentials. Token required\n');
      return true;
    });
  });
});

describe('admin exposure warning', () => {
  it('warns when a non-loopback admin listener has no token, and only then', () => {
    assert.match(adminExposureWarning('0.0.0.0:8001', null) ?? '', /WARNING.*0\.0\.0\.0:8001.*--admin-token/);
    assert.match(adminExposureWarning('127.0.0.1:8001, [::]:8444 ssl', null) ?? '', /:::8444|::/);
    assert.equal(adminExposureWarning('0.0.0.0:8001', 'token'), null);
    assert.equal(adminExposureWarning('127.0.0.1:8001, [::1]:8444 ssl', null), null);
    assert.equal(adminExposureWarning('off', null), null);
  });

  it('is printed loudly by start', async () => {
    const exposed = await startGatewayProcess({ args: ['--admin-listen', '0.0.0.0:0'] });
    try {
      assert.match(exposed.stderr(), /\*\*\* WARNING: the admin API listens on 0\.0\.0\.0:0/);
    } finally {
      await exposed.stop();
    }
  });
});
