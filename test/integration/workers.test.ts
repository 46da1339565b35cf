// --workers N: N proxy processes behind one admin API. Real processes, real sockets: which worker
// answered is read from the access log's pid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, Pool, request } from 'undici';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { YOUNG_GENERATION_FLAG } from '../../src/runtime/node-flags.js';
import { admin } from '../helpers/admin.js';
import { cliPath, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

const WORKERS = 2;

function config(upstream: string): string {
  return `_format_version: "3.0"
services:
  - name: echo
    url: ${upstream}/anything
    routes:
      - name: work
        paths: ["/work"]
      - name: answer
        paths: ["/answer"]
        plugins:
          - name: request-termination
            config: { status_code: 200, message: "first" }
`;
}

/** A GET on a new connection (so the primary may hand it to any worker). */
async function fresh(url: string): Promise<{ status: number; body: string }> {
  const dispatcher = new Agent({ pipelining: 0 });
  try {
    const res = await request(url, { dispatcher, headers: { connection: 'close' } });
    return { status: res.statusCode, body: await res.body.text() };
  } finally {
    await dispatcher.close();
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe(`--workers ${WORKERS}`, () => {
  let echo: EchoServer;
  let gateway: GatewayProcess;
  let workers: number[];

  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    gateway = await startGatewayProcess({ config: config(echo.url), args: ['--workers', String(WORKERS)] });
    workers = (gateway.logs.find((l) => l['msg'] === 'portcullis ready')!['workers'] as number[]);
  });
  after(async () => {
    await gateway.stop();
    await echo.close();
  });

  it('forks that many proxy workers, and they all serve', async () => {
    assert.equal(workers.length, WORKERS);
    assert.ok(!workers.includes(gateway.child.pid!), 'the primary does not serve the proxy');
    const served = new Set<number>();
    await until('every worker answered', async () => {
      const res = await fresh(`${gateway.httpUrl}/work`);
      assert.equal(res.status, 200);
      for (const line of gateway.logs) if (line['access'] !== undefined) served.add(line['pid'] as number);
      return workers.every((pid) => served.has(pid));
    });
  });

  it('runs the workers with the young-generation cap though the primary was started without it (runtime/node-flags.ts)', () => {
    const serving = gateway.logs.filter((l) => l['msg'] === 'worker serving');
    assert.deepEqual(serving.map((l) => l['worker_pid']).sort(), [...workers].sort());
    // Each worker reports its own process.execArgv.
    for (const line of serving) assert.ok((line['node_flags'] as string[]).includes(YOUNG_GENERATION_FLAG), JSON.stringify(line));
  });

  it('a change through the admin API is live in every worker when the API answers', async () => {
    const res = await admin(gateway.adminUrl, 'PATCH', '/plugins/' + (await pluginId(gateway)), { config: { status_code: 200, message: 'second' } });
    assert.equal(res.status, 200, res.text);
    // No waiting: the admin API answered only after every worker acknowledged.
    const answers = await Promise.all(Array.from({ length: 24 }, () => fresh(`${gateway.httpUrl}/answer`)));
    assert.deepEqual(new Set(answers.map((a) => messageOf(a.body))), new Set(['second']));
  });

  it('/status and /metrics count the requests of every worker', async () => {
    const before = (await admin(gateway.adminUrl, 'GET', '/status')).json<{ server: { total_requests: number } }>().server.total_requests;
    await Promise.all(Array.from({ length: 10 }, () => fresh(`${gateway.httpUrl}/work`)));
    const after = (await admin(gateway.adminUrl, 'GET', '/status')).json<{ server: { total_requests: number } }>().server.total_requests;
    assert.equal(after - before, 10);
    const metrics = await admin(gateway.adminUrl, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    const served = /portcullis_http_requests_total\{service="echo",route="work",status_class="2xx"\} (\d+)/.exec(metrics.text);
    assert.ok(served !== null && Number(served[1]) >= 10, metrics.text.slice(0, 400));
    assert.match(metrics.text, /portcullis_config_info\{configuration_hash="[0-9a-f]{64}"\} 1\n/);
  });

  it('drops no request while configuration changes are applied under load', async () => {
    const pool = new Pool(gateway.httpUrl, { connections: 8 });
    const statuses = new Map<number | string, number>();
    let running = true;
    const client = async (): Promise<void> => {
      while (running) {
        try {
          const res = await pool.request({ method: 'GET', path: '/work/x' });
          await res.body.dump();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        } catch (error) {
          const key = (error as { code?: string }).code ?? String(error);
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        }
      }
    };
    const clients = Array.from({ length: 8 }, client);
    for (let i = 0; i < 10; i++) {
      const res = await admin(gateway.adminUrl, 'PATCH', '/services/echo', { retries: i });
      assert.equal(res.status, 200, res.text);
      await new Promise((r) => setTimeout(r, 100));
    }
    running = false;
    await Promise.all(clients);
    await pool.close();
    assert.deepEqual([...statuses.keys()], [200], JSON.stringify(Object.fromEntries(statuses)));
    assert.ok((statuses.get(200) ?? 0) > 100, `enough load (${statuses.get(200)} requests)`);
  });

  it('a worker that dies is replaced, and the others serve meanwhile', async () => {
    const victim = workers[0]!;
    process.kill(victim, 'SIGKILL');
    // The survivors answer at once.
    for (let i = 0; i < 10; i++) assert.equal((await fresh(`${gateway.httpUrl}/work`)).status, 200);
    const replaced = await gateway.waitForLog((l) => l['msg'] === 'worker serving' && !workers.includes(l['worker_pid'] as number), 15_000);
    const replacement = replaced['worker_pid'] as number;
    // The replacement serves the live configuration, not the one the gateway started with.
    await until('the replacement answered', async () => {
      const res = await fresh(`${gateway.httpUrl}/answer`);
      assert.equal(messageOf(res.body), 'second');
      return gateway.logs.some((l) => l['access'] !== undefined && l['pid'] === replacement);
    });
    assert.ok(gateway.logs.some((l) => l['msg'] === 'worker exited; starting a replacement' && l['worker_pid'] === victim && l['pid'] === gateway.child.pid));
    workers = [replacement, ...workers.slice(1)];
  });

  it('every log line names each key once (the primary and the worker pid apart)', () => {
    const serving = gateway.rawLogs.filter((l) => l.includes('"msg":"worker serving"'));
    assert.ok(serving.length >= WORKERS);
    for (const line of gateway.rawLogs) assert.ok(line.split('"pid":').length <= 2, line);
    for (const line of serving) assert.match(line, new RegExp(`^\\{"level":30,"time":"[^"]+","pid":${gateway.child.pid},.*"worker_pid":\\d+`));
  });

  it('SIGTERM drains and stops the primary and every worker', async () => {
    const code = await gateway.stop();
    assert.equal(code, 0);
    for (const pid of workers) {
      await until(`worker ${pid} gone`, () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 10_000);
    }
  });
});

describe('--workers readiness', () => {
  it('/status is not ready and /status/ready answers 503 until the proxy workers serve', async () => {
    const [proxyPort, adminPort] = [await freePort(), await freePort()];
    const prefix = await mkdtemp(join(tmpdir(), 'portcullis-workers-'));
    const echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const file = join(prefix, 'kong.yaml');
    await writeFile(file, config(echo.url));
    const child = spawn(process.execPath, [cliPath, 'start', '--workers', '2', '-c', file, '--proxy-listen', `127.0.0.1:${proxyPort}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--prefix', prefix, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const notReady: Array<{ status: number; body: string }> = [];
    try {
      // Poll as a load balancer would, from the moment the admin API answers.
      await until('ready', async () => {
        // /status first: readiness only goes from not ready to ready while starting, so a 503 from
        // /status/ready after it means /status cannot have said ready (the other order races).
        const status = await admin(`http://127.0.0.1:${adminPort}`, 'GET', '/status')
          .then((r) => r.json<{ ready: boolean; not_ready_reason?: string }>())
          .catch(() => null);
        if (status === null) return false;
        const ready = await request(`http://127.0.0.1:${adminPort}/status/ready`);
        const body = await ready.body.text();
        if (ready.statusCode === 200) return true;
        notReady.push({ status: ready.statusCode, body });
        assert.equal(status.ready, false, 'the two answers agree while starting');
        assert.equal(status.not_ready_reason, 'proxy workers are starting');
        return false;
      }, 30_000);
      // Ready means served: the very next request reaches a worker and the route.
      assert.equal((await fresh(`http://127.0.0.1:${proxyPort}/work`)).status, 200);
      assert.equal((await admin(`http://127.0.0.1:${adminPort}`, 'GET', '/status')).json<{ ready: boolean }>().ready, true);
      assert.ok(notReady.length > 0, 'the admin API answered before the workers served');
      assert.deepEqual(notReady[0], { status: 503, body: '{"message":"proxy workers are starting"}' });
    } finally {
      child.kill('SIGTERM');
      await exited;
      await echo.close();
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('--workers when a worker cannot start', () => {
  it('the primary exits 1 with one line naming the cause, never ready', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const prefix = await mkdtemp(join(tmpdir(), 'portcullis-workers-'));
      const child = spawn(process.execPath, [cliPath, 'start', '--workers', '2', '--proxy-listen', `127.0.0.1:${port}`, '--admin-listen', '127.0.0.1:0', '--prefix', prefix, '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 1, stderr);
      assert.match(stderr, new RegExp(`^portcullis: a worker failed to start: .*EADDRINUSE 127\\.0\\.0\\.1:${port}$`, 'm'));
      assert.match(stdout, /"msg":"worker could not start"/);
      assert.doesNotMatch(stdout, /portcullis ready/);
    } finally {
      taken.close();
    }
  });
});

async function pluginId(gateway: GatewayProcess): Promise<string> {
  const list = (await admin(gateway.adminUrl, 'GET', '/plugins')).json<{ data: Array<{ id: string; name: string }> }>();
  return list.data.find((p) => p.name === 'request-termination')!.id;
}

function messageOf(body: string): unknown {
  return (JSON.parse(body) as { message?: unknown }).message;
}
