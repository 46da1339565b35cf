/**
 * The load generator: wrk (C, one thread, N keep-alive connections), pinned to its own CPU, with an
 * LD_PRELOAD shim (peers/wrk-client-cert.c) for client certificates and full handshakes. Reports throughput, latency
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
  /** wrk threads (default 1: one load core). */
  readonly threads?: number;
  readonly headers?: readonly string[];
  /** A wrk Lua script file. */
  readonly script?: string;
  readonly clientCert?: { readonly cert: string; readonly key: string };
  /**
   * false: every new connection is a full TLS handshake (the shim drops the session wrk would
   * offer back). Default: wrk's own behaviour, which offers the last session of the connection slot.
   */
  readonly tlsResume?: boolean;
  /** Process groups whose CPU use is reported, by label. */
  readonly measure?: Readonly<Record<string, number>>;
}

export interface Sample {
  rps: number;
  /** Requests completed (wrk's "N requests in"). */
  requests: number;
  p50: number;
  p99: number;
  p999: number;
  errors: number;
  non2xx: number;
  /** CPU use of each measured group, in % of one core. */
  cpu: Record<string, number>;
  /** `bench-counter NAME VALUE` lines a script's `bench_report()` printed (summed over wrk threads). */
  counters?: Record<string, number>;
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

/**
 * Lua script that sends each value of `files` (one per line, read in order) once, in header
 * `headerName`, with `headers` on every request, and never wraps: each request after the last
 * value goes without the header (so the server refuses it and wrk counts a non-2xx) and is counted
 * as `values_exhausted`. Values are read in `init` (the thread's Lua state, before wrk's clock
 * starts), not at load, so the main state does not hold a second copy. wrk calls `request()` once
 * before the run to check the script, which uses one value that is never sent.
 */
export async function writeProofSequenceScript(file: string, files: readonly string[], headers: Readonly<Record<string, string>>, headerName: string): Promise<void> {
  const lua = (v: string): string => JSON.stringify(v);
  const fixed = Object.entries(headers).map(([k, v]) => `[${lua(k)}] = ${lua(v)}`).join(', ');
  await writeFile(
    file,
    `local files = { ${files.map(lua).join(', ')} }
local values = {}
local headers = { ${fixed} }
local n = 0
values_loaded = 0
values_requested = 0
values_exhausted = 0
function init(args)
  for _, f in ipairs(files) do
    for line in io.lines(f) do
      if line ~= "" then n = n + 1; values[n] = line end
    end
  end
  values_loaded = n
end
request = function()
  values_requested = values_requested + 1
  local v = values[values_requested]
  if v == nil then values_exhausted = values_exhausted + 1 end
  headers[${lua(headerName)}] = v
  return wrk.format(nil, nil, headers)
end
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end
function bench_report()
  for _, name in ipairs({ "values_loaded", "values_requested", "values_exhausted" }) do
    local total = 0
    for _, t in ipairs(threads) do total = total + t:get(name) end
    io.write(string.format("bench-counter %s %d\\n", name, total))
  end
end
`,
  );
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
  const requests = Number(/(\d+) requests in /.exec(out)?.[1] ?? 0);
  const counters: Record<string, number> = {};
  for (const m of out.matchAll(/^bench-counter (\w+) (\d+)$/gm)) counters[m[1]!] = (counters[m[1]!] ?? 0) + Number(m[2]);
  return { rps, requests, p50: latency('50.000'), p99: latency('99.000'), p999: latency('99.900'), errors, non2xx, ...(Object.keys(counters).length > 0 ? { counters } : {}) };
}

const percentileScript = `done = function(summary, latency, requests)
  for _, p in pairs({ 50, 99, 99.9 }) do
    io.write(string.format("%.3f%%  %dus\\n", p, latency:percentile(p)))
  end
  if bench_report ~= nil then bench_report() end
end
`;

/**
 * The environment that makes a load generator linked to OpenSSL present `options.clientCert` and,
 * with `tlsResume: false`, never resume a TLS session (the shim), if either is asked.
 */
export function shimEnv(options: Pick<LoadOptions, 'clientCert' | 'tlsResume'>): Record<string, string> {
  const noResume = options.tlsResume === false;
  if (options.clientCert === undefined && !noResume) return {};
  if (shimPath === null) throw new Error('client certificates and full handshakes need the wrk shim (buildShim/useShim)');
  return {
    LD_PRELOAD: shimPath,
    ...(options.clientCert === undefined ? {} : { WRK_CLIENT_CERT: options.clientCert.cert, WRK_CLIENT_KEY: options.clientCert.key }),
    ...(noResume ? { WRK_TLS_RESUME: '0' } : {}),
  };
}

/**
 * Runs a load generator under `taskset` (args start with `-c CPUS tool`), with the client
 * certificate shim when asked; returns its output and the CPU use of the measured groups.
 */
export async function runLoadTool(name: string, args: readonly string[], options: Pick<LoadOptions, 'clientCert' | 'tlsResume' | 'measure'>): Promise<{ out: string; cpu: Record<string, number> }> {
  const env = { ...process.env, ...shimEnv(options) };
  const before = Object.fromEntries(Object.entries(options.measure ?? {}).map(([k, pgid]) => [k, groupCpuSeconds(pgid)]));
  const started = process.hrtime.bigint();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('taskset', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr.on('data', (c: Buffer) => (text += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${name} exited with ${code}:\n${text}`))));
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = Object.fromEntries(Object.entries(options.measure ?? {}).map(([k, pgid]) => [k, (100 * (groupCpuSeconds(pgid) - before[k]!)) / wall]));
  return { out, cpu };
}

/** Runs wrk once and returns the sample. */
export async function runWrk(options: LoadOptions, scratchDir: string): Promise<Sample> {
  // Percentiles come from a done() hook so that p99.9 is printed whatever script drives the requests.
  const doneScript = join(scratchDir, `done-${process.pid}.lua`);
  let script = percentileScript;
  if (options.script !== undefined) {
    script = `${await readFile(options.script, 'utf8')}\n${percentileScript}`;
  }
  await writeFile(doneScript, script);
  const args = ['-c', options.cpus, 'wrk', `-t${options.threads ?? 1}`, `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s', '-s', doneScript];
  for (const h of options.headers ?? []) args.push('-H', h);
  args.push(options.url);
  const { out, cpu } = await runLoadTool('wrk', args, options);
  return { ...parseWrk(out), cpu };
}
