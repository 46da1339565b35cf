// The end-to-end tests type the tutorial's commands into bash, as a user would: `portcullis` on PATH
// (a shim for the compiled CLI), a HOME of their own so `~/oidc/certs` is a temp directory, and
// curl and openssl as the real clients. Long-running commands (`portcullis idp`) are started the
// same way and killed when the test file ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { cliPath } from '../helpers/gateway-process.js';

const live = new Set<ChildProcess>();
const homes: string[] = [];
after(async () => {
  for (const child of live) child.kill('SIGKILL');
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temp HOME with `portcullis` on PATH. */
export interface UserShell {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  /** Runs `script` with bash (`set -e`) in `cwd` (default HOME); `env` is added to the shell's. */
  run(script: string, options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<ShellResult>;
  /** Starts a long-running command and resolves once its stdout matches `ready` (or rejects when it exits or `timeoutMs` passes). */
  start(script: string, ready: RegExp, options?: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<StartedCommand>;
}

export interface StartedCommand {
  readonly child: ChildProcess;
  /** The match of `ready`. */
  readonly match: RegExpMatchArray;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function makeUserShell(): Promise<UserShell> {
  const home = await mkdtemp(join(tmpdir(), 'portcullis-e2e-'));
  homes.push(home);
  const bin = join(home, 'bin');
  await mkdir(bin);
  const shim = join(bin, 'portcullis');
  await writeFile(shim, `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`);
  await chmod(shim, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
  delete env['INIT_CWD'];

  const spawnBash = (script: string, options: { cwd?: string; env?: NodeJS.ProcessEnv }): ChildProcess => {
    const child = spawn('bash', ['-c', `set -e\n${script}`], { cwd: options.cwd ?? home, env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return child;
  };

  return {
    home,
    env,
    run(script, options = {}) {
      return new Promise((resolve, reject) => {
        const child = spawnBash(script, options);
        let stdout = '';
        let stderr = '';
        child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
        child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    start(script, ready, options = {}) {
      const child = spawnBash(`exec ${script}`, options);
      let stdout = '';
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return new Promise((resolve, reject) => {
        const timeoutMs = options.timeoutMs ?? 20_000;
        const timer = setTimeout(() => reject(new Error(`'${script}' not ready within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
        child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        child.stdout?.setEncoding('utf8').on('data', (c: string) => {
          stdout += c;
          const match = ready.exec(stdout);
          if (match === null) return;
          clearTimeout(timer);
          resolve({
            child,
            match,
            stdout: () => stdout,
            stderr: () => stderr,
            async stop(signal = 'SIGTERM') {
              if (child.exitCode !== null) return child.exitCode;
              child.kill(signal);
              return exited;
            },
          });
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`'${script}' exited with ${code} before it was ready\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        });
      });
    },
  };
}

/** A response as `curl -i` prints it: the last status line, lower-cased headers, the body. */
export interface CurlResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function parseCurlInclude(output: string): CurlResponse {
  // With -i, every response head is printed (e.g. a 100 Continue first); the last one counts.
  const heads = [...output.matchAll(/^HTTP\/[\d.]+ (\d{3})[^\r\n]*\r?\n([\s\S]*?)\r?\n\r?\n/gm)];
  const last = heads.at(-1);
  if (last === undefined) throw new Error(`not an HTTP response:\n${output}`);
  const headers: Record<string, string> = {};
  for (const line of (last[2] ?? '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(last[1]), headers, body: output.slice((last.index ?? 0) + last[0].length) };
}
