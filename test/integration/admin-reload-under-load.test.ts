import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { admin } from '../helpers/admin.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

describe('configuration changes under load', () => {
  let echo: EchoServer;
  let gateway: GatewayProcess;

  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"\nservices:\n  - name: load\n    url: ${echo.url}/anything\n    routes:\n      - name: load-route\n        paths: ["/load"]\n`,
      args: ['--access-log', 'off'],
    });
  });
  after(async () => {
    await gateway.stop();
    await echo.close();
  });

  it('drops and fails no request while 20 changes are applied through the admin API', async () => {
    const pool = new Pool(gateway.httpUrl, { connections: 16 });
    const statuses = new Map<number | string, number>();
    let running = true;
    const client = async (): Promise<void> => {
      while (running) {
        try {
          const res = await pool.request({ method: 'GET', path: '/load/x' });
          await res.body.dump();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        } catch (error) {
          const key = (error as { code?: string }).code ?? String(error);
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        }
      }
    };
    const clients = Array.from({ length: 16 }, client);
    const versionBefore = (await admin(gateway.adminUrl, 'GET', '/status')).json<{ config_version: number }>().config_version;
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      // Alternate entity changes and whole-config replacements; every one changes the config.
      const res =
        i % 2 === 0
          ? await admin(gateway.adminUrl, 'PATCH', '/services/load', { retries: i })
          : await admin(gateway.adminUrl, 'POST', '/routes', { name: `extra-${i}`, service: 'load', paths: [`/extra-${i}`] });
      assert.ok(res.status === 200 || res.status === 201, res.text);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    while (Date.now() - started < 3000) await new Promise((resolve) => setTimeout(resolve, 50));
    running = false;
    await Promise.all(clients);
    await pool.close();
    const versionAfter = (await admin(gateway.adminUrl, 'GET', '/status')).json<{ config_version: number }>().config_version;
    assert.equal(versionAfter - versionBefore, 20);
    const ok = statuses.get(200) ?? 0;
    assert.deepEqual([...statuses.keys()], [200], `every response is 200: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.ok(ok > 200, `enough load to mean something (${ok} requests)`);
  });
});
