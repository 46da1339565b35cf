/**
 * A real Redis server for a test (Debian's redis-server, installed by .ci/run): on a free loopback
 * port, in memory only, stopped (and startable again on the same port) by the test. With
 * `after` it dies with the test file whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { aptInstall, killServer, trackServer } from './server-process.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL: as a crash would, no goodbye to clients). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * Debian's redis-server, installed here when missing (CI's .ci/run installs it first), under a lock:
 * test files run in parallel, and two apt-get at once fail on apt's own lock.
 */
function ensureRedisServer(): void {
  if (existsSync(REDIS_SERVER)) return;
  aptInstall('redis-server', `test -x ${REDIS_SERVER}`, 'the Redis tests');
}

/** For a server that is more than one plain Redis: a replica, a Redis Cluster node, a Sentinel. */
export interface RedisServerOptions {
  /** More arguments (`--replicaof …`, `--cluster-enabled yes`, `--sentinel`). */
  readonly args?: readonly string[];
  /** A configuration file's text, given first (a Sentinel needs a file it can rewrite). */
  readonly config?: (port: number) => string;
  /** The log line that says it serves (default Redis's "Ready to accept connections"). */
  readonly ready?: string;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  ensureRedisServer();
  const port = await freePort();
  // Its own directory: a Redis Cluster node's nodes.conf, a Sentinel's rewritten configuration.
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-redis-'));
  const configFile = join(dir, 'redis.conf');
  if (options.config !== undefined) await writeFile(configFile, options.config(port));
  const ready = options.ready ?? 'Ready to accept connections';
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const args = [...(options.config === undefined ? [] : [configFile]), '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...(options.args ?? [])];
    const started = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackServer(started);
    child = started;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      started.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(ready)) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`redis-server could not run (is Debian's redis-server installed?): ${error.message}`));
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const running = child;
      if (running === null) return;
      child = null;
      await killServer(running);
    },
    start,
  };
}
