import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const serviceNames = async (g: GatewayProcess): Promise<string[]> =>
  (await admin(g.adminUrl, 'GET', '/services')).json<{ data: Array<{ name: string }> }>().data.map((s) => s.name);

describe('durable configuration', () => {
  it('survives a restart: changes made through the admin API are loaded again from the prefix', async () => {
    const first = await startGatewayProcess();
    assert.equal((await admin(first.adminUrl, 'POST', '/services', { name: 'kept', host: 'example.com' })).status, 201);
    const hash = (await admin(first.adminUrl, 'GET', '/status')).json<{ configuration_hash: string }>().configuration_hash;
    assert.equal(await first.stop(), 0);
    const second = await startGatewayProcess({ prefix: first.prefix });
    try {
      assert.deepEqual(await serviceNames(second), ['kept']);
      assert.equal((await admin(second.adminUrl, 'GET', '/status')).json<{ configuration_hash: string }>().configuration_hash, hash);
    } finally {
      await second.stop();
    }
  });

  it('lets a --declarative-config given at start win over the stored one, and stores it', async () => {
    const first = await startGatewayProcess();
    await admin(first.adminUrl, 'POST', '/services', { name: 'stored', host: 'example.com' });
    await first.stop();
    const withFile = await startGatewayProcess({ prefix: first.prefix, config: '_format_version: "3.0"\nservices:\n  - name: from-file\n    host: example.com\n' });
    assert.deepEqual(await serviceNames(withFile), ['from-file']);
    await withFile.stop();
    const resumed = await startGatewayProcess({ prefix: first.prefix });
    try {
      assert.deepEqual(await serviceNames(resumed), ['from-file']);
    } finally {
      await resumed.stop();
    }
  });

  it('refuses a damaged config.json, says so, and resumes from the last good one', async () => {
    const first = await startGatewayProcess();
    await admin(first.adminUrl, 'POST', '/services', { name: 'one', host: 'example.com' });
    await admin(first.adminUrl, 'POST', '/services', { name: 'two', host: 'example.com' });
    await first.stop();
    const file = join(first.prefix, 'config.json');
    await writeFile(file, (await readFile(file, 'utf8')).slice(0, 100));
    const second = await startGatewayProcess({ prefix: first.prefix });
    try {
      assert.match(second.stderr(), /config\.json: not valid JSON .*using the previous configuration from .*config\.json\.bak/);
      assert.deepEqual(await serviceNames(second), ['one']);
    } finally {
      await second.stop();
    }
  });

  it('survives kill -9 at any moment during writes: the stored configuration is always one that was written', async () => {
    const first = await startGatewayProcess();
    const prefix = first.prefix;
    let gateway = first;
    let acknowledged = -1;
    let attempted = -1;
    // Whatever happens, leave no gateway behind.
    try {
    for (let round = 0; round < 8; round++) {
      if (round > 0) {
        gateway = await startGatewayProcess({ prefix });
        const names = await serviceNames(gateway);
        if (names.length === 0) {
          // Killed before any write reached the disk: the old (empty) configuration, never a broken one.
          assert.equal(acknowledged, -1, `round ${round}: an acknowledged write was lost`);
        } else {
          assert.equal(names.length, 1, `round ${round}: ${names.join(',')}`);
          const n = Number(names[0]?.slice('v-'.length));
          // What is on disk is the last acknowledged write or the one in flight when the process died.
          assert.ok(n >= acknowledged && n <= attempted, `round ${round}: found v-${n}, acknowledged v-${acknowledged}, attempted v-${attempted}`);
          acknowledged = n;
        }
      }
      const stopAt = Date.now() + 50 + Math.floor(Math.random() * 250);
      const writes = (async () => {
        while (Date.now() < stopAt + 1000) {
          const n = attempted + 1;
          attempted = n;
          try {
            const res = await admin(gateway.adminUrl, 'POST', '/config', { _format_version: '3.0', services: [{ name: `v-${n}`, host: 'example.com' }] });
            if (res.status === 201) acknowledged = n;
          } catch {
            return; // the process is gone
          }
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, stopAt - Date.now()));
      await gateway.stop('SIGKILL');
      await writes;
    }
    } finally {
      await gateway.stop('SIGKILL');
    }
  });
});
