/**
 * `npm run bench`: proxy throughput against the echo upstream directly, in one invocation, so the
 * figures are ratios on the same noisy machine. The gateway runs pinned to CPU 0; wrk and the
 * upstream share CPU 1 (taskset), the same for every program measured.
 *
 * Scenarios (this release): upstream direct; gateway HTTP with 1 route; gateway HTTP with 10,000
 * prefix routes, requests spread over them; gateway HTTPS with 1 route.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const durationSeconds = Number(process.env['BENCH_DURATION'] ?? 8);
const runs = Number(process.env['BENCH_RUNS'] ?? 3);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 64);

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function have(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureTools(): void {
  const missing = ['wrk', 'taskset'].filter((c) => !have(c));
  if (missing.length === 0) return;
  console.error(`bench: installing ${missing.join(', ')} with apt-get`);
  const packages = missing.map((m) => (m === 'taskset' ? 'util-linux' : m));
  execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages.join(' ')}`], { stdio: 'inherit' });
}

function pinned(cpu: number, command: string, args: string[]): ChildProcess {
  return spawn('taskset', ['-c', String(cpu), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output:\n${text}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`process exited with ${code}:\n${text}`)));
  });
}

async function startGateway(config: string, dir: string, name: string): Promise<{ child: ChildProcess; http: number; https: number }> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, config);
  const child = pinned(0, process.execPath, [
    cli, 'start', '-c', file, '--prefix', dir, '--proxy-listen', '127.0.0.1:0, 127.0.0.1:0 ssl', '--admin-listen', 'off', '--access-log', 'off', '--log-level', 'warn',
  ]);
  const ports = await waitForLine(child, /proxy listening on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*proxy listening on https:\/\/127\.0\.0\.1:(\d+)/);
  return { child, http: Number(ports[1]), https: Number(ports[2]) };
}

const spreadScript = `request = function() return wrk.format(nil, "/r" .. math.random(0, 9999) .. "/anything") end\n`;

function wrk(url: string, seconds: number, script: string | null): Sample {
  const args = ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(script === null ? [] : ['-s', script]), url];
  const out = execFileSync('taskset', args, { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const latency = (label: string): number => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (m === null) return NaN;
    const value = Number(m[1]);
    return m[2] === 'us' ? value / 1000 : m[2] === 's' ? value * 1000 : value;
  };
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors:.*?(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50: latency(' 50'), p99: latency(' 99'), errors };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  ensureTools();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
  const scriptPath = join(dir, 'spread.lua');
  await writeFile(scriptPath, spreadScript);

  const echo = pinned(1, process.execPath, [cli, 'echo', '--listen', '127.0.0.1:0']);
  const echoPort = Number((await waitForLine(echo, /listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
  const upstream = `http://127.0.0.1:${echoPort}`;

  const oneRoute = `_format_version: "3.0"\nservices:\n  - name: echo\n    url: ${upstream}\n    routes:\n      - name: anything\n        paths: ["/anything"]\n        strip_path: false\n`;
  const manyRoutes = [`_format_version: "3.0"`, 'services:', '  - name: echo', `    url: ${upstream}`, '    routes:'];
  for (let i = 0; i < 10_000; i++) manyRoutes.push(`      - name: r${i}`, `        paths: ["/r${i}"]`);
  const small = await startGateway(oneRoute, dir, 'one');
  const large = await startGateway(manyRoutes.join('\n') + '\n', dir, 'many');

  const scenarios: Array<{ name: string; url: string; script: string | null }> = [
    { name: 'upstream direct (reference)', url: `${upstream}/anything`, script: null },
    { name: 'gateway HTTP, 1 route', url: `http://127.0.0.1:${small.http}/anything`, script: null },
    { name: 'gateway HTTP, 10,000 routes spread', url: `http://127.0.0.1:${large.http}`, script: scriptPath },
    { name: 'gateway HTTPS, 1 route', url: `https://127.0.0.1:${small.https}/anything`, script: null },
  ];
  const results: Array<{ name: string; samples: Sample[]; rps: number; p50: number; p99: number; errors: number }> = [];
  try {
    for (const s of scenarios) {
      wrk(s.url, 2, s.script); // warm-up
      const samples = Array.from({ length: runs }, () => wrk(s.url, durationSeconds, s.script));
      const row = { name: s.name, samples, rps: median(samples.map((x) => x.rps)), p50: median(samples.map((x) => x.p50)), p99: median(samples.map((x) => x.p99)), errors: samples.reduce((n, x) => n + x.errors, 0) };
      results.push(row);
      console.error(`bench: ${s.name}: ${row.rps.toFixed(0)} req/s (runs ${samples.map((x) => x.rps.toFixed(0)).join(', ')})`);
    }
  } finally {
    for (const p of [echo, small.child, large.child]) p.kill('SIGTERM');
  }

  const reference = results[0]!.rps;
  const oneRouteRps = results[1]!.rps;
  const lines = [
    `# Portcullis benchmark`,
    '',
    `${new Date().toISOString()} on ${hostname()} (${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}), Node ${process.version}.`,
    `wrk -t1 -c${connections}, ${runs} runs × ${durationSeconds} s after a 2 s warm-up, medians. Gateway pinned to CPU 0; wrk and the echo upstream on CPU 1.`,
    '',
    '| scenario | req/s (median) | runs | p50 ms | p99 ms | errors | ÷ upstream direct | ÷ gateway 1 route |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.name} | ${r.rps.toFixed(0)} | ${r.samples.map((x) => x.rps.toFixed(0)).join(' / ')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${(r.rps / reference).toFixed(2)} | ${(r.rps / oneRouteRps).toFixed(2)} |`),
    '',
  ];
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'latest.md'), lines.join('\n'));
  await writeFile(join(resultsDir, 'latest.json'), JSON.stringify({ date: new Date().toISOString(), host: hostname(), node: process.version, results }, null, 2));
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
