/**
 * A real PostgreSQL server for a test (Debian's postgresql, installed by .ci/run): a cluster of its
 * own made by initdb in a temporary directory, on a free loopback port, with a password user (SCRAM,
 * as a production server asks) and a database for the gateway; stopped (SIGKILL, as a crash) and
 * started again on the same port and data by the test. As root, the server runs as the `postgres`
 * user (PostgreSQL refuses to run as root). With `after` it dies with the test file whatever happens.
 * fsync is off (an operating system crash could lose data; a killed server cannot: its commits were
 * written), synchronous_commit is not: a commit acknowledged before a kill must survive it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { aptInstall, killServer, trackServer } from './server-process.js';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** `--pg-*` flags that point a gateway at it. */
  readonly flags: string[];
  /** Stops the server (SIGKILL: no goodbye to clients). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** A query as the gateway's user, on a connection of its own. */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<T>>;
}

/** The newest installed server's bin directory, installing Debian's postgresql under a lock when missing and root. */
function postgresBin(): string {
  const find = (): string | null => {
    if (!existsSync('/usr/lib/postgresql')) return null;
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`));
    const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
    return newest === undefined ? null : `/usr/lib/postgresql/${newest}/bin`;
  };
  const found = find();
  if (found !== null) return found;
  aptInstall('postgresql', `test -d /usr/lib/postgresql`, 'the PostgreSQL tests');
  const installed = find();
  if (installed === null) throw new Error('postgresql was installed but no server binary was found under /usr/lib/postgresql');
  return installed;
}

/** As root: the postgres user's uid and gid, which the server and its files must belong to. */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const [uid, gid] = execFileSync('id', ['-u', 'postgres']).toString().trim().concat(' ', execFileSync('id', ['-g', 'postgres']).toString().trim()).split(' ').map(Number);
  return { uid: uid!, gid: gid! };
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = postgresBin();
  const owner = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-pg-'));
  const data = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  const user = 'portcullis';
  const password = 'portcullis-test-password';
  const database = 'portcullis';
  await writeFile(passwordFile, password);
  if (owner !== null) for (const path of [dir, passwordFile]) chownSync(path, owner.uid, owner.gid);
  const asOwner = owner === null ? {} : { uid: owner.uid, gid: owner.gid };
  execFileSync(`${bin}/initdb`, ['-D', data, '-U', user, `--pwfile=${passwordFile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--no-sync'], { ...asOwner, stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await freePort();
  let child: ChildProcess | null = null;

  const start = async (): Promise<void> => {
    const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'];
    const started = spawn(`${bin}/postgres`, args, { ...asOwner, stdio: ['ignore', 'pipe', 'pipe'] });
    trackServer(started);
    child = started;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`postgres did not start:\n${output}`)), 20_000);
      started.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('database system is ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`postgres exited with ${code}:\n${output}`));
      });
    });
  };

  const config = { host: '127.0.0.1', port, user, password };
  const query = async <T extends pg.QueryResultRow>(sql: string, values?: unknown[], db = database): Promise<pg.QueryResult<T>> => {
    const client = new pg.Client({ ...config, database: db });
    await client.connect();
    try {
      return await client.query<T>(sql, values);
    } finally {
      await client.end();
    }
  };

  await start();
  await query(`CREATE DATABASE ${database}`, [], 'postgres');
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    flags: ['--database', 'postgres', '--pg-host', '127.0.0.1', '--pg-port', String(port), '--pg-user', user, '--pg-password', password, '--pg-database', database],
    async stop() {
      const running = child;
      if (running === null) return;
      child = null;
      await killServer(running);
    },
    start,
    query: (sql, values) => query(sql, values),
  };
}
