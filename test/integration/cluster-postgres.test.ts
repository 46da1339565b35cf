/**
 * Nodes sharing one PostgreSQL (--database postgres), each a real gateway process: a change made
 * through one node's admin API is served by the other within a second (through NOTIFY: the poll is
 * set far beyond the test), concurrent writes to both nodes all land, `dump` is the same from
 * either; while the database is down the nodes serve their last configuration and refuse admin
 * writes with 503, and catch up when it is back; a node restarted while it is down starts from its
 * local copy; a node started later loads what the others committed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { admin } from '../helpers/admin.js';
import { portcullis } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import { startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';

describe('nodes on one PostgreSQL', () => {
  let database: PostgresServer;
  let echo: EchoServer;
  let nodes: GatewayProcess[];
  const start = (): Promise<GatewayProcess> => startGatewayProcess({ args: [...database.flags, '--db-update-frequency', '600'] });

  before(async () => {
    database = await startPostgresServer();
    const bootstrapped = await portcullis(['migrations', 'bootstrap', ...database.flags]);
    assert.equal(bootstrapped.code, 0, bootstrapped.stderr);
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    nodes = await Promise.all([start(), start()]);
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await echo.close();
    await database.stop();
  });

  it('serves on node B, within a second, a route created through node A', async () => {
    const [a, b] = nodes as [GatewayProcess, GatewayProcess];
    assert.equal((await fetchText(`${b.httpUrl}/orders`)).status, 404);
    const service = await admin(a.adminUrl, 'POST', '/services', { name: 'orders', url: `${echo.url}/anything` });
    assert.equal(service.status, 201, service.text);
    const created = performance.now();
    assert.equal((await admin(a.adminUrl, 'POST', '/services/orders/routes', { name: 'orders', paths: ['/orders'] })).status, 201);
    await eventually('node B serving the new route', async () => (await fetchText(`${b.httpUrl}/orders`)).status === 200, 3000, 10);
    const elapsed = performance.now() - created;
    assert.ok(elapsed < 1000, `propagation took ${elapsed.toFixed(0)} ms`);
  });

  it('loses nothing when both nodes are written to at once, and dumps the same from either', async () => {
    const [a, b] = nodes as [GatewayProcess, GatewayProcess];
    const writes = Array.from({ length: 20 }, (_, i) => admin(i % 2 === 0 ? a.adminUrl : b.adminUrl, 'POST', '/consumers', { username: `user-${i}` }));
    const answers = await Promise.all(writes);
    assert.deepEqual(answers.map((r) => r.status), Array.from({ length: 20 }, () => 201), answers.map((r) => r.text).join('\n'));
    const usernames = async (node: GatewayProcess): Promise<string[]> =>
      (await admin(node.adminUrl, 'GET', '/consumers?size=1000')).json<{ data: Array<{ username: string }> }>().data.map((c) => c.username).sort();
    const expected = Array.from({ length: 20 }, (_, i) => `user-${i}`).sort();
    for (const node of nodes) await eventually('every consumer on every node', async () => JSON.stringify(await usernames(node)) === JSON.stringify(expected));
    const dumps = await Promise.all(nodes.map((node) => portcullis(['dump'], { env: { PORTCULLIS_ADMIN_URL: node.adminUrl } })));
    assert.equal(dumps[0]?.code, 0, dumps[0]?.stderr);
    assert.equal(dumps[1]?.stdout, dumps[0]?.stdout);
  });

  it('lists every node with the configuration hash it serves on GET /clustering/nodes of any node', async () => {
    const ids = await Promise.all(nodes.map(async (node) => (await admin(node.adminUrl, 'GET', '/')).json<{ node_id: string }>().node_id));
    const hash = (await admin(nodes[0]!.adminUrl, 'GET', '/status')).json<{ configuration_hash: string }>().configuration_hash;
    for (const node of nodes) {
      const listed = await eventually('both nodes reported', async () => {
        const answer = await admin(node.adminUrl, 'GET', '/clustering/nodes');
        const data = answer.json<{ data: Array<{ id: string; config_hash: string; last_seen: number }> }>().data;
        return ids.every((id) => data.some((n) => n.id === id && n.config_hash === hash)) && data;
      }, 10_000, 200);
      assert.ok(listed.every((n) => Math.abs(n.last_seen - Date.now() / 1000) < 60));
    }
  });

  it('keeps serving while the database is down, refuses admin writes with 503, and catches up when it is back', async () => {
    const [a, b] = nodes as [GatewayProcess, GatewayProcess];
    const reachable = async (node: GatewayProcess): Promise<boolean> => (await admin(node.adminUrl, 'GET', '/status')).json<{ database: { reachable: boolean } }>().database.reachable;
    assert.equal(await reachable(a), true);
    await database.stop();
    await eventually('/status saying the database is unreachable', async () => !(await reachable(a)));
    assert.equal((await fetchText(`${a.httpUrl}/orders`)).status, 200, 'the last configuration still serves');
    const refused = await admin(a.adminUrl, 'POST', '/consumers', { username: 'while-down' });
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json<{ name: string }>().name, 'database unavailable');
    assert.equal((await admin(a.adminUrl, 'GET', '/consumers/while-down')).status, 404, 'nothing changed');
    await database.start();
    await eventually('admin writes again', async () => (await admin(a.adminUrl, 'POST', '/consumers', { username: 'after-restart' })).status === 201, 10_000, 200);
    await eventually('node B catching up without a restart', async () => (await admin(b.adminUrl, 'GET', '/consumers/after-restart')).status === 200, 10_000, 100);
    await eventually('/status saying the database is reachable again', () => reachable(b), 10_000, 100);
  });

  it('restarts a node while the database is down from its local copy, which catches up when the database is back', async () => {
    const a = nodes[0]!;
    const b = nodes[1]!;
    const nodeId = (await admin(b.adminUrl, 'GET', '/')).json<{ node_id: string }>().node_id;
    await database.stop();
    await b.stop();
    const restarted = await startGatewayProcess({ prefix: b.prefix, args: [...database.flags, '--db-update-frequency', '1', '--status-listen', '127.0.0.1:0'] });
    nodes[1] = restarted;
    const ready = async (): Promise<number> => (await fetchText(`${restarted.statusUrl}/status/ready`)).status;
    assert.equal(await ready(), 503, 'not ready while the database was never reached');
    assert.equal((await admin(restarted.adminUrl, 'GET', '/')).json<{ node_id: string }>().node_id, nodeId, 'a node keeps its id (<prefix>/node.id)');
    assert.match(restarted.stderr(), /the database cannot be reached; starting from the local copy saved at/);
    assert.equal((await fetchText(`${restarted.httpUrl}/orders`)).status, 200, 'the copy serves');
    assert.equal((await admin(restarted.adminUrl, 'GET', '/consumers/after-restart')).status, 200);
    await database.start();
    await eventually('admin writes again', async () => (await admin(a.adminUrl, 'POST', '/consumers', { username: 'after-copy' })).status === 201, 10_000, 200);
    await eventually('the restarted node catching up', async () => (await admin(restarted.adminUrl, 'GET', '/consumers/after-copy')).status === 200, 10_000, 100);
    await eventually('ready once the database answered', async () => (await ready()) === 200, 10_000, 100);
  });

  it('starts a new node on what the others committed', async () => {
    const c = await start();
    nodes.push(c);
    assert.equal((await fetchText(`${c.httpUrl}/orders`)).status, 200);
    assert.equal((await admin(c.adminUrl, 'GET', '/consumers/user-7')).status, 200);
  });
});
