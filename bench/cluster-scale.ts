/**
 * `npm run bench:scale` (issue 16): two gateway nodes on one PostgreSQL holding 100,000 consumers,
 * each with a key-auth credential, and 10,000 routes on 1,000 services. Measures, one change at a
 * time through node A's admin API:
 *
 *   - each `POST /consumers` (admin latency at A), and how long after A's 201 node B's admin API
 *     has the consumer (`GET /consumers/{name}`: propagation);
 *   - each `POST /consumers/{name}/key-auth`, and how long after A's 201 node B's proxy lets the new
 *     key through (a 200 from a key-auth route: the change is not only stored but served);
 *
 * and each node's resident memory and the time it takes to build a configuration of that size (the
 * gateway's own log lines: the start's `configuration loaded` read_ms and validate_ms, and
 * `configuration compiled` compile_ms; each change's `configuration applied` compile_ms).
 *
 * The data set is loaded straight into the tables by the gateway's own store (one transaction
 * through `PostgresConfigStore.save`, the write path of every admin change), from a decK document
 * validated and made canonical by the gateway's own `loadConfigObject`/`exportConfig`: an apply
 * through the admin API would measure the loader, not the cluster.
 *
 * The test helpers reused here (PostgreSQL, gateway processes) import node:test for their clean-up
 * hook; the script stops what it started itself and then exits at once, so node:test never prints
 * its empty summary.
 *
 * Environment: SCALE_CONSUMERS (default 100000), SCALE_SERVICES (1000), SCALE_ROUTES (10000),
 * SCALE_CREATES (200), SCALE_CPU_PROF (a directory: each node runs with --cpu-prof into <dir>/A or <dir>/B),
 * SCALE_NODE_OPTIONS (node flags for both nodes, e.g. --max-old-space-size=1500).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { exportConfig } from '../src/config/export.js';
import { configHash, formatConfigErrors, loadConfigObject } from '../src/config/index.js';
import { startEchoServer, type EchoServer } from '../src/echo/index.js';
import { pluginSchemas } from '../src/plugins/index.js';
import { PostgresConfigStore } from '../src/store/postgres/postgres-config-store.js';
import { admin } from '../test/helpers/admin.js';
import { portcullis } from '../test/helpers/cli.js';
import { startGatewayProcess, type GatewayProcess } from '../test/helpers/gateway-process.js';
import { fetchText } from '../test/helpers/http.js';
import { startPostgresServer, type PostgresServer } from '../test/helpers/postgres-server.js';
import { latencySummary, median, type LatencySummary } from './lib/stats.js';

const resultsFile = fileURLToPath(new URL('../../bench/results/cluster-scale.md', import.meta.url));

function count(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`${name} must be a positive integer, got '${text}'`);
  return n;
}

const CONSUMERS = count('SCALE_CONSUMERS', 100_000);
const SERVICES = count('SCALE_SERVICES', 1_000);
const ROUTES = count('SCALE_ROUTES', 10_000);
const CREATES = count('SCALE_CREATES', 200);
const CPU_PROF = process.env['SCALE_CPU_PROF'] ?? null;
/** Node flags for both gateway nodes (e.g. --max-old-space-size=1500). */
const NODE_OPTIONS = (process.env['SCALE_NODE_OPTIONS'] ?? '').split(/\s+/).filter(Boolean);
/** A node that has not served a change after this long has missed it (the bound is 1 s). */
const PROPAGATION_GIVE_UP_MS = 30_000;
/** The route B's proxy is asked on for each new key (every route runs the global key-auth). */
const PROBE_PATH = '/s0/r0';

function log(message: string): void {
  console.error(`bench:scale: ${message}`);
}

/** The data set as a decK document: services with their routes nested, consumers with their key. */
function scaleDocument(upstream: string): Record<string, unknown> {
  const perService = Math.ceil(ROUTES / SERVICES);
  const services = Array.from({ length: SERVICES }, (_, s) => ({
    name: `svc-${s}`,
    url: upstream,
    routes: Array.from({ length: Math.min(perService, ROUTES - s * perService) }, (_, r) => ({ name: `route-${s}-${r}`, paths: [`/s${s}/r${r}`] })),
  }));
  const consumers = Array.from({ length: CONSUMERS }, (_, i) => ({ username: `consumer-${i}`, keyauth_credentials: [{ key: `scale-key-${i}` }] }));
  return { _format_version: '3.0', services, consumers, plugins: [{ name: 'key-auth' }] };
}

/** Writes the data set into the database through the store, as one configuration version. */
async function loadDataSet(database: PostgresServer, upstream: string): Promise<{ validateMs: number; saveMs: number; entities: number }> {
  const validating = performance.now();
  const loaded = loadConfigObject(scaleDocument(upstream), { plugins: pluginSchemas });
  if (!loaded.ok) throw new Error(`the generated data set does not load:\n${formatConfigErrors(loaded.errors)}`);
  const document = exportConfig(loaded.config, { references: 'id', children: 'flat' });
  const hash = configHash(loaded.config);
  const validateMs = performance.now() - validating;
  const pool = new pg.Pool({ host: database.host, port: database.port, user: database.user, password: database.password, database: database.database, max: 1 });
  try {
    const saving = performance.now();
    const stats = await new PostgresConfigStore(pool, 'scale-bench-loader').saveWithStats(document, hash);
    return { validateMs, saveMs: performance.now() - saving, entities: stats.inserted };
  } finally {
    await pool.end();
  }
}

/** Resident memory now and at its peak, MiB, from /proc. */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Polls until `ready` answers true; the time it took from `since`, or Infinity past the bound. */
async function timeUntil(since: number, ready: () => Promise<boolean>): Promise<number> {
  for (;;) {
    if (await ready()) return performance.now() - since;
    if (performance.now() - since > PROPAGATION_GIVE_UP_MS) return Infinity;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** With SCALE_CPU_PROF, node flags that write the node's CPU profile into <dir>/<name> when it stops. */
async function profileArgs(name: string): Promise<string[]> {
  if (CPU_PROF === null) return [];
  const dir = join(CPU_PROF, name);
  await mkdir(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

interface NodeFigures {
  readonly name: string;
  readonly startMs: number;
  readonly readMs: number;
  readonly validateMs: number;
  readonly compileMs: number;
  readonly memoryLoaded: { rss: number; peak: number };
  memoryAfter?: { rss: number; peak: number };
  /** compile_ms of each change this node made live (its `configuration applied` lines). */
  changeCompileMs?: number[];
}

async function startNode(name: string, database: PostgresServer, extraNodeArgs: string[] = []): Promise<{ node: GatewayProcess; figures: NodeFigures }> {
  const starting = performance.now();
  const node = await startGatewayProcess({
    // NOTIFY carries every change; the poll only backs it up.
    args: [...database.flags, '--access-log', 'off', '--db-update-frequency', '5'],
    env: NODE_OPTIONS.length + extraNodeArgs.length === 0 ? {} : { NODE_OPTIONS: [...NODE_OPTIONS, ...extraNodeArgs].join(' ') },
    readyTimeoutMs: 600_000,
  });
  const startMs = performance.now() - starting;
  const loadedLine = await node.waitForLog((l) => l['msg'] === 'configuration loaded');
  const compiledLine = await node.waitForLog((l) => l['msg'] === 'configuration compiled');
  return {
    node,
    figures: {
      name,
      startMs,
      readMs: Number(loadedLine['read_ms']),
      validateMs: Number(loadedLine['validate_ms']),
      compileMs: Number(compiledLine['compile_ms']),
      memoryLoaded: memoryMiB(node.child.pid!),
    },
  };
}

interface Measured {
  readonly consumerCreate: LatencySummary;
  readonly consumerPropagation: LatencySummary;
  readonly keyCreate: LatencySummary;
  readonly keyPropagation: LatencySummary;
  readonly missed: number;
}

/** Creates CREATES consumers and their keys on A, one at a time, and times B catching up with each. */
async function measureCreates(a: GatewayProcess, b: GatewayProcess): Promise<Measured> {
  const consumerCreate: number[] = [];
  const consumerPropagation: number[] = [];
  const keyCreate: number[] = [];
  const keyPropagation: number[] = [];
  for (let i = 0; i < CREATES; i++) {
    const username = `new-consumer-${i}`;
    const key = `new-scale-key-${i}`;
    let sent = performance.now();
    const created = await admin(a.adminUrl, 'POST', '/consumers', { username });
    let answered = performance.now();
    if (created.status !== 201) throw new Error(`POST /consumers answered ${created.status}: ${created.text}`);
    consumerCreate.push(answered - sent);
    consumerPropagation.push(await timeUntil(answered, async () => (await admin(b.adminUrl, 'GET', `/consumers/${username}`)).status === 200));

    sent = performance.now();
    const credential = await admin(a.adminUrl, 'POST', `/consumers/${username}/key-auth`, { key });
    answered = performance.now();
    if (credential.status !== 201) throw new Error(`POST /consumers/${username}/key-auth answered ${credential.status}: ${credential.text}`);
    keyCreate.push(answered - sent);
    keyPropagation.push(await timeUntil(answered, async () => (await fetchText(`${b.httpUrl}${PROBE_PATH}`, { headers: { apikey: key } })).status === 200));
    if ((i + 1) % 20 === 0) log(`${i + 1}/${CREATES} consumers created (last: create ${consumerCreate.at(-1)!.toFixed(0)} ms, on B after ${consumerPropagation.at(-1)!.toFixed(0)} ms)`);
  }
  const finite = (values: number[]): number[] => values.filter(Number.isFinite);
  return {
    consumerCreate: latencySummary(consumerCreate),
    consumerPropagation: latencySummary(finite(consumerPropagation)),
    keyCreate: latencySummary(keyCreate),
    keyPropagation: latencySummary(finite(keyPropagation)),
    missed: [...consumerPropagation, ...keyPropagation].filter((v) => !Number.isFinite(v)).length,
  };
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v < 10 ? 1 : 0) : '—');
const mib = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(0));

function report(load: Awaited<ReturnType<typeof loadDataSet>>, nodes: readonly NodeFigures[], measured: Measured): string {
  const verdict = (summary: LatencySummary, bound: number): string => (summary.p99 <= bound ? `met (≤ ${bound} ms)` : `**missed** (> ${bound} ms)`);
  const row = (what: string, s: LatencySummary, goal: string): string => `| ${what} | ${s.count} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} | ${goal} |`;
  return [
    '# Cluster scale (issue 16)',
    '',
    `${new Date().toISOString()} · ${hostname()} · node ${process.version} · \`npm run bench:scale\``,
    '',
    `Data set: ${CONSUMERS.toLocaleString('en')} consumers, each with one key-auth credential; ${ROUTES.toLocaleString('en')} routes on ${SERVICES.toLocaleString('en')} services; one global key-auth plugin (${load.entities.toLocaleString('en')} entities).`,
    `Loaded straight into the tables by the gateway's store (one transaction of PostgresConfigStore.save): validated in ${ms(load.validateMs)} ms, written in ${ms(load.saveMs)} ms.`,
    `Two nodes (one process each) on one PostgreSQL 15 (fsync off), on this machine's ${'2'} CPUs with the benchmark. ${CREATES} consumers created one at a time through node A's admin API.`,
    '',
    '## Changes through node A',
    '',
    '| measured | n | p50 ms | p99 ms | max ms | goal (p99) |',
    '|---|---:|---:|---:|---:|---|',
    row('`POST /consumers` at A', measured.consumerCreate, verdict(measured.consumerCreate, 50)),
    row('consumer on B (`GET /consumers/{name}`), after A answered', measured.consumerPropagation, verdict(measured.consumerPropagation, 1000)),
    row('`POST /consumers/{name}/key-auth` at A', measured.keyCreate, '—'),
    row("new key served by B's proxy, after A answered", measured.keyPropagation, verdict(measured.keyPropagation, 1000)),
    '',
    measured.missed > 0 ? `**${measured.missed} changes never reached B within ${PROPAGATION_GIVE_UP_MS / 1000} s** (left out of the figures above).\n` : '',
    '## Nodes',
    '',
    '| node | start to ready ms | store read ms | validate ms | runtime compile ms | change compile ms (median) | RSS loaded MiB | RSS after changes MiB | peak RSS MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...nodes.map(
      (n) =>
        `| ${n.name} | ${ms(n.startMs)} | ${ms(n.readMs)} | ${ms(n.validateMs)} | ${ms(n.compileMs)} | ${ms(median(n.changeCompileMs ?? []))} | ${mib(n.memoryLoaded.rss)} | ${mib(n.memoryAfter?.rss)} | ${mib(n.memoryAfter?.peak ?? n.memoryLoaded.peak)} |`,
    ),
    '',
    'Store read: the start\'s read of every table (`configuration loaded` read_ms); validate: the whole document checked and normalised into a Config (validate_ms); runtime compile: router, plugins, pools built from it (`configuration compiled` compile_ms). Change compile: the `configuration applied` compile_ms of each change a node made live.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  let database: PostgresServer | null = null;
  let echo: EchoServer | null = null;
  const nodes: GatewayProcess[] = [];
  try {
    log('starting PostgreSQL');
    database = await startPostgresServer();
    const bootstrapped = await portcullis(['migrations', 'bootstrap', ...database.flags]);
    if (bootstrapped.code !== 0) throw new Error(`migrations bootstrap failed:\n${bootstrapped.stderr}`);
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    log(`loading ${CONSUMERS} consumers with keys and ${ROUTES} routes on ${SERVICES} services`);
    const load = await loadDataSet(database, `${echo.url}/anything`);
    log(`loaded: validated in ${ms(load.validateMs)} ms, written in ${ms(load.saveMs)} ms`);
    // One at a time: each start's figures are its own, not shared with the other node's.
    const a = await startNode('A', database, await profileArgs('A'));
    nodes.push(a.node);
    log(`node A ready in ${ms(a.figures.startMs)} ms`);
    const b = await startNode('B', database, await profileArgs('B'));
    nodes.push(b.node);
    log(`node B ready in ${ms(b.figures.startMs)} ms`);
    const probe = await fetchText(`${b.node.httpUrl}${PROBE_PATH}`, { headers: { apikey: 'scale-key-0' } });
    if (probe.status !== 200) throw new Error(`node B does not serve the loaded data set: ${probe.status} ${probe.text}`);
    const measured = await measureCreates(a.node, b.node);
    for (const [figures, node] of [[a.figures, a.node], [b.figures, b.node]] as const) {
      figures.memoryAfter = memoryMiB(node.child.pid!);
      figures.changeCompileMs = node.logs.filter((l) => l['msg'] === 'configuration applied').map((l) => Number(l['compile_ms']));
    }
    const text = report(load, [a.figures, b.figures], measured);
    await mkdir(join(resultsFile, '..'), { recursive: true });
    await writeFile(resultsFile, text);
    console.log(text);
    log(`written to ${resultsFile}`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await echo?.close();
    await database?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
