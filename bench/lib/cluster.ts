/**
 * Scenario 14 (issue 16): gateway nodes on one PostgreSQL. A real server (the tests' helper: initdb
 * in a temporary directory, on a free port), the schema made by `portcullis migrations bootstrap`,
 * a configuration loaded through a node's admin API with `portcullis sync`, and the time a change
 * made through one node's admin API takes to be served by another node's proxy.
 */
import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { startPostgresServer, type PostgresServer } from '../../test/helpers/postgres-server.js';
import { latencySummary, type LatencySummary } from './stats.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);

/** PostgreSQL with the gateway's schema, its server process pinned to `cpus` (its backends fork from it, pinned too). */
export async function startBenchDatabase(cpus: string): Promise<PostgresServer> {
  const database = await startPostgresServer();
  const pid = execFileSync('sh', ['-c', `ss -ltnpH 'sport = :${database.port}' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2`]).toString().trim();
  if (pid !== '') execFileSync('taskset', ['-a', '-p', '-c', cpus, pid], { stdio: 'ignore' });
  await run(process.execPath, [cli, 'migrations', 'bootstrap', ...database.flags]);
  return database;
}

/** Makes the gateway behind `adminPort` equal to the decK document (deck gateway sync). */
export async function syncConfig(adminPort: number, config: string, dir: string): Promise<void> {
  const file = join(dir, `sync-${adminPort}.yaml`);
  await writeFile(file, config);
  await run(process.execPath, [cli, 'sync', file], { env: { ...process.env, PORTCULLIS_ADMIN_URL: `http://127.0.0.1:${adminPort}` } });
}

/** The configuration of the gateway behind `adminPort`, as decK YAML (portcullis dump). */
export async function dumpConfig(adminPort: number): Promise<string> {
  const { stdout } = await run(process.execPath, [cli, 'dump'], { env: { ...process.env, PORTCULLIS_ADMIN_URL: `http://127.0.0.1:${adminPort}` }, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * `changes` routes created one at a time through node A's admin API (on `service`); for each, the
 * time from A's 201 until node B's proxy answers the route (polled every 2 ms), in ms: the whole
 * way a change travels — commit, NOTIFY, B's reload, B's new router.
 */
export async function measurePropagation(adminA: number, proxyB: number, service: string, changes: number): Promise<LatencySummary> {
  const times: number[] = [];
  for (let i = 0; i < changes; i++) {
    const path = `/propagation-${i}`;
    const created = await request(`http://127.0.0.1:${adminA}/services/${service}/routes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `propagation-${i}`, paths: [path] }),
    });
    const body = await created.body.text();
    if (created.statusCode !== 201) throw new Error(`creating route ${path}: ${created.statusCode} ${body}`);
    const since = performance.now();
    for (;;) {
      const res = await request(`http://127.0.0.1:${proxyB}${path}`);
      await res.body.dump();
      if (res.statusCode !== 404) break;
      if (performance.now() - since > 10_000) throw new Error(`route ${path} not served by node B within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    times.push(performance.now() - since);
  }
  return latencySummary(times);
}
