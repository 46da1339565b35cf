// Configuration-store faults against real gateway processes and a real prefix directory: SIGKILL at
// random moments during 1,000 admin writes, a damaged config.json (or .bak) at start, and a prefix
// that is full (a tiny tmpfs) or read-only (a read-only bind mount) while admin writes arrive.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { parseStoredFile } from '../../src/store/file-config-store.js';
import { admin } from '../helpers/admin.js';
import { cliPath, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { assertRunning, timedRequest } from './harness.js';

const FALLBACK_WARNING = /using the previous configuration from/;

interface Listed {
  data: Array<{ name: string; path?: string | null }>;
}

const serviceNames = async (g: GatewayProcess): Promise<string[]> =>
  (await admin(g.adminUrl, 'GET', '/services')).json<Listed>().data.map((s) => s.name).sort();

const statusOf = async (g: GatewayProcess): Promise<{ configuration_hash: string }> => (await admin(g.adminUrl, 'GET', '/status')).json<{ configuration_hash: string }>();

/** `portcullis start` that is expected to refuse to start: its exit code and stderr. */
async function failedStart(prefix: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [cliPath, 'start', '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--prefix', prefix, '--workers', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr, stdout };
}

const temporaryFiles = async (prefix: string): Promise<string[]> => (await readdir(prefix)).filter((n) => n.includes('.tmp-'));

describe('configuration store faults', () => {
  let echo: EchoServer;
  const cleanups: Array<() => Promise<void>> = [];
  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await echo.close();
  });

  it('kill -9 at random moments during 1,000 admin writes: the stored configuration always loads, intact, and is one that was written', async (t) => {
    const TOTAL = 1_000;
    const prefix = await mkdtemp(join(tmpdir(), 'portcullis-kill9-'));
    cleanups.push(() => rm(prefix, { recursive: true, force: true }));
    // The written value n is the service's path `/v-n`; every document also carries 20 consumers
    // (a bigger file, so more of each write is spent writing it), which must always all be there.
    const fullDocument = (n: number) => ({
      _format_version: '3.0',
      services: [{ name: 'svc', host: 'example.com', path: `/v-${n}`, routes: [{ name: 'r', paths: ['/r'] }] }],
      consumers: Array.from({ length: 20 }, (_, i) => ({ username: `consumer-${i}`, custom_id: `${'c'.repeat(100)}-${i}` })),
      plugins: [{ name: 'request-termination', route: 'r', config: { status_code: 503, message: `v-${n}` } }],
    });
    let attempted = -1;
    let acknowledged = -1;
    let rounds = 0;
    /** Rounds whose kill cut a write short, and writes found on disk although never acknowledged. */
    let interrupted = 0;
    let unacknowledgedButStored = 0;
    let gateway: GatewayProcess | null = null;
    try {
      while (attempted + 1 < TOTAL || rounds < 5) {
        gateway = await startGatewayProcess({ prefix });
        rounds++;
        // What the restarted gateway loaded: the primary file, never the backup (rename is atomic).
        assert.doesNotMatch(gateway.stderr(), FALLBACK_WARNING, `round ${rounds}: config.json was damaged`);
        assert.deepEqual(await temporaryFiles(prefix), [], `round ${rounds}: temporary files left after the load`);
        const services = (await admin(gateway.adminUrl, 'GET', '/services')).json<Listed>().data;
        if (services.length === 0) {
          assert.equal(acknowledged, -1, `round ${rounds}: an acknowledged write was lost`);
        } else {
          assert.equal(services.length, 1);
          const n = Number(/^\/v-(\d+)$/.exec(services[0]!.path ?? '')?.[1] ?? NaN);
          assert.ok(n >= acknowledged && n <= attempted, `round ${rounds}: found v-${n}, acknowledged v-${acknowledged}, attempted v-${attempted}`);
          const consumers = (await admin(gateway.adminUrl, 'GET', '/consumers?size=1000')).json<{ data: unknown[] }>().data;
          assert.equal(consumers.length, 20, `round ${rounds}: a partial document`);
          const stored = parseStoredFile(await readFile(join(prefix, 'config.json'), 'utf8'), 'config.json');
          assert.equal(stored.hash, (await statusOf(gateway)).configuration_hash, `round ${rounds}: the live hash is not the stored one`);
          // The backup is always a whole, good configuration too.
          const backup = await readFile(join(prefix, 'config.json.bak'), 'utf8').catch(() => null);
          if (backup !== null) parseStoredFile(backup, 'config.json.bak');
          if (n > acknowledged) unacknowledgedButStored++;
          acknowledged = n;
        }
        const live: GatewayProcess = gateway;
        let killing = false;
        const killAt = Date.now() + 150 + Math.floor(Math.random() * 700);
        const writer = (async () => {
          let first = true;
          while (attempted + 1 < TOTAL || Date.now() < killAt + 2_000) {
            const n = ++attempted;
            try {
              // The first write of a round replaces the whole document; then entity PATCHes and
              // whole-document writes alternate.
              const res =
                first || n % 2 === 0
                  ? await admin(live.adminUrl, 'POST', '/config', fullDocument(n))
                  : await admin(live.adminUrl, 'PATCH', '/services/svc', { path: `/v-${n}` });
              assert.ok(res.status === 200 || res.status === 201, `write ${n}: ${res.status} ${res.text}`);
              acknowledged = n;
              first = false;
            } catch (error) {
              if (killing) {
                interrupted++; // killed mid-write
                return;
              }
              throw error;
            }
          }
        })();
        const killer = (async () => {
          while (Date.now() < killAt && attempted + 1 < TOTAL) await new Promise((r) => setTimeout(r, 10));
          killing = true;
          await live.stop('SIGKILL');
        })();
        await Promise.all([writer, killer]);
      }
      t.diagnostic(`${attempted + 1} writes, ${rounds} rounds, ${interrupted} kills during a write, ${unacknowledgedButStored} unacknowledged writes found stored`);
      assert.ok(attempted + 1 >= TOTAL, `${attempted + 1} writes`);
      assert.ok(rounds >= 5, `${rounds} rounds`);
      assert.ok(interrupted >= 1, 'no kill ever landed during a write');
      // One more start: the last round's kill left a loadable configuration too.
      gateway = await startGatewayProcess({ prefix });
      const path = (await admin(gateway.adminUrl, 'GET', '/services/svc')).json<{ path: string }>().path;
      const n = Number(path.slice('/v-'.length));
      assert.ok(n >= acknowledged && n <= attempted, `final: found v-${n}, acknowledged v-${acknowledged}, attempted v-${attempted}`);
    } finally {
      await gateway?.stop('SIGKILL');
    }
  });

  describe('a damaged configuration file at start', () => {
    /**
     * A prefix whose config.json holds services `one` and `two` and whose config.json.bak holds
     * the configuration before that: `one` alone.
     */
    async function preparedPrefix(): Promise<{ prefix: string; file: string; backup: string; backupHash: string }> {
      const g = await startGatewayProcess();
      assert.equal((await admin(g.adminUrl, 'POST', '/services', { name: 'one', host: 'example.com' })).status, 201);
      assert.equal((await admin(g.adminUrl, 'POST', '/services', { name: 'two', host: 'example.com' })).status, 201);
      assert.equal(await g.stop(), 0);
      cleanups.push(() => rm(g.prefix, { recursive: true, force: true }));
      const file = join(g.prefix, 'config.json');
      const backup = `${file}.bak`;
      return { prefix: g.prefix, file, backup, backupHash: parseStoredFile(await readFile(backup, 'utf8'), backup).hash };
    }

    const damages: Array<{ what: string; damage: (text: string) => string; message: (file: string) => RegExp }> = [
      { what: 'truncated', damage: (t) => t.slice(0, 100), message: (f) => new RegExp(`${escape(f)}: not valid JSON \\(.+\\)`) },
      { what: 'empty', damage: () => '', message: (f) => new RegExp(`${escape(f)}: not valid JSON \\(.+\\)`) },
      {
        what: 'edited by hand (checksum mismatch)',
        damage: (t) => t.replace('"name": "two"', '"name": "tw0"'),
        message: (f) => new RegExp(`${escape(f)}: the document does not match its checksum`),
      },
      { what: 'another format', damage: (t) => t.replace('portcullis-config/1', 'portcullis-config/9'), message: (f) => new RegExp(`${escape(f)}: not a portcullis-config/1 file`) },
    ];

    for (const { what, damage, message } of damages) {
      it(`${what}: refused with a message naming the file and the fault; the previous good configuration (.bak) is served`, async () => {
        const { prefix, file, backup, backupHash } = await preparedPrefix();
        const original = await readFile(file, 'utf8');
        const damaged = damage(original);
        assert.notEqual(damaged, original);
        await writeFile(file, damaged);
        const g = await startGatewayProcess({ prefix });
        try {
          const savedAt = parseStoredFile(await readFile(backup, 'utf8'), backup).savedAt;
          const line = new RegExp(`^portcullis: ${message(file).source}; using the previous configuration from ${escape(backup)} \\(saved ${escape(savedAt)}\\)$`, 'm');
          assert.match(g.stderr(), line);
          const warning = await g.waitForLog((l) => l['level'] === 40 && FALLBACK_WARNING.test(String(l['msg'])));
          assert.match(String(warning['msg']), new RegExp(`^${message(file).source}`));
          assert.deepEqual(await serviceNames(g), ['one']);
          assert.equal((await statusOf(g)).configuration_hash, backupHash);
          // The damaged file is left as it was (for whoever investigates) until the next write.
          assert.equal(await readFile(file, 'utf8'), damaged);
        } finally {
          await g.stop();
        }
      });
    }

    it('without a .bak: the start is refused (exit 1) with one line naming the file and the fault', async () => {
      const { prefix, file, backup } = await preparedPrefix();
      await writeFile(file, (await readFile(file, 'utf8')).slice(0, 100));
      await rm(backup);
      const result = await failedStart(prefix);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`^portcullis: ${escape(file)}: not valid JSON \\(.+\\)$`, 'm'));
      assert.doesNotMatch(result.stderr, /listening on/);
      assert.doesNotMatch(result.stdout, /portcullis ready/);
    });

    it('with a damaged .bak too: the start is refused (exit 1), naming both faults', async () => {
      const { prefix, file, backup } = await preparedPrefix();
      await writeFile(file, (await readFile(file, 'utf8')).slice(0, 100));
      await writeFile(backup, '{"format":"portcullis-config/1"}');
      const result = await failedStart(prefix);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(`^portcullis: ${escape(file)}: not valid JSON \\(.+\\); the backup is unusable too: ${escape(backup)}: missing document, configuration_hash, saved_at or document_sha256$`, 'm'),
      );
      assert.doesNotMatch(result.stderr, /listening on/);
    });

    it('after falling back to the .bak, the next admin write keeps the .bak a good configuration (not the damaged file)', async () => {
      const { prefix, file, backup, backupHash } = await preparedPrefix();
      await writeFile(file, (await readFile(file, 'utf8')).slice(0, 100));
      const g = await startGatewayProcess({ prefix });
      try {
        assert.match(g.stderr(), FALLBACK_WARNING);
        assert.equal((await admin(g.adminUrl, 'POST', '/services', { name: 'three', host: 'example.com' })).status, 201);
        assert.deepEqual(await serviceNames(g), ['one', 'three']);
      } finally {
        await g.stop();
      }
      // The new config.json is good; the .bak is still a good configuration…
      parseStoredFile(await readFile(file, 'utf8'), file);
      const kept = parseStoredFile(await readFile(backup, 'utf8'), backup);
      assert.equal(kept.hash, backupHash, 'the .bak is the configuration that was served before the write');
      // …so a second accident still finds a good configuration to resume from.
      await writeFile(file, '');
      const again = await startGatewayProcess({ prefix });
      try {
        assert.match(again.stderr(), FALLBACK_WARNING);
        assert.deepEqual(await serviceNames(again), ['one']);
      } finally {
        await again.stop();
      }
    });

    it('a start with --declarative-config over a damaged config.json does not make the damaged file the .bak', async () => {
      const { prefix, file, backup, backupHash } = await preparedPrefix();
      await writeFile(file, (await readFile(file, 'utf8')).slice(0, 100));
      const withFile = await startGatewayProcess({ prefix, config: '_format_version: "3.0"\nservices:\n  - name: from-file\n    host: example.com\n' });
      try {
        assert.deepEqual(await serviceNames(withFile), ['from-file']);
      } finally {
        await withFile.stop();
      }
      assert.equal(parseStoredFile(await readFile(backup, 'utf8'), backup).hash, backupHash, 'the .bak is still the last good configuration');
      await writeFile(file, '');
      const resumed = await startGatewayProcess({ prefix });
      try {
        assert.match(resumed.stderr(), FALLBACK_WARNING);
        assert.deepEqual(await serviceNames(resumed), ['one']);
      } finally {
        await resumed.stop();
      }
    });
  });

  describe('a prefix that cannot be written', () => {
    /** Mounts with `args` on `dir`, or skips the test (saying why) where mounting is not permitted. */
    function mountOrSkip(t: TestContext, args: string[], dir: string): boolean {
      try {
        execFileSync('mount', [...args, dir], { stdio: 'pipe' });
      } catch (error) {
        const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
        t.skip(`mounting is not permitted here (${detail}): this case needs root with CAP_SYS_ADMIN`);
        return false;
      }
      cleanups.push(() => {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
        return Promise.resolve();
      });
      return true;
    }

    const decK = (services: Array<{ name: string; path: string }>): string =>
      JSON.stringify({
        _format_version: '3.0',
        services: services.map((s) => ({ name: s.name, url: `${echo.url}/anything`, routes: [{ name: s.name, paths: [s.path] }] })),
      });

    /**
     * Admin writes of every kind fail with a 500 and an error log line carrying the errno; the
     * configuration in memory, what the proxy serves and what is on disk stay as they were.
     */
    async function assertWritesRefused(g: GatewayProcess, errno: string): Promise<void> {
      const hash = (await statusOf(g)).configuration_hash;
      const onDisk = await readFile(join(g.prefix, 'config.json'), 'utf8');
      const attempts: Array<[string, string, unknown]> = [
        ['POST', '/services', { name: 'added', url: `${echo.url}/anything`, routes: [{ name: 'added', paths: ['/added'] }] }],
        ['PATCH', '/services/kept', { path: '/elsewhere' }],
        ['DELETE', '/routes/kept', undefined],
        ['POST', '/config', decK([{ name: 'replaced', path: '/replaced' }])],
      ];
      for (const [method, path, body] of attempts) {
        const res = await admin(g.adminUrl, method as 'POST', path, body);
        assert.equal(res.status, 500, `${method} ${path}: ${res.text}`);
        const requestId = String(res.headers['x-request-id']);
        assert.deepEqual(res.json(), { code: 107, name: 'internal error', message: 'An unexpected error occurred', request_id: requestId });
        const logged = await g.waitForLog((l) => l['msg'] === 'admin request failed' && l['request_id'] === requestId);
        assert.equal(logged['level'], 50);
        assert.equal((logged['err'] as { code?: string }).code, errno, `${method} ${path}: ${JSON.stringify(logged['err'])}`);
      }
      assert.equal((await statusOf(g)).configuration_hash, hash, 'the configuration in memory changed');
      assert.deepEqual(await serviceNames(g), ['kept']);
      assert.equal((await timedRequest(`${g.httpUrl}/kept`)).status, 200, 'the configuration is still served');
      assert.equal((await timedRequest(`${g.httpUrl}/added`)).status, 404);
      assert.equal((await timedRequest(`${g.httpUrl}/replaced`)).status, 404);
      assert.equal(await readFile(join(g.prefix, 'config.json'), 'utf8'), onDisk, 'config.json changed');
      assertRunning(g);
    }

    it('disk full (a 256 KiB tmpfs, filled): admin writes fail with 500 and a log line; the configuration is unchanged and still served', async (t) => {
      const prefix = await mkdtemp(join(tmpdir(), 'portcullis-full-'));
      cleanups.push(() => rm(prefix, { recursive: true, force: true }));
      if (!mountOrSkip(t, ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs'], prefix)) return;
      const g = await startGatewayProcess({ prefix, config: decK([{ name: 'kept', path: '/kept' }]) });
      cleanups.push(async () => void (await g.stop('SIGKILL')));
      // Fill the file system to the last byte.
      const filler = join(prefix, 'filler');
      const handle = await open(filler, 'w');
      try {
        for (const size of [64 * 1024, 4096, 512, 1]) {
          for (;;) {
            try {
              await handle.write(Buffer.alloc(size));
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
              break;
            }
          }
        }
      } finally {
        await handle.close();
      }
      await assertWritesRefused(g, 'ENOSPC');
      assert.deepEqual(await temporaryFiles(prefix), [], 'a failed write left its temporary file behind');

      // Space again: writes work and are durable.
      await rm(filler);
      assert.equal((await admin(g.adminUrl, 'POST', '/services', { name: 'added', url: `${echo.url}/anything`, routes: [{ name: 'added', paths: ['/added'] }] })).status, 201);
      assert.equal((await timedRequest(`${g.httpUrl}/added`)).status, 200);
      assert.equal(await g.stop(), 0);
      const restarted = await startGatewayProcess({ prefix });
      cleanups.push(async () => void (await restarted.stop('SIGKILL')));
      assert.deepEqual(await serviceNames(restarted), ['added', 'kept']);
      await restarted.stop();
    });

    it('read-only prefix (a read-only bind mount): admin writes fail with 500 and a log line; the configuration is unchanged and still served', async (t) => {
      const prefix = await mkdtemp(join(tmpdir(), 'portcullis-ro-'));
      cleanups.push(() => rm(prefix, { recursive: true, force: true }));
      const g = await startGatewayProcess({ prefix, config: decK([{ name: 'kept', path: '/kept' }]) });
      cleanups.push(async () => void (await g.stop('SIGKILL')));
      // `mount --bind DIR DIR`, then `mount -o remount,ro,bind DIR`.
      if (!mountOrSkip(t, ['--bind', prefix], prefix)) return;
      execFileSync('mount', ['-o', 'remount,ro,bind', prefix], { stdio: 'pipe' });
      await assertWritesRefused(g, 'EROFS');

      execFileSync('mount', ['-o', 'remount,rw,bind', prefix], { stdio: 'pipe' });
      assert.equal((await admin(g.adminUrl, 'POST', '/services', { name: 'added', url: `${echo.url}/anything`, routes: [{ name: 'added', paths: ['/added'] }] })).status, 201);
      assert.equal((await timedRequest(`${g.httpUrl}/added`)).status, 200);
      await g.stop();
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
