/**
 * `npm run bench`: Portcullis against the programs a user would otherwise pick for the same job,
 * in one invocation on one machine, so every figure has a reference from the same run.
 *
 * CPU split (2 cores): every program measured runs alone on CPU 0 (taskset), one at a time; wrk,
 * the upstream (nginx returning a fixed 200), the benchmark's issuer and this script share CPU 1.
 * Each row: a 2 s warm-up, then BENCH_RUNS runs of BENCH_DURATION seconds; medians reported with
 * the spread (half the range, % of the median).
 *
 * Environment: BENCH_DURATION (s, default 8), BENCH_RUNS (default 3), BENCH_CONNECTIONS (default 64),
 * BENCH_ONLY (comma-separated scenario ids, e.g. "s3,s4"), BENCH_IDLE_CONNECTIONS (default 10000).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareBenchPki } from './lib/bench-pki.js';
import { ratioChartSvg, writeChart, type Bar } from './lib/chart.js';
import { manyRoutesConfig, scenarioConfig } from './lib/gateway-config.js';
import { AUDIENCE, startBenchIssuer, type BenchIssuer } from './lib/issuer.js';
import { startPortcullis, type PortcullisProcess } from './lib/portcullis.js';
import { freePorts } from './lib/ports.js';
import { ensureCommands, groupMemoryMiB, have, startPinned, waitForOutput, type Program } from './lib/processes.js';
import { cpuPercent, cpuTimes, median, spreadPercent } from './lib/stats.js';
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
/** Distinct tokens per algorithm: more than the gateway's 10,000-entry token cache, so cycling through them always misses. */
const DISTINCT_TOKENS = 12_000;
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
  note?: string;
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
}

function log(message: string): void {
  console.error(`bench: ${message}`);
}

async function main(): Promise<void> {
  // This script, wrk, the issuer and the upstream all live on the load CPU.
  execFileSync('taskset', ['-p', '-c', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });
  const missing = ensureCommands({ wrk: 'wrk', taskset: 'util-linux', cc: 'gcc', nginx: 'nginx-light', haproxy: 'haproxy', 'rsvg-convert': 'librsvg2-bin' });
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
    let upstreamUrl: string;
    if (have('nginx')) {
      programs.push(await startNginxUpstream(join(dir, 'upstream'), LOAD_CPU, upstreamPort));
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
    const portcullis: PortcullisProcess = await startPortcullis('main', dir, SERVER_CPU, scenarioConfig(upstreamUrl, issuer.url));
    programs.push(portcullis.program);
    const portcullisMany = await startPortcullis('routes-10k', dir, SERVER_CPU, manyRoutesConfig(upstreamUrl, 10_000));
    programs.push(portcullisMany.program);
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
        id: 's5', title: '5. a new TLS connection per request, client certificate (full handshake, RSA-2048 server key)', skipped: [],
        rows: [
          ...(nginx ? [{ program: 'nginx' as const, url: `https://127.0.0.1:${nginxHttps}/mtls`, group: pgid(nginx), clientCert: true, headers: close }] : []),
          ...(haproxy ? [{ program: 'HAProxy' as const, url: `https://127.0.0.1:${hapMtls}/mtls`, group: pgid(haproxy), clientCert: true, headers: close }] : []),
          { program: 'node stack', url: `https://127.0.0.1:${nodeHttps}/mtls`, group: pgid(nodeStack), clientCert: true, headers: close },
          { program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/mtls`, group: pc, clientCert: true, headers: close },
        ],
      },
      {
        id: 's6', title: '6. 10,000 routes, requests spread over them (HTTP; compare with scenario 1)', skipped: [],
        rows: [{ program: 'Portcullis', url: `http://127.0.0.1:${portcullisMany.http}`, group: pgid(portcullisMany.program), script: spreadScript, note: '10,000 prefix routes' }],
      },
      {
        id: 's7', title: '7. introspection (opaque token), cached result, + cnf binding', skipped: ['nginx, HAProxy, node stack: no introspection without extra code'],
        rows: [{ program: 'Portcullis', url: `https://127.0.0.1:${portcullis.https}/introspection`, group: pc, clientCert: true, headers: bearer(opaque), note: 'cache_introspection' }],
      },
    ];

    for (const scenario of scenarios) {
      if (only !== null && !only.includes(scenario.id)) continue;
      for (const row of scenario.rows) {
        const options = {
          url: row.url,
          connections: row.headers === close ? Math.min(connections, 16) : connections,
          cpus: LOAD_CPU,
          headers: row.headers ?? [],
          ...(row.script === undefined ? {} : { script: row.script }),
          ...(row.clientCert === true ? { clientCert } : {}),
          measure: row.group === null ? ({} as Record<string, number>) : { program: row.group },
        };
        await runWrk({ ...options, seconds: 2 }, dir);
        const samples: Sample[] = [];
        const cores: number[][] = [];
        for (let i = 0; i < runs; i++) {
          const before = cpuTimes();
          samples.push(await runWrk({ ...options, seconds: durationSeconds }, dir));
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
          peakRssMiB: row.group === null ? null : groupMemoryMiB(row.group).peak,
        };
        results.push(result);
        log(`${scenario.id} ${row.program}${row.note ? ` (${row.note})` : ''}: ${result.rps.toFixed(0)} req/s ±${result.spread.toFixed(0)}% (runs ${rpsValues.map((v) => v.toFixed(0)).join(', ')}), p99 ${result.p99.toFixed(2)} ms, errors ${result.errors}, non-2xx ${result.non2xx}`);
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

function ratio(value: number, reference: RowResult | undefined): string {
  return reference === undefined || !(reference.rps > 0) ? '—' : (value / reference.rps).toFixed(2);
}

async function report(results: RowResult[], extra: Record<string, unknown>): Promise<void> {
  const date = new Date().toISOString();
  const machine = `${hostname()} (${cpus().length}× ${cpus()[0]?.model.trim() ?? 'cpu'}), Linux, Node ${process.version}`;
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
    lines.push(`| ${r.scenario} | ${r.program}${r.note ? ` (${r.note})` : ''} | ${r.rps.toFixed(0)} | ${r.spread.toFixed(0)}% | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.p999.toFixed(2)} | ${r.errors} | ${r.non2xx} | ${r.programCpu.toFixed(0)} | ${r.cores.map((c) => c.toFixed(0)).join(' / ')} | ${r.peakRssMiB?.toFixed(0) ?? '—'} | ${ratio(r.rps, refFor(r, 'nginx'))} | ${ratio(r.rps, refFor(r, 'HAProxy'))} | ${ratio(r.rps, refFor(r, 'node stack'))} |`);
  }
  lines.push('', 'Scenarios:', ...[...new Set(results.map((r) => `- ${r.scenario}: ${r.title}`))]);

  const pick = (scenario: string, program: ProgramName, note?: string): RowResult | undefined => results.find((r) => r.scenario === scenario && r.program === program && (note === undefined || r.note === note));
  const targets: Array<{ label: string; value: number; target: number }> = [];
  const addTarget = (label: string, a: RowResult | undefined, b: RowResult | undefined, target: number): void => {
    if (a !== undefined && b !== undefined && b.rps > 0) targets.push({ label, value: a.rps / b.rps, target });
  };
  addTarget('s3 tutorial pipeline ÷ HAProxy', pick('s3', 'Portcullis'), pick('s3', 'HAProxy'), 1.0);
  addTarget('s3 tutorial pipeline ÷ node stack', pick('s3', 'Portcullis'), pick('s3', 'node stack'), 2.0);
  addTarget('s4 distinct RS256 ÷ HAProxy', pick('s4', 'Portcullis', 'RS256'), pick('s4', 'HAProxy', 'RS256'), 0.8);
  addTarget('s4 distinct ES256 ÷ HAProxy', pick('s4', 'Portcullis', 'ES256'), pick('s4', 'HAProxy', 'ES256'), 0.8);
  addTarget('s2 mTLS proxy ÷ nginx', pick('s2', 'Portcullis'), pick('s2', 'nginx'), 0.5);
  addTarget('s6 10,000 routes ÷ s1 one route', pick('s6', 'Portcullis'), pick('s1', 'Portcullis'), 0.9);
  addTarget('s1 HTTP proxy ÷ nginx', pick('s1', 'Portcullis'), pick('s1', 'nginx'), 0);
  addTarget('s5 new connection per request ÷ nginx', pick('s5', 'Portcullis'), pick('s5', 'nginx'), 0);
  lines.push('', '## Targets', '', '| comparison | ratio | target | met |', '|---|---|---|---|');
  for (const t of targets) lines.push(`| ${t.label} | ${t.value.toFixed(2)} | ${t.target > 0 ? `≥ ${t.target.toFixed(1)}` : '—'} | ${t.target > 0 ? (t.value >= t.target ? 'yes' : '**no**') : ''} |`);
  const latency = extra['latency'] as Record<string, number> | undefined;
  if (latency !== undefined) {
    lines.push('', '## Latency at half of peak load (scenario 3)', '', `wrk -c${latency['connections']} with a ${latency['delay_ms']} ms delay per connection after each response, aiming at ${latency['target_rps']!.toFixed(0)} req/s.`, '',
      '| | req/s | p50 ms | p99 ms |', '|---|---|---|---|',
      `| upstream direct | ${latency['direct_rps']!.toFixed(0)} | ${latency['direct_p50']!.toFixed(2)} | ${latency['direct_p99']!.toFixed(2)} |`,
      `| Portcullis, tutorial pipeline | ${latency['gateway_rps']!.toFixed(0)} | ${latency['gateway_p50']!.toFixed(2)} | ${latency['gateway_p99']!.toFixed(2)} |`,
      `| **added by the gateway** | | ${latency['added_p50']!.toFixed(2)} | **${latency['added_p99']!.toFixed(2)}** (target < 1 ms) |`);
  }
  const memory = extra['memory'] as { idle: Array<Record<string, unknown>> } | undefined;
  if (memory !== undefined) {
    lines.push('', `## Memory: ${idleConnections.toLocaleString('en')} idle keep-alive mTLS connections`, '', '| program | RSS before MiB | RSS holding them MiB | peak MiB | client |', '|---|---|---|---|---|');
    for (const m of memory.idle) lines.push(`| ${String(m['program'])} | ${Number(m['rss_before_mib']).toFixed(0)} | ${Number(m['rss_held_mib']).toFixed(0)} | ${Number(m['peak_mib']).toFixed(0)} | ${String(m['client'])} |`);
    lines.push('', 'Target: under 200 MiB for the gateway. The token cache under a flood of distinct tokens: see the peak RSS of the s4 rows (24,000 distinct tokens through a 10,000-entry cache).');
  }
  const skipped = (extra['skipped'] as string[] | undefined) ?? [];
  if (skipped.length > 0) lines.push('', '## Skipped', '', ...skipped.map((s) => `- ${s}`));
  lines.push('', '![ratios](latest.png)', '');

  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'latest.md'), lines.join('\n'));
  await writeFile(join(resultsDir, 'latest.json'), JSON.stringify({ date, machine, runs, durationSeconds, connections, results, ...extra }, null, 2));
  const bars: Bar[] = targets.map((t) => ({ label: t.label, ratio: t.value, ...(t.target > 0 ? { target: t.target } : {}) }));
  await writeChart(join(resultsDir, 'latest.svg'), join(resultsDir, 'latest.png'), ratioChartSvg('Portcullis ÷ reference, same run', `${date.slice(0, 10)} · ${machine}`, bars));
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
