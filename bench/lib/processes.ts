/**
 * Child processes of the benchmark: started pinned to one CPU (taskset), in their own process
 * group so that a program with workers (nginx, HAProxy) is measured and stopped as a whole.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

export interface Program {
  readonly name: string;
  readonly child: ChildProcess;
  /** Output seen so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Whether a command is on the PATH. */
export function have(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian packages for the commands that are missing; returns the commands still missing. */
export function ensureCommands(packages: Readonly<Record<string, string>>): string[] {
  const missing = Object.keys(packages).filter((c) => !have(c));
  if (missing.length > 0) {
    const names = [...new Set(missing.map((c) => packages[c]!))];
    console.error(`bench: installing ${names.join(' ')} with apt-get`);
    try {
      execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${names.join(' ')}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    } catch (error) {
      console.error(`bench: apt-get failed: ${String(error)}`);
    }
  }
  return Object.keys(packages).filter((c) => !have(c));
}

/** Starts `command` on `cpus` (taskset list such as "0" or "0,1") as the leader of a new process group. */
export function startPinned(name: string, cpus: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Program {
  const child = spawn('taskset', ['-c', cpus, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text = (text + chunk.toString()).slice(-20_000)));
  child.stderr.on('data', (chunk: Buffer) => (text = (text + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    output: () => text,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until the program's output matches `pattern`. */
export async function waitForOutput(program: Program, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(program.output());
    if (match !== null) return match;
    if (program.child.exitCode !== null) throw new Error(`${program.name} exited with ${program.child.exitCode}:\n${program.output()}`);
    if (Date.now() > deadline) throw new Error(`${program.name}: timed out waiting for ${pattern}; output:\n${program.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until a TCP port accepts connections. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** PIDs in the process group led by `pgid`. */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by every process of the group. */
export function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const pid of groupPids(pgid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Resident memory of the group now, and the sum of each process's peak (VmHWM), in MiB. */
export function groupMemoryMiB(pgid: number): { rss: number; peak: number } {
  let rss = 0;
  let peak = 0;
  for (const pid of groupPids(pgid)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return { rss: rss / 1024, peak: peak / 1024 };
}

/**
 * CPU seconds (user + system) used so far by the threads of process `pid`: `main thread` (the
 * event loop, the one V8's profiler samples), and the others summed by name: `libuv-worker` (the
 * threadpool: WebCrypto jobs, file system, DNS), `V8Worker` (concurrent GC, compilation),
 * `DelayedTaskSche`, `SignalInspector`.
 */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const name = tid === String(pid) ? 'main thread' : `${comm} (other threads)`;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
