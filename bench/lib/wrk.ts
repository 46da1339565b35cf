/**
 * The load generator: wrk (C, one thread, N keep-alive connections), pinned to its own CPU, with an
 * LD_PRELOAD shim (peers/wrk-client-cert.c) for client certificates. Reports throughput, latency
 * percentiles, errors and non-2xx answers, and the CPU each measured program used meanwhile.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupCpuSeconds } from './processes.js';

const shimSource = fileURLToPath(new URL('../../../bench/peers/wrk-client-cert.c', import.meta.url));

export interface LoadOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  /** CPU list for wrk (taskset). */
  readonly cpus: string;
  readonly headers?: readonly string[];
  /** A wrk Lua script file. */
  readonly script?: string;
  readonly clientCert?: { readonly cert: string; readonly key: string };
  /** Process groups whose CPU use is reported, by label. */
  readonly measure?: Readonly<Record<string, number>>;
}

export interface Sample {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  non2xx: number;
  /** CPU use of each measured group, in % of one core. */
  cpu: Record<string, number>;
}

/** Builds the client-certificate shim once into `dir`; returns its path. */
export function buildShim(dir: string): string {
  const out = join(dir, 'wrk-client-cert.so');
  if (!existsSync(out)) execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, shimSource, '-ldl', '-lssl'], { stdio: 'inherit' });
  return out;
}

let shimPath: string | null = null;
export function useShim(path: string): void {
  shimPath = path;
}

/** Lua script that sends `requests` paths/headers round-robin, one table entry per request. */
export async function writeRoundRobinScript(file: string, lines: readonly string[], headerName: string | null): Promise<void> {
  const entries = lines.map((l) => `  ${JSON.stringify(l)},`).join('\n');
  const body = headerName === null
    ? `local paths = {\n${entries}\n}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n`
    : `local values = {\n${entries}\n}\nlocal i = 0\nrequest = function()\n  i = i % #values + 1\n  return wrk.format(nil, nil, { [${JSON.stringify(headerName)}] = values[i] })\nend\n`;
  await writeFile(file, body);
}

/** A Lua script that waits `delayMs` after each response on a connection (constant-rate load). */
export async function writeDelayScript(file: string, delayMs: number): Promise<void> {
  await writeFile(file, `delay = function()\n  return ${Math.max(0, Math.round(delayMs))}\nend\n`);
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export function parseWrk(out: string): Omit<Sample, 'cpu'> {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const latency = (label: string): number => {
    const m = new RegExp(`^\\s*${label.replace('.', '\\.')}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m === null ? NaN : toMs(m[1]!, m[2]!);
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = socket === null ? 0 : socket.slice(1).reduce((n, v) => n + Number(v), 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50: latency('50.000'), p99: latency('99.000'), p999: latency('99.900'), errors, non2xx };
}

const percentileScript = `done = function(summary, latency, requests)
  for _, p in pairs({ 50, 99, 99.9 }) do
    io.write(string.format("%.3f%%  %dus\\n", p, latency:percentile(p)))
  end
end
`;

/** Runs wrk once and returns the sample. */
export async function runWrk(options: LoadOptions, scratchDir: string): Promise<Sample> {
  // Percentiles come from a done() hook so that p99.9 is printed whatever script drives the requests.
  const doneScript = join(scratchDir, `done-${process.pid}.lua`);
  let script = percentileScript;
  if (options.script !== undefined) {
    script = `${await readFile(options.script, 'utf8')}\n${percentileScript}`;
  }
  await writeFile(doneScript, script);
  const args = ['-c', options.cpus, 'wrk', '-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s', '-s', doneScript];
  for (const h of options.headers ?? []) args.push('-H', h);
  args.push(options.url);
  const env = { ...process.env };
  if (options.clientCert !== undefined) {
    if (shimPath === null) throw new Error('client certificates need the wrk shim (buildShim/useShim)');
    Object.assign(env, { LD_PRELOAD: shimPath, WRK_CLIENT_CERT: options.clientCert.cert, WRK_CLIENT_KEY: options.clientCert.key });
  }
  const before = Object.fromEntries(Object.entries(options.measure ?? {}).map(([k, pgid]) => [k, groupCpuSeconds(pgid)]));
  const started = process.hrtime.bigint();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('taskset', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}:\n${text}`))));
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = Object.fromEntries(Object.entries(options.measure ?? {}).map(([k, pgid]) => [k, (100 * (groupCpuSeconds(pgid) - before[k]!)) / wall]));
  return { ...parseWrk(out), cpu };
}
