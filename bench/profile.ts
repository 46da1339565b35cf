/**
 * `npm run bench:profile`: a CPU profile of Portcullis serving scenario 3 (the tutorial pipeline,
 * one warm token), pinned like `npm run bench`, drawn as a flame graph (bench/profile/scenario3.png
 * and .svg) with the top functions by self time (bench/profile/scenario3.md).
 * Environment: BENCH_DURATION (s, default 10).
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareBenchPki } from './lib/bench-pki.js';
import { writeChart } from './lib/chart.js';
import { flameGraphSvg, inclusiveShare, topSelf, type CpuProfile } from './lib/flame-graph.js';
import { scenarioConfig } from './lib/gateway-config.js';
import { startBenchIssuer } from './lib/issuer.js';
import { startPortcullis } from './lib/portcullis.js';
import { freePorts } from './lib/ports.js';
import { ensureCommands } from './lib/processes.js';
import { buildShim, runWrk, useShim } from './lib/wrk.js';
import { startNginxUpstream } from './peers/nginx.js';

const outDir = fileURLToPath(new URL('../../bench/profile/', import.meta.url));
const seconds = Number(process.env['BENCH_DURATION'] ?? 10);
/** Route to load: /jwt (scenario 3, default) or /mtls (scenario 2). */
const route = process.env['BENCH_PROFILE_ROUTE'] ?? '/jwt';

async function main(): Promise<void> {
  execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const missing = ensureCommands({ wrk: 'wrk', taskset: 'util-linux', cc: 'gcc', nginx: 'nginx-light', 'rsvg-convert': 'librsvg2-bin' });
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-profile-'));
  useShim(buildShim(dir));
  const { clientCert, thumbprint } = await prepareBenchPki(join(dir, 'pki'));
  const issuer = await startBenchIssuer();
  const [upstreamPort] = (await freePorts(1)) as [number];
  const upstream = await startNginxUpstream(join(dir, 'upstream'), '1', upstreamPort);
  const profileDir = join(dir, 'cpuprofile');
  const gateway = await startPortcullis('profiled', dir, '0', scenarioConfig(`http://127.0.0.1:${upstreamPort}`, issuer.url), { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] });
  const token = await issuer.sign('RS256', thumbprint);
  const load = { url: `https://127.0.0.1:${gateway.https}${route}`, connections: 64, cpus: '1', headers: [`Authorization: Bearer ${token}`], clientCert };
  await runWrk({ ...load, seconds: 2 }, dir);
  const sample = await runWrk({ ...load, seconds }, dir);
  await gateway.program.stop();
  await upstream.stop();
  await issuer.close();
  const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('no .cpuprofile written');
  const profile = JSON.parse(await readFile(join(profileDir, file), 'utf8')) as CpuProfile;
  await mkdir(outDir, { recursive: true });
  const title = `Portcullis, scenario 3 (mTLS + openid-connect strict, warm token), ${sample.rps.toFixed(0)} req/s under --cpu-prof, ${new Date().toISOString().slice(0, 10)}`;
  await writeChart(join(outDir, 'scenario3.svg'), join(outDir, 'scenario3.png'), flameGraphSvg(profile, title));
  const shares: Array<[string, RegExp]> = [
    ['TLS: socket reads/writes, encryption (node:_tls_wrap, node:net, stream internals)', /^(onStreamRead|writeGeneric|writevGeneric|_writeGeneric|Socket\._writeGeneric|onStreamRead node:|TLSSocket\.) |node:_tls_wrap|node:internal\/stream_base_commons/],
    ['HTTP parsing and response writing (node:_http_*)', /node:_http_(server|common|outgoing|incoming)/],
    ['upstream client (undici)', /^[^ ]* undici\//],
    ['openid-connect plugin (src/plugins/openid-connect)', /plugins\/openid-connect\//],
    ['garbage collector', /^\(garbage collector\)/],
    ['idle', /^\(idle\)/],
  ];
  const lines = [
    '# CPU profile: scenario 3',
    '',
    title + '.',
    '',
    `![flame graph](scenario3.png)`,
    '',
    '| where (inclusive) | share of samples |',
    '|---|---|',
    ...shares.map(([label, re]) => `| ${label} | ${(100 * inclusiveShare(profile, re)).toFixed(1)}% |`),
    '',
    '| top functions by self time | share |',
    '|---|---|',
    ...topSelf(profile, 25).map(([name, share]) => `| \`${name.replace(/\|/g, '\\|')}\` | ${(100 * share).toFixed(1)}% |`),
    '',
  ];
  await writeFile(join(outDir, 'scenario3.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
