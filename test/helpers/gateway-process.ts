import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { makeTestPki, type TestPki } from './pki.js';

// A test that fails half-way must neither hang its file (a live child keeps the event loop running)
// nor leave a gateway behind: once every test of the file is done, whatever is still running dies.
const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) child.kill('SIGKILL');
});

/** Path of the compiled CLI, as production runs it. */
export const cliPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ListenerInfo {
  kind: 'proxy' | 'admin' | 'status';
  ssl: boolean;
  host: string;
  port: number;
}

/** A real gateway process started by a test, with its log lines collected. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly prefix: string;
  readonly listeners: ListenerInfo[];
  /** http://127.0.0.1:PORT of the first plain proxy listener. */
  readonly httpUrl: string;
  /** https://127.0.0.1:PORT of the first TLS proxy listener. */
  readonly httpsUrl: string;
  readonly adminUrl: string;
  /** http://127.0.0.1:PORT of the first plain status listener ('' without `--status-listen`). */
  readonly statusUrl: string;
  /** JSON log lines seen so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** The same lines as written (JSON.parse would hide a key written twice). */
  readonly rawLogs: string[];
  /** Raw stderr text. */
  stderr(): string;
  /** Waits for a log line matching `predicate`, up to `timeoutMs`. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** decK YAML written to a temporary file and passed with -c. */
  config?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  prefix?: string;
  /** How long the start may take before `portcullis ready` (default 30 s; a very large configuration takes longer). */
  readyTimeoutMs?: number;
}

/** Starts `portcullis start` on ephemeral loopback ports and waits until it reports ready. */
export async function startGatewayProcess(options: StartOptions = {}): Promise<GatewayProcess> {
  const prefix = options.prefix ?? (await mkdtemp(join(tmpdir(), 'portcullis-test-')));
  const args = [
    cliPath,
    'start',
    '--proxy-listen',
    '127.0.0.1:0, 127.0.0.1:0 ssl',
    '--admin-listen',
    '127.0.0.1:0',
    '--prefix',
    prefix,
    '--log-level',
    'info',
  ];
  // One process unless a test asks for workers: most tests are about behaviour, not process layout.
  if (!(options.args ?? []).includes('--workers')) args.push('--workers', '1');
  if (options.config !== undefined) {
    const file = join(prefix, 'kong.yaml');
    await writeFile(file, options.config);
    args.push('-c', file);
  }
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const logs: Array<Record<string, unknown>> = [];
  const rawLogs: string[] = [];
  const waiters: Array<{ predicate: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      logs.push(parsed);
      rawLogs.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const waiter = waiters[i]!;
        if (waiter.predicate(parsed)) {
          waiters.splice(i, 1);
          waiter.resolve(parsed);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> => {
    const found = logs.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
      waiters.push({ predicate, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited with ${code} before the expected log line; stderr:\n${stderr}`));
      });
    });
  };

  const ready = await waitForLog((l) => l['msg'] === 'portcullis ready', options.readyTimeoutMs ?? 30_000);
  const listeners = ready['listeners'] as ListenerInfo[];
  const url = (kind: string, ssl: boolean): string => {
    const l = listeners.find((x) => x.kind === kind && x.ssl === ssl);
    return l === undefined ? '' : `${ssl ? 'https' : 'http'}://127.0.0.1:${l.port}`;
  };
  return {
    child,
    prefix,
    listeners,
    httpUrl: url('proxy', false),
    httpsUrl: url('proxy', true),
    adminUrl: url('admin', false),
    statusUrl: url('status', false),
    logs,
    rawLogs,
    stderr: () => stderr,
    waitForLog,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Access-log records (the `access` member of `request` lines) seen so far. */
export function accessRecords(gateway: GatewayProcess): Array<Record<string, unknown>> {
  return gateway.logs.filter((l) => l['msg'] === 'request').map((l) => l['access'] as Record<string, unknown>);
}

/** The pieces of a suite started by `useEchoGateway`, readable once its `before` hook ran. */
export interface EchoGatewaySuite {
  readonly pki: TestPki;
  readonly echo: EchoServer;
  readonly gateway: GatewayProcess;
  /** Port of the gateway's TLS proxy listener. */
  readonly port: number;
}

/**
 * For one `describe`: before its tests, the test PKI, an echo upstream and a gateway process whose
 * decK configuration `config` makes from them; after them, both stopped.
 */
export function useEchoGateway(config: (setup: { echoUrl: string; pki: TestPki }) => string, options: Omit<StartOptions, 'config'> = {}): EchoGatewaySuite {
  let started: EchoGatewaySuite | undefined;
  before(async () => {
    const pki = await makeTestPki();
    const echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    let gateway: GatewayProcess;
    try {
      gateway = await startGatewayProcess({ ...options, config: config({ echoUrl: echo.url, pki }) });
    } catch (error) {
      // A gateway that refused its configuration must not leave the echo server keeping the file alive.
      await echo.close();
      throw error;
    }
    started = { pki, echo, gateway, port: Number(new URL(gateway.httpsUrl).port) };
  });
  after(async () => {
    await started?.gateway.stop();
    await started?.echo.close();
  });
  const get = <K extends keyof EchoGatewaySuite>(key: K): EchoGatewaySuite[K] => {
    if (started === undefined) throw new Error('the suite has not started: read it inside a test');
    return started[key];
  };
  return {
    get pki() {
      return get('pki');
    },
    get echo() {
      return get('echo');
    },
    get gateway() {
      return get('gateway');
    },
    get port() {
      return get('port');
    },
  };
}
