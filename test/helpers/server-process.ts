/**
 * What the helpers that run a real server for a test (redis-server, postgres) share: installing
 * Debian's package when it is missing, and children that die with the test file whatever happens.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';

// A test that fails half-way must neither hang its file nor leave a server behind. Only under the
// test runner (which sets NODE_TEST_CONTEXT in each file's process): a benchmark that starts these
// servers stops them itself, and node:test loaded there would print an empty test summary at exit.
const live = new Set<ChildProcess>();
if (process.env['NODE_TEST_CONTEXT'] !== undefined) {
  const { after } = await import('node:test');
  after(() => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** Kills `child` with the test file unless `killServer` did first. */
export function trackServer(child: ChildProcess): void {
  live.add(child);
}

/** SIGKILL (as a crash: no goodbye to clients), resolved once the process is gone. */
export async function killServer(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
  live.delete(child);
}

/**
 * Installs Debian's `packageName` unless `present` (a shell test) holds, under a lock: test files
 * run in parallel, and two apt-get at once fail on apt's own lock. CI's .ci/run installs them first.
 */
export function aptInstall(packageName: string, present: string, what: string): void {
  if (process.getuid?.() !== 0) throw new Error(`${what} need Debian's ${packageName} (apt-get install ${packageName})`);
  const install = `${present} || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packageName})`;
  execFileSync('flock', ['/tmp/portcullis-apt.lock', 'sh', '-c', install], { stdio: ['ignore', 'ignore', 'inherit'] });
}
