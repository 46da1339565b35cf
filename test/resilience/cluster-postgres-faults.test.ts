/**
 * PostgreSQL faults for nodes sharing one database (issue 16), with real gateway processes and a
 * real server: the database stopped for 30 s while both nodes are under load (every request is a 200
 * from the last configuration, admin writes are refused with 503, both nodes catch up when it is
 * back); a node killed -9 in the middle of a stream of admin writes (every acknowledged write is
 * kept, nothing is half applied, a node restarted on its prefix loads what the others serve); a
 * node partitioned from the database by a TCP forwarder that is cut (it serves its last
 * configuration, misses the NOTIFYs, and catches up from the version poll once healed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { admin } from '../helpers/admin.js';
import { portcullis } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import { startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';
import { startTcpForwarder } from '../helpers/tcp-forwarder.js';
import { assertOnlyOk, sleep, steadyTraffic, type SteadyTrafficReport } from './harness.js';

const OUTAGE_MS = 30_000;

interface Status {
  configuration_hash: string;
  database: { reachable: boolean };
}

const status = async (node: GatewayProcess): Promise<Status> => (await admin(node.adminUrl, 'GET', '/status')).json<Status>();
const reachable = async (node: GatewayProcess): Promise<boolean> => (await status(node)).database.reachable;

/** The upstream path the echo server saw for a proxied request: which configuration served it. */
const upstreamPath = (body: string): string => new URL((JSON.parse(body) as { url: string }).url).pathname;

/** `check` for steady traffic: the answer came through a service whose path is `path`. */
const servedFrom =
  (path: string) =>
  (body: string): string | null => {
    const seen = upstreamPath(body);
    return seen === path ? null : `served from ${seen}, not ${path}`;
  };

/** Whether `node` proxies `path` with a 200 (from the service path `upstream`, when given). */
const serves = async (node: GatewayProcess, path: string, upstream?: string): Promise<boolean> => {
  const res = await fetchText(`${node.httpUrl}${path}`);
  return res.status === 200 && (upstream === undefined || upstreamPath(res.text) === upstream);
};

const usernames = async (node: GatewayProcess): Promise<string[]> =>
  (await admin(node.adminUrl, 'GET', '/consumers?size=1000')).json<{ data: Array<{ username: string }> }>().data.map((c) => c.username);

/** `portcullis dump` through `node`'s admin API: the decK YAML, which `portcullis validate` accepts. */
async function dump(node: GatewayProcess): Promise<string> {
  const dumped = await portcullis(['dump'], { env: { PORTCULLIS_ADMIN_URL: node.adminUrl } });
  assert.equal(dumped.code, 0, dumped.stderr);
  const validated = await portcullis(['validate', '-'], { input: dumped.stdout });
  assert.equal(validated.code, 0, `the dump does not validate: ${validated.stderr}\n${dumped.stdout}`);
  return dumped.stdout;
}

/** Asserts a 503 `database unavailable` answer; its time in ms. */
async function refusedWrite(node: GatewayProcess, username: string): Promise<number> {
  const asked = performance.now();
  const refused = await admin(node.adminUrl, 'POST', '/consumers', { username });
  const ms = performance.now() - asked;
  assert.equal(refused.status, 503, refused.text);
  assert.equal(refused.json<{ name: string }>().name, 'database unavailable');
  return ms;
}

describe('PostgreSQL faults on nodes sharing one database', () => {
  let database: PostgresServer;
  let echo: EchoServer;

  before(async () => {
    database = await startPostgresServer();
    const bootstrapped = await portcullis(['migrations', 'bootstrap', ...database.flags]);
    assert.equal(bootstrapped.code, 0, bootstrapped.stderr);
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await echo.close();
    await database.stop();
  });

  /**
   * A node on the database (through `pgPort` instead of the server's port, when given), stopped when
   * the test ends. No access log: under load, parsing a line per request would cost the test
   * process more than the requests.
   */
  const startNode = async (t: TestContext, options: { args?: string[]; prefix?: string; pgPort?: number } = {}): Promise<GatewayProcess> => {
    const flags = database.flags.map((flag, i, all) => (all[i - 1] === '--pg-port' && options.pgPort !== undefined ? String(options.pgPort) : flag));
    const node = await startGatewayProcess({ prefix: options.prefix, args: [...flags, '--access-log', 'off', ...(options.args ?? [])] });
    t.after(() => node.stop());
    return node;
  };

  it('answers every request of a steady load with a 200 from its last configuration through 30 s of PostgreSQL down, refuses admin writes with 503, and catches up without a restart', async (t) => {
    const nodes = await Promise.all([startNode(t, { args: ['--db-update-frequency', '1'] }), startNode(t, { args: ['--db-update-frequency', '1'] })]);
    const [a, b] = nodes;
    assert.equal((await admin(a.adminUrl, 'POST', '/services', { name: 'outage', url: `${echo.url}/anything/v1` })).status, 201);
    assert.equal((await admin(a.adminUrl, 'POST', '/services/outage/routes', { name: 'outage', paths: ['/outage'] })).status, 201);
    // The last change before the outage, made through the other node: what both must keep serving.
    assert.equal((await admin(b.adminUrl, 'PATCH', '/services/outage', { path: '/anything/v2' })).status, 200);
    for (const node of nodes) await eventually('both nodes on the last configuration', () => serves(node, '/outage', '/anything/v2'));

    // Eight clients, each pausing 10 ms between requests: several hundred requests a second, shared by both nodes.
    const traffic = steadyTraffic(
      nodes.map((node) => `${node.httpUrl}/outage`),
      { clients: 8, pauseMs: 10, check: servedFrom('/anything/v2') },
    );
    let report: SteadyTrafficReport;
    const refusals: number[] = [];
    let unreachableAfterMs = 0;
    try {
      await sleep(500);
      await database.stop();
      const stopped = performance.now();
      for (const node of nodes) await eventually('/status saying the database is unreachable', async () => !(await reachable(node)), 10_000, 50);
      unreachableAfterMs = performance.now() - stopped;
      // Through the whole outage, on both nodes: writes refused, nothing changed, reads and /status answer.
      for (let round = 0; performance.now() - stopped < OUTAGE_MS; round++) {
        for (const node of nodes) {
          refusals.push(await refusedWrite(node, `during-outage-${round}`));
          assert.equal((await admin(node.adminUrl, 'GET', `/consumers/during-outage-${round}`)).status, 404, 'nothing changed');
          assert.equal((await admin(node.adminUrl, 'GET', '/services/outage')).json<{ path: string }>().path, '/anything/v2', 'admin reads answer');
          assert.equal(await reachable(node), false);
        }
        await sleep(2000);
      }
      await database.start();
      for (const node of nodes) await eventually('/status saying the database is reachable again', () => reachable(node), 15_000, 100);
    } finally {
      report = await traffic.stop();
    }
    assertOnlyOk(report, 3000);
    const seconds = report.elapsedMs / 1000;
    t.diagnostic(
      `load: ${report.total} requests in ${seconds.toFixed(1)} s (${(report.total / seconds).toFixed(0)}/s; ${Object.values(report.perUrl).join(' + ')} per node), ` +
        `all 200 from the last configuration; latency p50 ${report.latency.p50.toFixed(1)} ms, p99 ${report.latency.p99.toFixed(1)} ms, max ${report.latency.max.toFixed(0)} ms`,
    );
    t.diagnostic(`database unreachable on /status ${unreachableAfterMs.toFixed(0)} ms after the stop; ${refusals.length} admin writes refused with 503 in at most ${Math.max(...refusals).toFixed(0)} ms`);

    // Both directions, without a restart: a change through A served by B, one through B served by A.
    const restarted = performance.now();
    await eventually('admin writes again', async () => (await admin(a.adminUrl, 'POST', '/services/outage/routes', { name: 'after-outage', paths: ['/after-outage'] })).status === 201, 10_000, 100);
    const written = performance.now() - restarted;
    for (const node of nodes) await eventually('the change made after the outage served by both nodes', () => serves(node, '/after-outage', '/anything/v2'), 5000, 20);
    assert.equal((await admin(b.adminUrl, 'PATCH', '/services/outage', { path: '/anything/v3' })).status, 200);
    for (const node of nodes) await eventually('a change through B served by both nodes', () => serves(node, '/outage', '/anything/v3'), 5000, 20);
    t.diagnostic(`first admin write after the restart accepted ${written.toFixed(0)} ms after reachability returned`);
    const [hashA, hashB] = await Promise.all(nodes.map(async (node) => (await status(node)).configuration_hash));
    assert.equal(hashA, hashB);
    assert.equal((await usernames(a)).filter((u) => u.startsWith('during-outage')).length, 0, 'no refused write landed');
  });

  it('keeps every write a node acknowledged, and nothing half applied, when the node is killed -9 in the middle of a stream of writes', async (t) => {
    const ROUNDS = 3;
    const WRITERS = 8;
    const b = await startNode(t, { args: ['--db-update-frequency', '1'] });
    let a = await startNode(t);
    for (let round = 1; round <= ROUNDS; round++) {
      const victim = a;
      // Where in the stream the kill lands varies: after 10 to 39 acknowledged writes.
      const killAt = 10 + Math.floor(Math.random() * 30);
      const outcome = new Map<string, number | 'no answer'>();
      let acknowledged = 0;
      let killed = false;
      const writer = async (first: number): Promise<void> => {
        for (let i = first; !killed && i < 10_000; i += WRITERS) {
          const username = `kill-${round}-${i}`;
          outcome.set(username, 'no answer');
          try {
            const answer = await admin(victim.adminUrl, 'POST', '/consumers', { username, custom_id: `custom-${round}-${i}` });
            outcome.set(username, answer.status);
            if (answer.status === 201 && ++acknowledged === killAt) {
              killed = true;
              void victim.stop('SIGKILL');
            }
          } catch {
            // The connection died with the node: no answer, so the write may or may not have landed.
          }
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      await victim.stop('SIGKILL');
      assert.equal(victim.child.signalCode, 'SIGKILL');
      const answers = [...outcome.values()];
      assert.deepEqual(
        answers.filter((s) => s !== 201 && s !== 'no answer'),
        [],
        'every write answered was accepted',
      );

      // The lock and transaction the dead node held died with its connection: B writes at once.
      const asked = performance.now();
      const probe = await admin(b.adminUrl, 'POST', '/consumers', { username: `after-kill-${round}` });
      assert.equal(probe.status, 201, probe.text);
      const probeMs = performance.now() - asked;

      // Consistency in the database itself: every version has its change-log row, and the rows hash
      // to what the last commit said (a node loading them computes the hash again).
      const state = (await database.query<{ version: string; hash: string }>('SELECT version, hash FROM config_state')).rows[0]!;
      const log = (await database.query<{ max: string; n: string }>('SELECT max(version) AS max, count(*) AS n FROM config_changes')).rows[0]!;
      assert.equal(log.max, state.version);
      assert.equal(log.n, state.version, 'one change-log row per version');
      await eventually('node B on the database version', async () => (await status(b)).configuration_hash === state.hash, 5000, 50);

      const present = new Set(await usernames(b));
      const acked = [...outcome].filter(([, s]) => s === 201).map(([u]) => u);
      const unanswered = [...outcome].filter(([, s]) => s === 'no answer').map(([u]) => u);
      assert.deepEqual(acked.filter((u) => !present.has(u)), [], 'every acknowledged write is kept');
      assert.deepEqual([...present].filter((u) => u.startsWith(`kill-${round}-`) && !outcome.has(u)), [], 'nothing that was never sent');
      const consumers = (await admin(b.adminUrl, 'GET', '/consumers?size=1000')).json<{ data: Array<{ username: string; custom_id: string }> }>().data;
      for (const c of consumers.filter((c) => c.username.startsWith(`kill-${round}-`))) assert.equal(c.custom_id, c.username.replace('kill-', 'custom-'), 'each consumer whole');
      const fromB = await dump(b);

      // A node on the dead one's prefix loads from the database what B serves.
      a = await startNode(t, { prefix: victim.prefix });
      assert.equal((await status(a)).configuration_hash, state.hash);
      assert.equal(await dump(a), fromB);
      t.diagnostic(
        `round ${round}: killed after ${killAt} acknowledged writes; ${acked.length} acknowledged (all kept), ${unanswered.length} unanswered ` +
          `(${unanswered.filter((u) => present.has(u)).length} of them landed); B's next write took ${probeMs.toFixed(0)} ms; version ${state.version}`,
      );
    }
  });

  it('serves its last configuration while partitioned from PostgreSQL, and catches up from the version poll once the link heals', async (t) => {
    const forwarder = await startTcpForwarder({ host: database.host, port: database.port });
    t.after(() => forwarder.close());
    const a = await startNode(t);
    const b = await startNode(t, { args: ['--db-update-frequency', '1'], pgPort: forwarder.port });
    assert.ok(forwarder.open > 0, 'B reaches PostgreSQL through the forwarder');
    assert.equal((await admin(a.adminUrl, 'POST', '/services', { name: 'partition', url: `${echo.url}/anything/before` })).status, 201);
    assert.equal((await admin(a.adminUrl, 'POST', '/services/partition/routes', { name: 'partition', paths: ['/partition'] })).status, 201);
    await eventually('B serving the route made before the cut', () => serves(b, '/partition', '/anything/before'), 3000);

    forwarder.cut();
    const forwardedAtCut = forwarder.forwarded;
    await eventually('B saying the database is unreachable', async () => !(await reachable(b)), 5000, 50);
    assert.equal(await reachable(a), true, 'A is not cut off');
    const traffic = steadyTraffic(`${b.httpUrl}/partition`, { clients: 2, check: servedFrom('/anything/before') });
    let report: SteadyTrafficReport;
    const changes = 3;
    try {
      // Changes through A, whose NOTIFYs B never hears: services with routes, consumers, an edit of what B serves.
      for (let i = 0; i < changes; i++) {
        assert.equal((await admin(a.adminUrl, 'POST', '/services', { name: `cut-${i}`, url: `${echo.url}/anything/cut-${i}` })).status, 201);
        assert.equal((await admin(a.adminUrl, 'POST', `/services/cut-${i}/routes`, { name: `cut-${i}`, paths: [`/cut-${i}`] })).status, 201);
        assert.equal((await admin(a.adminUrl, 'POST', '/consumers', { username: `cut-${i}` })).status, 201);
      }
      assert.equal((await admin(a.adminUrl, 'PATCH', '/services/partition', { path: '/anything/after' })).status, 200);
      await eventually('A serving its change', () => serves(a, '/partition', '/anything/after'));
      // Long enough for several of B's version polls to fail.
      await sleep(3000);
      assert.equal(await serves(b, '/cut-0'), false, 'B has not seen the changes');
      assert.equal(await reachable(b), false);
      await refusedWrite(b, 'while-cut');
    } finally {
      report = await traffic.stop();
    }
    assertOnlyOk(report, 20);

    forwarder.heal();
    const healed = performance.now();
    await eventually(
      'B serving every change made while it was cut off',
      async () => {
        for (let i = 0; i < changes; i++) if (!(await serves(b, `/cut-${i}`, `/anything/cut-${i}`))) return false;
        return serves(b, '/partition', '/anything/after');
      },
      5000,
      20,
    );
    const caughtUp = performance.now() - healed;
    assert.ok(forwarder.forwarded > forwardedAtCut, 'B reconnected through the healed link');
    await eventually('B saying the database is reachable again', () => reachable(b), 5000, 50);
    // Not left on the poll alone: B listens again (its reconnect backs off to at most 5 s), beside A.
    const listening = async (): Promise<number> =>
      Number((await database.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'portcullis-listen'")).rows[0]?.n);
    await eventually('B listening for changes again', async () => (await listening()) === 2, 10_000, 100);
    assert.deepEqual((await usernames(b)).filter((u) => u.startsWith('cut-')).sort(), ['cut-0', 'cut-1', 'cut-2']);
    assert.equal(await dump(b), await dump(a));
    t.diagnostic(`partitioned node: ${report.total} requests while cut, all 200 from its last configuration; caught up ${caughtUp.toFixed(0)} ms after the heal`);
  });
});
