/**
 * `npm run bench`: Portcullis against the programs a user would otherwise pick for the same job,
 * in one invocation on one machine, so every figure has a reference from the same run.
 *
 * CPU split (2 cores): every program measured runs alone on CPU 0 (taskset), one at a time; wrk,
 * the upstream (nginx returning a fixed 200), the benchmark's issuer and this script share CPU 1.
 * Each row: a 2 s warm-up, then BENCH_RUNS runs of BENCH_DURATION seconds; medians reported with
 * the spread (half the range, % of the median).
 *
 * A row whose answers are not all 2xx is invalid: its figure is not a throughput of the scenario.
 *
 * Environment: BENCH_DURATION (s, default 8), BENCH_RUNS (default 3), BENCH_CONNECTIONS (default 64),
 * BENCH_ONLY (comma-separated scenario ids, e.g. "s3,s8"), BENCH_IDLE_CONNECTIONS (default 10000),
 * BENCH_DPOP_RATE (req/s the DPoP proofs of s8 are sized for; default 1.25 × the fastest s3
 * Portcullis run of the same invocation, else 25000), BENCH_CPUS (`<gateway>/<load>` CPU lists of
 * the --workers scaling rows, s9, e.g. `0-3/4-7`; default: the machine split in halves),
 * BENCH_REPORT_FROM (a saved latest.json: write the report again without measuring).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareBenchPki } from './lib/bench-pki.js';
import { ratioChartSvg, writeChart, type Bar } from './lib/chart.js';
import { createDpopKey, ProofSchedule, type DpopAlg } from './lib/dpop-proofs.js';
import { BENCH_API_KEY, dpopConfig, manyRoutesConfig, prometheusConfig, scenarioConfig } from './lib/gateway-config.js';
import { AUDIENCE, startBenchIssuer, type BenchIssuer } from './lib/issuer.js';
import { dumpConfig, measurePropagation, startBenchDatabase, syncConfig } from './lib/cluster.js';
import { startPortcullis, type PortcullisProcess } from './lib/portcullis.js';
import { freePorts } from './lib/ports.js';
import { ensureCommands, groupMemoryMiB, have, startPinned, waitForOutput, type Program } from './lib/processes.js';
import { cpuPercent, cpuTimes, median, spreadPercent } from './lib/stats.js';
import { scalingPlan } from './lib/scaling.js';
import { runH2load } from './lib/h2load.js';
import { buildShim, runWrk, useShim, writeDelayScript, writeRoundRobinScript, type Sample } from './lib/wrk.js';
import { startHaproxy } from './peers/haproxy.js';
import { startNginxProxy, startNginxUpstream } from './peers/nginx.js';
import { startNodeStack } from './peers/node-stack.js';

const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const durationSeconds = Number(process.env['BENCH_DURATION'] ?? 8);
const runs = Number(process.env['BENCH_RUNS'] ?? 3);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 64);
const only = process.env['BENCH_ONLY']?.split(',').map((s) => s.trim()) ?? null;
const idleConnections = Number(process.env['BENCH_IDLE_CONNECTIONS'] ?? 10_000);
const scaling = scalingPlan(process.env['BENCH_CPUS']);
/** Distinct tokens per algorithm: more than the gateway's 10,000-entry token cache, so cycling through them always misses. */
const DISTINCT_TOKENS = 12_000;
/** Seconds of load a batch of DPoP proofs may feed: the gateway's 300 s `dpop_proof_lifetime` less margin for signing and the clock. */
const DPOP_BATCH_BUDGET_SECONDS = 240;
const WARM_UP_SECONDS = 2;
/** Scenario 14: routes created through one node, each timed until another node serves it. */
const PROPAGATION_CHANGES = 100;
const DPOP_ON_REDIS = 'DPoP ES256 proofs, replay cache on Redis';
const SERVER_CPU = '0';
const LOAD_CPU = '1';

type ProgramName = 'upstream direct' | 'nginx' | 'HAProxy' | 'node stack' | 'Portcullis';

interface Row {
  program: ProgramName;
  url: string;
  group: number | null;
  headers?: string[];
  script?: string;
  clientCert?: boolean;
  /** false: a full TLS handshake on every new connection (see LoadOptions.tlsResume). */
  tlsResume?: boolean;
  note?: string;
  /** Load over HTTP/2 with h2load instead of wrk: this many connections, each with `streams` concurrent streams. */
  h2?: { connections: number; streams: number };
  /**
   * For load that must not repeat (s8's DPoP proofs): called just before the row; gives the program
   * (started for the row), a script for each wrk invocation (warm-up first) and what to report.
   */
  prepare?: (segments: ReadonlyArray<{ seconds: number }>) => Promise<PreparedRow>;
}

interface PreparedRow {
  url: string;
  group: number | null;
  /** The load's cores, wrk threads and connections, where not the one load CPU of every other row. */
  load?: { cpus: string; threads: number; connections: number };
  /** A wrk script for each invocation (warm-up first), where the row needs one. */
  scriptFor?(segment: number): Promise<string>;
  detail(): Record<string, unknown>;
  /** After the row's figures (memory included) are read. */
  close(): Promise<void>;
}

interface Scenario {
  id: string;
  title: string;
  rows: Row[];
  skipped: string[];
}

interface RowResult {
  scenario: string;
  title: string;
  program: ProgramName;
  note: string | null;
  samples: Sample[];
  rps: number;
  spread: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  non2xx: number;
  programCpu: number;
  cores: number[];
  peakRssMiB: number | null;
  /** Why the figure is not a valid measurement (non-2xx answers), or null. */
  invalid: string | null;
  /** Scenario-specific figures (s8: the proofs). */
  detail?: Record<string, unknown>;
}

function log(message: string): void {
  console.error(`bench: ${message}`);
}

async function main(): Promise<void> {
  // This script, wrk, the issuer and the upstream all live on the load CPU.
  execFileSync('taskset', ['-p', '-c', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });
  const missing = ensureCommands({ wrk: 'wrk', taskset: 'util-linux', cc: 'gcc', nginx: 'nginx-light', haproxy: 'haproxy', 'rsvg-convert': 'librsvg2-bin', h2load: 'nghttp2-client', 'redis-server': 'redis-server' });
  if (missing.includes('wrk') || missing.includes('taskset') || missing.includes('cc')) throw new Error(`cannot benchmark without ${missing.join(', ')}`);
  const skippedPrograms: string[] = missing.map((m) => `${m}: not installed (apt-get failed)`);
  try {
    execFileSync('sh', ['-c', 'test -f /usr/include/openssl/ssl.h || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev)'], { stdio: 'ignore' });
  } catch {
    skippedPrograms.push('libssl-dev: not installed; client-certificate scenarios will fail');
  }

  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
  useShim(buildShim(dir));
  const { clientCert, tls, thumbprint } = await prepareBenchPki(join(dir, 'pki'));

  const programs: Program[] = [];
  let issuer: BenchIssuer | null = null;
  const results: RowResult[] = [];
  const extra: Record<string, unknown> = {};
  try {
    issuer = await startBenchIssuer();
    const [upstreamPort, nginxHttp, nginxHttps, hapHttp, hapMtls, hapRs, hapEs, nodeHttp, nodeHttps] = (await freePorts(9)) as [number, number, number, number, number, number, number, number, number];
    // Scenario 10's targets: the same nginx upstream on four more ports.
    const targetPorts = have('nginx') ? await freePorts(4) : [];
    let upstreamUrl: string;
    if (have('nginx')) {
      programs.push(await startNginxUpstream(join(dir, 'upstream'), LOAD_CPU, upstreamPort, targetPorts));
      upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    } else {
      const echo = startPinned('upstream (portcullis echo)', LOAD_CPU, process.execPath, [fileURLToPath(new URL('../src/cli/main.js', import.meta.url)), 'echo', '--listen', `127.0.0.1:${upstreamPort}`]);
      programs.push(echo);
      await waitForOutput(echo, /listening/);
      upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    }

    log('signing tokens');
    const tokenRs = await issuer.sign('RS256', thumbprint);
    const distinct = async (alg: 'RS256' | 'ES256'): Promise<string> => {
      const tokens: string[] = [];
      for (let i = 0; i < DISTINCT_TOKENS; i++) tokens.push(`Bearer ${await issuer!.sign(alg, thumbprint)}`);
      const file = join(dir, `distinct-${alg}.lua`);
      await writeRoundRobinScript(file, tokens, 'Authorization');
      return file;
    };
    const distinctRs = await distinct('RS256');
    const distinctEs = await distinct('ES256');
    const opaque = issuer.opaque(thumbprint);
    const spreadScript = join(dir, 'spread.lua');
    await writeRoundRobinScript(spreadScript, Array.from({ length: 10_000 }, (_, i) => `/r${(i * 7919) % 10_000}/anything`), null);

    log('starting programs');
    // Scenario 12's Redis, on the load CPU with the upstream (as a Redis of its own machine would be).
    let redisPort: number | null = null;
    if (have('redis-server')) {
      [redisPort] = (await freePorts(1)) as [number];
      const redis = startPinned('redis', LOAD_CPU, 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
      programs.push(redis);
      await waitForOutput(redis, /Ready to accept connections/);
    }
    const portcullis: PortcullisProcess = await startPortcullis('main', dir, SERVER_CPU, scenarioConfig(upstreamUrl, issuer.url, targetPorts, redisPort));
    programs.push(portcullis.program);
    const portcullisMany = await startPortcullis('routes-10k', dir, SERVER_CPU, manyRoutesConfig(upstreamUrl, 10_000));
    programs.push(portcullisMany.program);
    // Its own process: a global prometheus would count every other scenario's requests too.
    const portcullisPrometheus = await startPortcullis('prometheus', dir, SERVER_CPU, prometheusConfig(upstreamUrl));
    programs.push(portcullisPrometheus.program);
    const pgid = (p: Program | null): number | null => p?.child.pid ?? null;
    let nginx: Program | null = null;
    if (have('nginx')) programs.push((nginx = await startNginxProxy(join(dir, 'nginx'), SERVER_CPU, { http: nginxHttp, https: nginxHttps }, upstreamPort, tls)));
    else skippedPrograms.push('nginx: not installed');
    let haproxy: Program | null = null;
    if (have('haproxy')) {
      programs.push((haproxy = await startHaproxy(join(dir, 'haproxy'), SERVER_CPU, { http: hapHttp, mtls: hapMtls, jwtRs256: hapRs, jwtEs256: hapEs }, upstreamPort, tls, { issuer: issuer.url, audience: AUDIENCE, rs256Pem: issuer.publicPem.RS256, es256Pem: issuer.publicPem.ES256 })));
    } else skippedPrograms.push('HAProxy: not installed');
    const nodeStack = await startNodeStack(SERVER_CPU, { httpPort: nodeHttp, httpsPort: nodeHttps, upstream: upstreamUrl, ...tls, issuer: issuer.url, audience: AUDIENCE });
    programs.push(nodeStack);

    const pc = pgid(portcullis.program);
    const bearer = (t: string): string[] => [`Authorization: Bearer ${t}`];
    const close = ['Connection: close'];
    const scenarios: Scenario[] = [
      {
        id: 's1', title: '1. HTTP proxy, keep-alive', skipped: [],
        rows: [
          { program: 'upstream direct', url: `${upstreamUrl}/plain`, group: pgid(programs[0]!) },
          ...(nginx ? [{ program: 'nginx' as const, url: `http://127.0.0.1:${nginxHttp}/plain`, group: pgid(nginx) }] : []),
          ...(haproxy ? [{ program: 'HAProxy' as const, url: `http://127.0.0.1:${hapHttp}/plain`, group: pgid(haproxy) }] : []),
          { program: 'node stack', url: `http://127.0.0.1:${nodeHttp}/plain`, group: pgid(nodeStack) },
          { program: 'Portcullis', url: `http://127.0.0.1:${portcullis.http}/plain`, group: pc },
        ],
      },
      {
        id: 's2', title: '2. mTLS proxy (client certificate requested and presented), no auth', skipped: [],
        rows: [
          ...(nginx ? [{ program: 'nginx' as const, url: `https://127.0.0.1:${nginxHttps}/mtls`, group: pgid(nginx), clientCert: true }] : []),
          ...(haproxy ? [{ program: 'HAProxy' as const, url: `https://127.0.0.1:${hapMtls}/mtls`, group: pgid(haproxy), clientCert: true }] : []),
          { program: 'node stack', url: `https://127.0.0.1:${nodeHttps}/mtls`, group: pgid(nodeStack), clientCert: true },
          { program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/mtls`, group: pc, clientCert: true, note: 'tls-handshake-modifier' },
        ],
      },
      {
        id: 's3', title: '3. tutorial pipeline: mTLS + bearer JWT (RS256) + cnf binding, one token (warm)', skipped: ['nginx: no JWT verification without a module'],
        rows: [
          ...(haproxy ? [{ program: 'HAProxy' as const, url: `https://127.0.0.1:${hapRs}/jwt`, group: pgid(haproxy), clientCert: true, headers: bearer(tokenRs), note: 'jwt_verify + cnf' }] : []),
          { program: 'node stack', url: `https://127.0.0.1:${nodeHttps}/jwt`, group: pgid(nodeStack), clientCert: true, headers: bearer(tokenRs), note: 'fastify + jose' },
          { program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/jwt`, group: pc, clientCert: true, headers: bearer(tokenRs), note: 'openid-connect strict' },
        ],
      },
      {
        id: 's4', title: `4. distinct tokens (${DISTINCT_TOKENS.toLocaleString('en')} per alg, cycled: every request verifies a signature)`, skipped: ['nginx: no JWT verification without a module'],
        rows: [
          ...(haproxy ? [{ program: 'HAProxy' as const, url: `https://127.0.0.1:${hapRs}/jwt`, group: pgid(haproxy), clientCert: true, script: distinctRs, note: 'RS256' }] : []),
          { program: 'node stack', url: `https://127.0.0.1:${nodeHttps}/jwt`, group: pgid(nodeStack), clientCert: true, script: distinctRs, note: 'RS256' },
          { program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/jwt`, group: pc, clientCert: true, script: distinctRs, note: 'RS256' },
          ...(haproxy ? [{ program: 'HAProxy' as const, url: `https://127.0.0.1:${hapEs}/jwt`, group: pgid(haproxy), clientCert: true, script: distinctEs, note: 'ES256' }] : []),
          { program: 'node stack', url: `https://127.0.0.1:${nodeHttps}/jwt`, group: pgid(nodeStack), clientCert: true, script: distinctEs, note: 'ES256' },
          { program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/jwt`, group: pc, clientCert: true, script: distinctEs, note: 'ES256' },
        ],
      },
      {
        id: 's5', title: '5. a new TLS connection per request, client certificate, full handshake (no session resumed; RSA-2048 server key)', skipped: [],
        rows: [
          ...(nginx ? [{ program: 'nginx' as const, url: `https://127.0.0.1:${nginxHttps}/mtls`, group: pgid(nginx), clientCert: true, headers: close, tlsResume: false }] : []),
          ...(haproxy ? [{ program: 'HAProxy' as const, url: `https://127.0.0.1:${hapMtls}/mtls`, group: pgid(haproxy), clientCert: true, headers: close, tlsResume: false }] : []),
          { program: 'node stack', url: `https://127.0.0.1:${nodeHttps}/mtls`, group: pgid(nodeStack), clientCert: true, headers: close, tlsResume: false },
          { program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/mtls`, group: pc, clientCert: true, headers: close, tlsResume: false },
        ],
      },
      {
        // wrk offers each connection slot's last session back. Node's TLS 1.3 server issues no new
        // ticket on a resumed handshake (nodejs/node#60847), so against Node every other connection
        // is a full handshake; nginx and HAProxy issue one and resume every connection.
        id: 's5r', title: '5r. a new TLS connection per request, client certificate, the session resumed where the server allows (TLS 1.3 tickets)', skipped: [],
        rows: [
          ...(nginx ? [{ program: 'nginx' as const, url: `https://127.0.0.1:${nginxHttps}/mtls`, group: pgid(nginx), clientCert: true, headers: close }] : []),
          ...(haproxy ? [{ program: 'HAProxy' as const, url: `https://127.0.0.1:${hapMtls}/mtls`, group: pgid(haproxy), clientCert: true, headers: close }] : []),
          { program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/mtls`, group: pc, clientCert: true, headers: close },
        ],
      },
      {
        id: 's6', title: '6. 10,000 routes, requests spread over them (HTTP; compare with scenario 1)', skipped: [],
        rows: [{ program: 'Portcullis', url: `http://127.0.0.1:${portcullisMany.http}`, group: pgid(portcullisMany.program), script: spreadScript, note: '10,000 prefix routes' }],
      },
      {
        id: 's11', title: '11. the tutorial pipeline (s3) over HTTP/2: h2load, 4 connections × 16 streams', skipped: ['nginx, HAProxy, node stack: the s3 comparison is HTTP/1.1; this row compares Portcullis with its own s3', ...(missing.includes('h2load') ? ['Portcullis: no h2load'] : [])],
        rows: missing.includes('h2load') ? [] : [{ program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/jwt`, group: pc, clientCert: true, headers: bearer(tokenRs), note: 'openid-connect strict, h2', h2: { connections: 4, streams: 16 } }],
      },
      {
        id: 's10', title: '10. round-robin over an upstream of 4 targets (HTTP; compare with scenario 1)', skipped: targetPorts.length === 0 ? ['Portcullis: no nginx to serve four targets'] : [],
        rows: targetPorts.length === 0 ? [] : [{ program: 'Portcullis', url: `http://127.0.0.1:${portcullis.http}/balanced`, group: pc, note: 'upstream with 4 targets, weight 100 each' }],
      },
      {
        id: 's12', title: '12. key-auth + acl + rate-limiting by consumer (HTTP; compare with scenario 1), counters local and in Redis', skipped: redisPort === null ? ['Portcullis on Redis: no redis-server'] : [],
        rows: [
          { program: 'Portcullis', url: `http://127.0.0.1:${portcullis.http}/limited`, group: pc, headers: [`apikey: ${BENCH_API_KEY}`], note: 'rate-limiting local' },
          ...(redisPort === null ? [] : [{ program: 'Portcullis' as const, url: `http://127.0.0.1:${portcullis.http}/limited-redis`, group: pc, headers: [`apikey: ${BENCH_API_KEY}`], note: 'rate-limiting redis' }]),
        ],
      },
      {
        id: 's13', title: '13. prometheus global, every per-request metric on (HTTP; compare with scenario 1)', skipped: ['nginx, HAProxy, node stack: the comparison is Portcullis with its own s1'],
        rows: [{ program: 'Portcullis', url: `http://127.0.0.1:${portcullisPrometheus.http}/plain`, group: pgid(portcullisPrometheus.program), note: 'status codes, latencies, bandwidth' }],
      },
      {
        id: 's7', title: '7. introspection (opaque token), cached result, + cnf binding', skipped: ['nginx, HAProxy, node stack: no introspection without extra code'],
        rows: [{ program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/introspection`, group: pc, clientCert: true, headers: bearer(opaque), note: 'cache_introspection' }],
      },
      {
        id: 's9', title: `9. --workers scaling: the tutorial pipeline (s3) with ${scaling.workerCounts.join(', ')} worker${scaling.workerCounts.length > 1 ? 's' : ''} on CPU ${scaling.gatewayCpus}, the load on CPU ${scaling.loadCpus}`,
        skipped: scaling.why === null ? [] : [`more than 1 worker: ${scaling.why}`],
        rows: scaling.workerCounts.map((workers) => ({ program: 'Portcullis' as const, url: '', group: null, clientCert: true, headers: bearer(tokenRs), note: `${workers} worker${workers > 1 ? 's' : ''}`, prepare: () => prepareWorkersRow(workers) })),
      },
      {
        id: 's8', title: '8. DPoP-bound token (RS256, cnf.jkt, warm), a fresh proof per request, HTTPS without client certificate (compare with scenario 3)',
        skipped: ['nginx, HAProxy, node stack: no DPoP without extra code', 'replay store off: the gateway has no switch for it; its cost is in the DPoP CPU profile (npm run bench:profile, BENCH_PROFILE_ROUTE=/dpop)'],
        rows: [
          ...(['ES256', 'EdDSA'] as const).map((alg) => ({ program: 'Portcullis' as const, url: '', group: null, note: `DPoP ${alg === 'EdDSA' ? 'Ed25519 (EdDSA)' : alg} proofs`, prepare: (segments: ReadonlyArray<{ seconds: number }>) => prepareDpopRow(alg, segments) })),
          // Issue 16: the replay cache on the Redis the nodes share (--redis-url) instead of the node's memory.
          ...(redisPort === null ? [] : [{ program: 'Portcullis' as const, url: '', group: null, note: DPOP_ON_REDIS, prepare: (segments: ReadonlyArray<{ seconds: number }>) => prepareDpopRow('ES256', segments, ['--redis-url', `redis://127.0.0.1:${redisPort}`]) }]),
        ],
      },
      {
        id: 's14', title: '14. the s1 route with the configuration in PostgreSQL (--database postgres) and in the file store, the same configuration (HTTP)',
        skipped: [],
        rows: [
          { program: 'Portcullis', url: '', group: null, note: 'file store', prepare: () => prepareFileStoreRow() },
          { program: 'Portcullis', url: '', group: null, note: 'database postgres', prepare: () => preparePostgresRow() },
        ],
      },
    ];

    /** Scenario 9: a gateway of its own with `workers` workers on the scaling cores, 64 connections per worker. */
    const prepareWorkersRow = async (workers: number): Promise<PreparedRow> => {
      const gateway = await startPortcullis(`workers-${workers}`, dir, scaling.gatewayCpus, scenarioConfig(upstreamUrl, issuer!.url), { workers });
      return {
        url: `https://127.0.0.1:${gateway.https}/jwt`,
        group: gateway.program.child.pid ?? null,
        load: { cpus: scaling.loadCpus, threads: scaling.loadCores, connections: connections * workers },
        detail: () => ({ workers, gateway_cpus: scaling.gatewayCpus, load_cpus: scaling.loadCpus, wrk_threads: scaling.loadCores, connections: connections * workers }),
        close: () => gateway.program.stop(),
      };
    };

    /** A gateway of its own per row (an empty replay store each time), a key, one token bound to it, and proofs made just before they are used. */
    const prepareDpopRow = async (alg: DpopAlg, segments: ReadonlyArray<{ seconds: number }>, extraArgs: string[] = []): Promise<PreparedRow> => {
      const gateway = await startPortcullis(`dpop-${alg.toLowerCase()}${extraArgs.length > 0 ? '-redis' : ''}`, dir, SERVER_CPU, dpopConfig(upstreamUrl, issuer!.url), { extraArgs });
      const key = createDpopKey(alg);
      const token = await issuer!.sign('RS256', { jkt: key.jkt });
      const host = `127.0.0.1:${gateway.https}`;
      const s3Fastest = Math.max(0, ...results.filter((r) => r.scenario === 's3' && r.program === 'Portcullis').flatMap((r) => r.samples.map((x) => x.rps)));
      const rate = Number(process.env['BENCH_DPOP_RATE'] ?? (s3Fastest > 0 ? 1.25 * s3Fastest : 25_000));
      const schedule = new ProofSchedule(key, { htm: 'GET', htu: `https://${host}/dpop`, host, token }, segments, rate, dir, DPOP_BATCH_BUDGET_SECONDS);
      log(`s8 ${alg}: proofs sized for ${rate.toFixed(0)} req/s (${s3Fastest > 0 ? '1.25 × the fastest s3 Portcullis run' : process.env['BENCH_DPOP_RATE'] !== undefined ? 'BENCH_DPOP_RATE' : 'no s3 row in this invocation: 25,000'}), ${segments.map((s) => schedule.count(s)).join(' + ')} proofs`);
      return {
        url: `https://${host}/dpop`,
        group: gateway.program.child.pid ?? null,
        async scriptFor(segment) {
          const before = schedule.stats.batches;
          const script = await schedule.scriptFor(segment);
          if (schedule.stats.batches !== before) log(`s8 ${alg}: signed ${schedule.stats.proofs.toLocaleString('en')} proofs so far in ${schedule.stats.signingSeconds.toFixed(1)} s (2 processes, both CPUs)`);
          return script;
        },
        detail: () => ({ alg, sized_for_rps: rate, jkt: key.jkt, ...schedule.stats }),
        async close() {
          await gateway.program.stop();
          await schedule.dispose();
        },
      };
    };

    /**
     * Scenario 14: two nodes on one PostgreSQL (on the load CPU, as a database of its own machine
     * would be) holding s1's configuration; first the propagation of PROPAGATION_CHANGES routes made
     * through node A to node B's proxy. Then a file-store node loads A's dump (the same
     * configuration, those routes included) and is measured, then node A (node B idle beside it).
     */
    let cluster: { database: Awaited<ReturnType<typeof startBenchDatabase>>; a: PortcullisProcess; b: PortcullisProcess } | null = null;
    const startCluster = async (): Promise<NonNullable<typeof cluster>> => {
      const database = await startBenchDatabase(LOAD_CPU);
      const nodeArgs = { admin: true, extraArgs: [...database.flags] };
      const a = await startPortcullis('postgres-a', dir, SERVER_CPU, null, nodeArgs);
      const b = await startPortcullis('postgres-b', dir, SERVER_CPU, null, nodeArgs);
      await syncConfig(a.admin!, scenarioConfig(upstreamUrl, issuer!.url, targetPorts, redisPort), dir);
      const propagation = await measurePropagation(a.admin!, b.http, 'upstream', PROPAGATION_CHANGES);
      extra['propagation'] = propagation;
      log(`s14 propagation over ${propagation.count} changes: p50 ${propagation.p50.toFixed(1)} ms, p99 ${propagation.p99.toFixed(1)} ms, max ${propagation.max.toFixed(1)} ms`);
      return { database, a, b };
    };
    const prepareFileStoreRow = async (): Promise<PreparedRow> => {
      cluster ??= await startCluster();
      const file = await startPortcullis('file-store', dir, SERVER_CPU, await dumpConfig(cluster.a.admin!));
      return { url: `http://127.0.0.1:${file.http}/plain`, group: file.program.child.pid ?? null, detail: () => ({}), close: () => file.program.stop() };
    };
    const preparePostgresRow = async (): Promise<PreparedRow> => {
      const { database, a, b } = (cluster ??= await startCluster());
      return {
        url: `http://127.0.0.1:${a.http}/plain`,
        group: a.program.child.pid ?? null,
        detail: () => ({ propagation: extra['propagation'] }),
        async close() {
          cluster = null;
          await a.program.stop();
          await b.program.stop();
          await database.stop();
        },
      };
    };

    for (const scenario of scenarios) {
      if (only !== null && !only.includes(scenario.id)) continue;
      for (const row of scenario.rows) {
        const segments = [{ seconds: WARM_UP_SECONDS }, ...Array.from({ length: runs }, () => ({ seconds: durationSeconds }))];
        const prepared = row.prepare === undefined ? null : await row.prepare(segments);
        try {
          const group = prepared === null ? row.group : prepared.group;
          const options = {
            url: prepared?.url ?? row.url,
            connections: prepared?.load?.connections ?? (row.headers === close ? Math.min(connections, 16) : connections),
            cpus: prepared?.load?.cpus ?? LOAD_CPU,
            threads: prepared?.load?.threads ?? 1,
            headers: row.headers ?? [],
            ...(row.script === undefined ? {} : { script: row.script }),
            ...(row.clientCert === true ? { clientCert } : {}),
            ...(row.tlsResume === undefined ? {} : { tlsResume: row.tlsResume }),
            measure: group === null ? ({} as Record<string, number>) : { program: group },
          };
          const scriptFor = async (segment: number): Promise<{ script?: string }> => (prepared?.scriptFor === undefined ? {} : { script: await prepared.scriptFor(segment) });
          const h2 = row.h2;
          const load = (extra: { seconds: number; script?: string }): Promise<Sample> =>
            h2 === undefined ? runWrk({ ...options, ...extra }, dir) : runH2load({ ...options, ...extra, connections: h2.connections, streams: h2.streams });
          const warmUp = await load({ ...(await scriptFor(0)), seconds: WARM_UP_SECONDS });
          const samples: Sample[] = [];
          const cores: number[][] = [];
          for (let i = 0; i < runs; i++) {
            const script = await scriptFor(i + 1);
            const before = cpuTimes();
            samples.push(await load({ ...script, seconds: durationSeconds }));
            cores.push(cpuPercent(before, cpuTimes()));
          }
          const rpsValues = samples.map((s) => s.rps);
          const result: RowResult = {
            scenario: scenario.id,
            title: scenario.title,
            program: row.program,
            note: row.note ?? null,
            samples,
            rps: median(rpsValues),
            spread: spreadPercent(rpsValues),
            p50: median(samples.map((s) => s.p50)),
            p99: median(samples.map((s) => s.p99)),
            p999: median(samples.map((s) => s.p999)),
            errors: samples.reduce((n, s) => n + s.errors, 0),
            non2xx: samples.reduce((n, s) => n + s.non2xx, 0),
            programCpu: median(samples.map((s) => s.cpu['program'] ?? NaN)),
            cores: [0, 1].map((c) => median(cores.map((x) => x[c] ?? NaN))),
            peakRssMiB: group === null ? null : groupMemoryMiB(group).peak,
            invalid: null,
          };
          const exhausted = samples.reduce((n, s) => n + (s.counters?.['values_exhausted'] ?? 0), 0);
          if (result.non2xx > 0) {
            result.invalid = `${result.non2xx} non-2xx answers in the measured runs (${samples.map((s) => s.non2xx).join(', ')})${exhausted > 0 ? `; the proofs ran out ${exhausted} times` : ''}`;
          }
          if (prepared !== null) {
            result.detail = {
              ...prepared.detail(),
              warm_up: { rps: warmUp.rps, requests: warmUp.requests, non2xx: warmUp.non2xx, counters: warmUp.counters ?? {} },
              runs: samples.map((s) => ({ requests: s.requests, non2xx: s.non2xx, ...(s.counters ?? {}) })),
            };
            if (warmUp.non2xx > 0) log(`${scenario.id} ${row.note ?? ''}: ${warmUp.non2xx} non-2xx in the warm-up (${JSON.stringify(warmUp.counters ?? {})})`);
          }
          results.push(result);
          log(`${scenario.id} ${row.program}${row.note ? ` (${row.note})` : ''}: ${result.rps.toFixed(0)} req/s ±${result.spread.toFixed(0)}% (runs ${rpsValues.map((v) => v.toFixed(0)).join(', ')}), p99 ${ms(result.p99)} ms, errors ${result.errors}, non-2xx ${result.non2xx}${result.invalid === null ? '' : ` — INVALID: ${result.invalid}`}`);
        } finally {
          await prepared?.close();
        }
      }
    }

    if (only === null || only.includes('latency')) extra['latency'] = await halfLoadLatency(results, `https://127.0.0.1:${portcullis.https}/jwt`, `${upstreamUrl}/plain`, bearer(tokenRs), clientCert, dir, pc);
    if (only === null || only.includes('memory')) extra['memory'] = await idleConnectionMemory(portcullis, nginx, nginxHttps, clientCert);
    extra['skipped'] = [...skippedPrograms, ...scenarios.flatMap((s) => s.skipped.map((k) => `${s.id}: ${k}`))];
  } finally {
    for (const p of programs.reverse()) await p.stop();
    await issuer?.close();
  }
  await report(results, extra);
}

/** Scenario 3 at half of Portcullis's peak rate (wrk `delay`), against the upstream at the same rate: the latency the gateway adds. */
async function halfLoadLatency(results: RowResult[], gatewayUrl: string, upstreamUrl: string, headers: string[], clientCert: { cert: string; key: string }, dir: string, group: number | null): Promise<Record<string, number>> {
  const peak = results.find((r) => r.scenario === 's3' && r.program === 'Portcullis')?.rps ?? 8000;
  const target = peak / 2;
  const conns = 16;
  // Each connection waits `delay` ms after a response: conns / (delay + latency) ≈ target.
  const delayMs = Math.max(1, Math.round((1000 * conns) / target));
  const script = join(dir, 'half-load.lua');
  await writeDelayScript(script, delayMs);
  const base = { seconds: durationSeconds, connections: conns, cpus: LOAD_CPU, script };
  const direct = await runWrk({ ...base, url: upstreamUrl }, dir);
  const gateway = await runWrk({ ...base, url: gatewayUrl, headers, clientCert, measure: group === null ? {} : { program: group } }, dir);
  const out = { target_rps: target, delay_ms: delayMs, connections: conns, direct_rps: direct.rps, direct_p50: direct.p50, direct_p99: direct.p99, gateway_rps: gateway.rps, gateway_p50: gateway.p50, gateway_p99: gateway.p99, gateway_p999: gateway.p999, added_p99: gateway.p99 - direct.p99, added_p50: gateway.p50 - direct.p50, errors: gateway.errors + gateway.non2xx };
  log(`half-load latency: ${JSON.stringify(out)}`);
  return out;
}

/** 10,000 idle keep-alive mTLS connections: resident memory of the gateway (and of nginx for scale). */
async function idleConnectionMemory(portcullis: PortcullisProcess, nginx: Program | null, nginxHttps: number, clientCert: { cert: string; key: string }): Promise<Record<string, unknown>> {
  const client = fileURLToPath(new URL('./lib/idle-client.js', import.meta.url));
  const measure = async (label: string, group: number, port: number, path: string): Promise<Record<string, unknown>> => {
    const before = groupMemoryMiB(group).rss;
    const child = spawn('taskset', ['-c', LOAD_CPU, process.execPath, client, JSON.stringify({ port, path, cert: clientCert.cert, key: clientCert.key, count: idleConnections, concurrency: 64 })], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n')) resolve(text.trim());
      });
      child.once('exit', (code) => reject(new Error(`idle client exited with ${code}: ${text}`)));
    });
    await new Promise((r) => setTimeout(r, 2000));
    const held = groupMemoryMiB(group);
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    const out = { program: label, connections: idleConnections, client: line, rss_before_mib: before, rss_held_mib: held.rss, peak_mib: held.peak };
    log(`idle connections: ${JSON.stringify(out)}`);
    return out;
  };
  const rows: Array<Record<string, unknown>> = [];
  rows.push(await measure('Portcullis', portcullis.program.child.pid!, portcullis.https, '/mtls'));
  if (nginx !== null) rows.push(await measure('nginx', nginx.child.pid!, nginxHttps, '/mtls'));
  return { idle: rows, token_cache_note: 'peak RSS of the gateway after scenario 4 (24,000 distinct tokens through a 10,000-entry cache) is in the s4 rows' };
}

/** A latency in ms for the table; — where the load generator gives none (h2load has no percentiles). */
function ms(value: number): string {
  return Number.isNaN(value) ? '—' : value.toFixed(2);
}

function ratio(value: number, reference: RowResult | undefined): string {
  return reference === undefined || !(reference.rps > 0) ? '—' : (value / reference.rps).toFixed(2);
}

async function report(results: RowResult[], extra: Record<string, unknown>, measured?: { date: string; machine: string }): Promise<void> {
  const date = measured?.date ?? new Date().toISOString();
  const machine = measured?.machine ?? `${hostname()} (${cpus().length}× ${cpus()[0]?.model.trim() ?? 'cpu'}), Linux, Node ${process.version}`;
  // The same scenario's row of that program; in s4, of the same algorithm (the note).
  const refFor = (r: RowResult, program: ProgramName): RowResult | undefined =>
    results.find((x) => x.scenario === r.scenario && x.program === program && (r.scenario !== 's4' || x.note === r.note));
  const lines = [
    '# Portcullis benchmark',
    '',
    `${date} on ${machine}.`,
    `wrk -t1 -c${connections} (16 for the new-connection scenario), ${runs} runs × ${durationSeconds} s after a 2 s warm-up, medians; ± is half the range of the runs. Every program measured runs alone on CPU 0 (taskset); wrk, the upstream (nginx, fixed 200) and the issuer share CPU 1. CPU% is of one core.`,
    '',
    '| scenario | program | req/s | ± | p50 ms | p99 ms | p99.9 ms | errors | non-2xx | program CPU % | CPU0 / CPU1 % | peak RSS MiB | ÷ nginx | ÷ HAProxy | ÷ node stack |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(`| ${r.scenario} | ${r.program}${r.note ? ` (${r.note})` : ''} | ${r.invalid === null ? r.rps.toFixed(0) : `**invalid** (${r.rps.toFixed(0)})`} | ${r.spread.toFixed(0)}% | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.p999)} | ${r.errors} | ${r.non2xx} | ${r.programCpu.toFixed(0)} | ${r.cores.map((c) => c.toFixed(0)).join(' / ')} | ${r.peakRssMiB?.toFixed(0) ?? '—'} | ${ratio(r.rps, refFor(r, 'nginx'))} | ${ratio(r.rps, refFor(r, 'HAProxy'))} | ${ratio(r.rps, refFor(r, 'node stack'))} |`);
  }
  lines.push('', 'Scenarios:', ...[...new Set(results.map((r) => `- ${r.scenario}: ${r.title}`))]);

  const pick = (scenario: string, program: ProgramName, note?: string): RowResult | undefined => results.find((r) => r.scenario === scenario && r.program === program && (note === undefined || r.note === note));
  const targets: Array<{ label: string; value: number; target: number; invalid: boolean }> = [];
  const addTarget = (label: string, a: RowResult | undefined, b: RowResult | undefined, target: number): void => {
    if (a !== undefined && b !== undefined && b.rps > 0) targets.push({ label, value: a.rps / b.rps, target, invalid: a.invalid !== null || b.invalid !== null });
  };
  // The second round's targets (issue 13) where it set one, the first round's otherwise.
  addTarget('s3 tutorial pipeline ÷ HAProxy', pick('s3', 'Portcullis'), pick('s3', 'HAProxy'), 1.0);
  addTarget('s1 HTTP proxy ÷ node stack', pick('s1', 'Portcullis'), pick('s1', 'node stack'), 1.2);
  addTarget('s3 tutorial pipeline ÷ node stack', pick('s3', 'Portcullis'), pick('s3', 'node stack'), 2.0);
  addTarget('s4 distinct RS256 ÷ HAProxy', pick('s4', 'Portcullis', 'RS256'), pick('s4', 'HAProxy', 'RS256'), 0.6);
  addTarget('s4 distinct ES256 ÷ HAProxy', pick('s4', 'Portcullis', 'ES256'), pick('s4', 'HAProxy', 'ES256'), 0.8);
  addTarget('s5 new connection per request (full handshake) ÷ nginx', pick('s5', 'Portcullis'), pick('s5', 'nginx'), 0.8);
  addTarget('s5r new connection per request, resumed where allowed ÷ nginx', pick('s5r', 'Portcullis'), pick('s5r', 'nginx'), 0);
  addTarget('s2 mTLS proxy ÷ nginx', pick('s2', 'Portcullis'), pick('s2', 'nginx'), 0.5);
  addTarget('s6 10,000 routes ÷ s1 one route', pick('s6', 'Portcullis'), pick('s1', 'Portcullis'), 0.9);
  addTarget('s10 round-robin over 4 targets ÷ s1 one host', pick('s10', 'Portcullis'), pick('s1', 'Portcullis'), 0.95);
  addTarget('s11 tutorial pipeline over HTTP/2 ÷ s3 over HTTP/1.1', pick('s11', 'Portcullis'), pick('s3', 'Portcullis'), 1.0);
  addTarget('s12 key-auth + acl + rate-limiting (local) ÷ s1', pick('s12', 'Portcullis', 'rate-limiting local'), pick('s1', 'Portcullis'), 0.85);
  addTarget('s13 prometheus global ÷ s1', pick('s13', 'Portcullis'), pick('s1', 'Portcullis'), 0.95);
  addTarget('s12 rate-limiting redis ÷ local', pick('s12', 'Portcullis', 'rate-limiting redis'), pick('s12', 'Portcullis', 'rate-limiting local'), 0.7);
  addTarget('s1 HTTP proxy ÷ nginx', pick('s1', 'Portcullis'), pick('s1', 'nginx'), 0);
  addTarget('s8 DPoP, ES256 proof per request ÷ s3', pick('s8', 'Portcullis', 'DPoP ES256 proofs'), pick('s3', 'Portcullis'), 0.6);
  addTarget('s8 DPoP, Ed25519 proof per request ÷ s3', pick('s8', 'Portcullis', 'DPoP Ed25519 (EdDSA) proofs'), pick('s3', 'Portcullis'), 0);
  addTarget('s8 DPoP ES256, replay cache on Redis ÷ in memory', pick('s8', 'Portcullis', DPOP_ON_REDIS), pick('s8', 'Portcullis', 'DPoP ES256 proofs'), 0.8);
  addTarget('s14 HTTP proxy, configuration in PostgreSQL ÷ file store', pick('s14', 'Portcullis', 'database postgres'), pick('s14', 'Portcullis', 'file store'), 0.98);
  lines.push('', '## Targets', '', '| comparison | ratio | target | met |', '|---|---|---|---|');
  for (const t of targets) lines.push(`| ${t.label} | ${t.value.toFixed(2)} | ${t.target > 0 ? `≥ ${t.target.toFixed(2).replace(/0$/, '')}` : '—'} | ${t.invalid ? '**invalid row**' : t.target > 0 ? (t.value >= t.target ? 'yes' : '**no**') : ''} |`);
  const invalid = results.filter((r) => r.invalid !== null);
  if (invalid.length > 0) lines.push('', '## Invalid rows', '', ...invalid.map((r) => `- ${r.scenario} ${r.program}${r.note ? ` (${r.note})` : ''}: ${r.invalid}`));
  const dpopRows = results.filter((r) => r.scenario === 's8');
  if (dpopRows.length > 0) {
    const s3 = pick('s3', 'Portcullis');
    const range = (r: RowResult): string => {
      if (s3 === undefined || s3.samples.length === 0) return '—';
      const a = r.samples.map((x) => x.rps);
      const b = s3.samples.map((x) => x.rps);
      return `${(Math.min(...a) / Math.max(...b)).toFixed(2)}–${(Math.max(...a) / Math.min(...b)).toFixed(2)}`;
    };
    lines.push('', '## DPoP (scenario 8)', '',
      'One RS256 access token bound by `cnf.jkt` (warm in the token cache) and a different proof on every request: each wrk invocation (warm-up, then every run) reads its own proofs in order and never wraps, so a shortage shows as non-2xx answers (the row is then invalid). Each row has a gateway of its own (an empty replay store). Proofs are signed with node:crypto in 2 processes on both CPUs just before the row (the gateway is idle meanwhile), `iat` the second of signing.',
      '', '| row | req/s | ± | ÷ s3 Portcullis | range of run ratios | proofs signed | signing s | proofs per invocation | requests completed (warm-up + runs) | non-2xx | proofs exhausted | peak RSS MiB |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of dpopRows) {
      const d = r.detail ?? {};
      const perRun = (d['runs'] as Array<Record<string, number>> | undefined) ?? [];
      const warm = (d['warm_up'] as { requests: number; non2xx: number; counters: Record<string, number> } | undefined) ?? { requests: 0, non2xx: 0, counters: {} };
      const exhausted = (warm.counters['values_exhausted'] ?? 0) + perRun.reduce((n, x) => n + (x['values_exhausted'] ?? 0), 0);
      lines.push(`| ${r.note ?? ''} | ${r.invalid === null ? r.rps.toFixed(0) : `**invalid** (${r.rps.toFixed(0)})`} | ${r.spread.toFixed(0)}% | ${ratio(r.rps, s3)} | ${range(r)} | ${Number(d['proofs'] ?? 0).toLocaleString('en')} | ${Number(d['signingSeconds'] ?? 0).toFixed(1)} | ${((d['perSegment'] as number[] | undefined) ?? []).map((n) => n.toLocaleString('en')).join(' + ')} | ${[warm.requests, ...perRun.map((x) => x['requests'] ?? 0)].map((n) => n.toLocaleString('en')).join(' + ')} | ${warm.non2xx} + ${r.non2xx} | ${exhausted} | ${r.peakRssMiB?.toFixed(0) ?? '—'} |`);
    }
    lines.push('', 'The gateway cannot turn its replay store off, so there is no row without it: `BENCH_PROFILE_ROUTE=/dpop npm run bench:profile` shows its share (bench/profile/dpop-es256.md).');
  }
  const workerRows = results.filter((r) => r.scenario === 's9');
  if (workerRows.length > 0) {
    const one = workerRows.find((r) => r.detail?.['workers'] === 1);
    lines.push('', '## --workers scaling (scenario 9)', '',
      `The tutorial pipeline (s3) with \`--workers N\`: the gateway on CPU ${scaling.gatewayCpus} (${scaling.gatewayCores} core${scaling.gatewayCores > 1 ? 's' : ''}), wrk -t${scaling.loadCores} with ${connections} connections per worker, the upstream and the issuer on CPU ${scaling.loadCpus}. Efficiency = req/s ÷ (N × the 1-worker req/s).`,
      '', '| workers | req/s | ± | req/s per worker | efficiency | gateway CPU % (all processes) | p99 ms |', '|---|---|---|---|---|---|---|');
    for (const r of workerRows) {
      const n = Number(r.detail?.['workers'] ?? 1);
      lines.push(`| ${n} | ${r.invalid === null ? r.rps.toFixed(0) : `**invalid** (${r.rps.toFixed(0)})`} | ${r.spread.toFixed(0)}% | ${(r.rps / n).toFixed(0)} | ${one !== undefined && one.rps > 0 ? (r.rps / (n * one.rps)).toFixed(2) : '—'} | ${r.programCpu.toFixed(0)} | ${r.p99.toFixed(2)} |`);
    }
    if (scaling.why !== null) lines.push('', `Only 1 worker here: ${scaling.why}`);
  }
  const propagation = extra['propagation'] as { count: number; p50: number; p99: number; max: number } | undefined;
  if (propagation !== undefined) {
    lines.push('', '## Change propagation (scenario 14)', '',
      `${propagation.count} routes created one at a time through node A's admin API, each timed from A's 201 until node B's proxy serves it (polled every 2 ms); both nodes on one PostgreSQL (LISTEN/NOTIFY, the poll as backstop).`, '',
      '| p50 ms | p99 ms | max ms | target |', '|---|---|---|---|',
      `| ${propagation.p50.toFixed(1)} | ${propagation.p99.toFixed(1)} | ${propagation.max.toFixed(1)} | p99 ≤ 1000 ms: ${propagation.p99 <= 1000 ? 'met' : '**missed**'} |`);
  }
  const latency = extra['latency'] as Record<string, number> | undefined;
  if (latency !== undefined) {
    lines.push('', '## Latency at half of peak load (scenario 3)', '', `wrk -c${latency['connections']} with a ${latency['delay_ms']} ms delay per connection after each response, aiming at ${latency['target_rps']!.toFixed(0)} req/s.`, '',
      '| | req/s | p50 ms | p99 ms |', '|---|---|---|---|',
      `| upstream direct | ${latency['direct_rps']!.toFixed(0)} | ${latency['direct_p50']!.toFixed(2)} | ${latency['direct_p99']!.toFixed(2)} |`,
      `| Portcullis, tutorial pipeline | ${latency['gateway_rps']!.toFixed(0)} | ${latency['gateway_p50']!.toFixed(2)} | ${latency['gateway_p99']!.toFixed(2)} |`,
      `| **added by the gateway** | | ${latency['added_p50']!.toFixed(2)} | **${latency['added_p99']!.toFixed(2)}** (target ≤ 1 ms) |`);
  }
  const memory = extra['memory'] as { idle: Array<Record<string, unknown>> } | undefined;
  if (memory !== undefined) {
    lines.push('', `## Memory: ${idleConnections.toLocaleString('en')} idle keep-alive mTLS connections`, '', '| program | RSS before MiB | RSS holding them MiB | peak MiB | client |', '|---|---|---|---|---|');
    for (const m of memory.idle) lines.push(`| ${String(m['program'])} | ${Number(m['rss_before_mib']).toFixed(0)} | ${Number(m['rss_held_mib']).toFixed(0)} | ${Number(m['peak_mib']).toFixed(0)} | ${String(m['client'])} |`);
    lines.push('', 'Target: at most 300 MiB for the gateway (the first round aimed at 200). The token cache under a flood of distinct tokens: see the peak RSS of the s4 rows (24,000 distinct tokens through a 10,000-entry cache).');
  }
  const skipped = (extra['skipped'] as string[] | undefined) ?? [];
  if (skipped.length > 0) lines.push('', '## Skipped', '', ...skipped.map((s) => `- ${s}`));
  lines.push('', '![ratios](latest.png)', '');

  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'latest.md'), lines.join('\n'));
  await writeFile(join(resultsDir, 'latest.json'), JSON.stringify({ date, machine, runs, durationSeconds, connections, results, ...extra }, null, 2));
  const bars: Bar[] = targets.map((t) => ({ label: t.invalid ? `${t.label} (invalid)` : t.label, ratio: t.value, ...(t.target > 0 ? { target: t.target } : {}) }));
  await writeChart(join(resultsDir, 'latest.svg'), join(resultsDir, 'latest.png'), ratioChartSvg('Portcullis ÷ reference, same run', `${date.slice(0, 10)} · ${machine}`, bars));
  console.log(lines.join('\n'));
}

/**
 * BENCH_REPORT_FROM=<latest.json>: writes the report again from a run's saved figures, without
 * measuring (when only the report changed: a target, a section). Same BENCH_RUNS/BENCH_DURATION as the run.
 */
async function reportAgain(file: string): Promise<void> {
  const saved = JSON.parse(await readFile(file, 'utf8')) as { date: string; machine: string; results: RowResult[] } & Record<string, unknown>;
  const { date, machine, results, runs: _runs, durationSeconds: _duration, connections: _connections, ...extra } = saved;
  await report(results, extra, { date, machine });
}

const reportFrom = process.env['BENCH_REPORT_FROM'];
(reportFrom === undefined ? main() : reportAgain(reportFrom)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
