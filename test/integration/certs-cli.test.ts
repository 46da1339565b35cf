// `portcullis certs` as a user runs it: the compiled CLI in a child process, its files checked with
// node:crypto, openssl, keytool (when Java is installed) and curl against a real TLS listener.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { certificateThumbprint } from '../../src/certs/index.js';
import { cliPath } from '../helpers/gateway-process.js';

const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `portcullis ARGS` with no PKCS#12 password in the environment unless `env` sets one. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Result> {
  const base = { ...process.env };
  delete base['PORTCULLIS_P12_PASSWORD'];
  delete base['PKCS12_PASSWORD'];
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], { env: { ...base, ...env }, cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function tool(command: string, args: string[], cwd?: string): Result {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const hasKeytool = spawnSync('keytool', ['-help'], { stdio: 'ignore' }).status === 0;

const password = 'changeit-123';
const pemFiles = ['rootCA.crt', 'rootCA.key', 'server.crt', 'server.key', 'client.crt', 'client.key'];
const p12Files = ['server.p12', 'truststore.p12', 'client.p12'];
const secretFiles = ['rootCA.key', 'server.key', 'client.key', 'server.p12', 'client.p12'];

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'portcullis-certs-'));
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    const info = await stat(join(dir, name));
    entries.set(name, `${(await readFile(join(dir, name))).toString('base64')} ${info.mode} ${info.mtimeMs}`);
  }
  return entries;
}

async function cert(dir: string, name: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(join(dir, name)));
}

describe('portcullis certs', () => {
  // One CA + server + client for most tests: RSA key generation is the slow part.
  let dir: string;
  const scratch: string[] = [];
  before(async () => {
    dir = await tempDir();
    scratch.push(dir);
    // The tutorial exports PKCS12_PASSWORD; init reads it.
    const result = await cli(['certs', 'init', '--dir', dir], { PKCS12_PASSWORD: password });
    assert.equal(result.code, 0, result.stderr);
  });
  after(async () => {
    await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('init writes the CA, server and client as PEM and PKCS#12, private keys readable only by the owner', async () => {
    assert.deepEqual((await readdir(dir)).sort(), [...pemFiles, ...p12Files].sort());
    for (const name of secretFiles) {
      assert.equal((await stat(join(dir, name))).mode & 0o777, 0o600, name);
    }
    for (const name of ['rootCA.crt', 'server.crt', 'client.crt', 'truststore.p12']) {
      assert.equal((await stat(join(dir, name))).mode & 0o022, 0, `${name} is not writable by others`);
    }
    const key = await readFile(join(dir, 'client.key'), 'utf8');
    assert.match(key, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('the server certificate verifies against the CA for localhost, 127.0.0.1 and ::1, for serverAuth only', async () => {
    const ca = await cert(dir, 'rootCA.crt');
    const server = await cert(dir, 'server.crt');
    assert.ok(ca.ca);
    assert.ok(server.verify(ca.publicKey));
    assert.ok(server.checkIssued(ca));
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
    assert.equal(server.checkHost('example.com'), undefined);
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(server.ca, false);
  });

  it("the client certificate has the tutorial's subject, is for clientAuth and is signed by the CA", async () => {
    const ca = await cert(dir, 'rootCA.crt');
    const client = await cert(dir, 'client.crt');
    // Node prints the DER order: the tutorial's -subj "/C=US/ST=State/L=City/O=ClientOrg/OU=Dev/CN=client-app".
    assert.equal(client.subject, 'C=US\nST=State\nL=City\nO=ClientOrg\nOU=Dev\nCN=client-app');
    const rfc2253 = tool('openssl', ['x509', '-in', join(dir, 'client.crt'), '-noout', '-subject', '-nameopt', 'RFC2253']);
    assert.equal(rfc2253.stdout.trim(), 'subject=CN=client-app,OU=Dev,O=ClientOrg,L=City,ST=State,C=US');
    assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.ok(client.verify(ca.publicKey));
    const verify = tool('openssl', ['verify', '-CAfile', join(dir, 'rootCA.crt'), '-purpose', 'sslclient', join(dir, 'client.crt')]);
    assert.equal(verify.code, 0, verify.stderr);
  });

  it('a second init without --force refuses, names the existing file, and changes nothing', async () => {
    const before = await snapshot(dir);
    const again = await cli(['certs', 'init', '--dir', dir, '--p12-password', password]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`${join(dir, 'rootCA.crt').replace(/[.\\]/g, '\\$&')} already exists`));
    assert.match(again.stderr, /--force/);
    assert.deepEqual(await snapshot(dir), before);
  });

  it('init refuses when any one of its files exists, before writing the others', async () => {
    const other = await tempDir();
    scratch.push(other);
    await cp(join(dir, 'client.p12'), join(other, 'client.p12'));
    const result = await cli(['certs', 'init', '--dir', other, '--p12-password', password]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /client\.p12 already exists/);
    assert.deepEqual(await readdir(other), ['client.p12']);
  });

  it('init --force replaces the files with new keys, resets key permissions, and without a password skips the .p12 files', async () => {
    const other = await tempDir();
    scratch.push(other);
    await cp(dir, other, { recursive: true });
    await chmod(join(other, 'server.key'), 0o644);
    const result = await cli(['certs', 'init', '--dir', other, '--force', '--hostname', 'gateway.test,10.0.0.7']);
    assert.equal(result.code, 0, result.stderr);
    for (const name of pemFiles) {
      assert.notDeepEqual(await readFile(join(other, name)), await readFile(join(dir, name)), `${name} was replaced`);
    }
    for (const name of ['rootCA.key', 'server.key', 'client.key']) assert.equal((await stat(join(other, name))).mode & 0o777, 0o600, name);
    const server = await cert(other, 'server.crt');
    assert.equal(server.checkHost('gateway.test'), 'gateway.test');
    assert.equal(server.checkIP('10.0.0.7'), '10.0.0.7');
    assert.equal(server.checkHost('localhost'), undefined);
    assert.ok(server.verify((await cert(other, 'rootCA.crt')).publicKey));
    // No password: the .p12 files are neither written nor deleted, and the user is told they are stale.
    assert.match(result.stdout, /PKCS#12 files skipped: no password/);
    assert.match(result.stdout, /server\.p12.*no longer match the new keys/);
    for (const name of p12Files) assert.deepEqual(await readFile(join(other, name)), await readFile(join(dir, name)), name);
    assert.deepEqual((await readdir(other)).filter((n) => n.endsWith('.tmp')), []);
  });

  it('a PKCS#12 password shorter than 6 characters is refused before anything is written', async () => {
    const parent = await tempDir();
    scratch.push(parent);
    const target = join(parent, 'certs');
    const [flag, tutorial] = await Promise.all([
      cli(['certs', 'init', '--dir', target, '--p12-password', 'abc']),
      cli(['certs', 'init', '--dir', target], { PKCS12_PASSWORD: 'short' }),
    ]);
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /--p12-password: the PKCS#12 password must be at least 6 characters/);
    assert.equal(tutorial.code, 1);
    assert.match(tutorial.stderr, /PKCS12_PASSWORD: .*at least 6 characters/);
    await assert.rejects(stat(target), { code: 'ENOENT' });
  });

  it('the .p12 files use PBES2/AES-256-CBC and an HMAC-SHA256 MAC, and openssl and Node read them', async () => {
    for (const name of p12Files) {
      const info = tool('openssl', ['pkcs12', '-info', '-nokeys', '-in', join(dir, name), '-passin', `pass:${password}`]);
      assert.equal(info.code, 0, `${name}: ${info.stderr}`);
      // openssl prints the algorithms on stderr, the certificates on stdout.
      assert.match(info.stderr, /MAC: sha256/, name);
      assert.match(info.stderr, /PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/, name);
      assert.doesNotMatch(info.stderr, /RC2|3DES|SHA1/i, name);
    }
    const server = tool('openssl', ['pkcs12', '-info', '-nokeys', '-in', join(dir, 'server.p12'), '-passin', `pass:${password}`]);
    assert.match(server.stdout, /friendlyName: server/);
    assert.equal(server.stdout.match(/BEGIN CERTIFICATE/g)?.length, 2, 'server certificate and CA');
    const truststore = tool('openssl', ['pkcs12', '-info', '-nokeys', '-in', join(dir, 'truststore.p12'), '-passin', `pass:${password}`]);
    assert.match(truststore.stdout, /friendlyName: rootca/);
    const wrong = tool('openssl', ['pkcs12', '-info', '-nokeys', '-in', join(dir, 'server.p12'), '-passin', 'pass:wrong-password']);
    assert.notEqual(wrong.code, 0);

    for (const name of ['server.p12', 'client.p12']) {
      const pfx = await readFile(join(dir, name));
      assert.doesNotThrow(() => tls.createSecureContext({ pfx, passphrase: password }), name);
      assert.throws(() => tls.createSecureContext({ pfx, passphrase: 'wrong-password' }), name);
    }
  });

  it('keytool lists server.p12 as a private key entry and truststore.p12 as a trusted certificate', { skip: !hasKeytool && 'keytool not installed' }, async () => {
    const list = (name: string) => run('keytool', ['-list', '-storetype', 'PKCS12', '-keystore', join(dir, name), '-storepass', password]);
    const [server, truststore] = await Promise.all([list('server.p12'), list('truststore.p12')]);
    assert.match(server.stdout, /^server, .*PrivateKeyEntry/m);
    assert.match(truststore.stdout, /^rootca, .*trustedCertEntry/m);
  });

  it('certs client issues another client certificate from the same CA', async () => {
    const empty = await tempDir();
    scratch.push(empty);
    const [result, named, noCa] = await Promise.all([
      cli(['certs', 'client', '--dir', dir, '--cn', 'other-app']),
      cli(['certs', 'client', '--dir', dir, '--subject', 'CN=billing, OU=Payments, O=ClientOrg', '--out', 'billing-svc'], {
        PORTCULLIS_P12_PASSWORD: password,
      }),
      cli(['certs', 'client', '--dir', empty, '--cn', 'x']),
    ]);
    assert.equal(result.code, 0, result.stderr);
    const ca = await cert(dir, 'rootCA.crt');
    const other = await cert(dir, 'other-app.crt');
    assert.equal(other.subject, 'CN=other-app');
    assert.ok(other.verify(ca.publicKey));
    assert.deepEqual(other.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal((await stat(join(dir, 'other-app.key'))).mode & 0o777, 0o600);
    assert.ok(result.stdout.includes(`x5t#S256: ${certificateThumbprint(other.toString())}`), result.stdout);

    assert.equal(named.code, 0, named.stderr);
    const billing = await cert(dir, 'billing-svc.crt');
    assert.equal(billing.subject, 'O=ClientOrg\nOU=Payments\nCN=billing');
    assert.ok(billing.verify(ca.publicKey));
    const billingP12 = await readFile(join(dir, 'billing-svc.p12'));
    assert.doesNotThrow(() => tls.createSecureContext({ pfx: billingP12, passphrase: password }));

    assert.equal(noCa.code, 1);
    assert.match(noCa.stderr, /rootCA\.crt not found; make the CA first/);

    const again = await cli(['certs', 'client', '--dir', dir, '--cn', 'other-app']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /other-app\.crt already exists/);
  });

  it("certs client signs with a root CA made by the tutorial's openssl commands", async () => {
    const other = await tempDir();
    scratch.push(other);
    assert.equal(tool('openssl', ['genrsa', '-out', 'rootCA.key', '2048'], other).code, 0);
    const req = ['req', '-x509', '-new', '-nodes', '-key', 'rootCA.key', '-sha256', '-days', '3650', '-out', 'rootCA.crt'];
    assert.equal(tool('openssl', [...req, '-subj', '/C=US/ST=State/L=City/O=Organization/OU=Department/CN=Root CA'], other).code, 0);
    const result = await cli(['certs', 'client', '--dir', other, '--cn', 'client-app']);
    assert.equal(result.code, 0, result.stderr);
    const verify = tool('openssl', ['verify', '-CAfile', 'rootCA.crt', 'client-app.crt'], other);
    assert.equal(verify.code, 0, verify.stderr);
  });

  it('inspect prints the x5t#S256 of certificateThumbprint, for PEM, DER and the first certificate of a chain', async () => {
    const pem = await readFile(join(dir, 'client.crt'), 'utf8');
    const thumbprint = certificateThumbprint(pem);
    const der = join(dir, 'client.der');
    assert.equal(tool('openssl', ['x509', '-in', join(dir, 'client.crt'), '-outform', 'DER', '-out', der]).code, 0);
    const chain = join(dir, 'client-chain.pem');
    await writeFile(chain, pem + (await readFile(join(dir, 'rootCA.crt'), 'utf8')));
    const [text, json, fromDer, fromChain, key] = await Promise.all([
      cli(['certs', 'inspect', join(dir, 'client.crt')]),
      cli(['certs', 'inspect', '--json', join(dir, 'server.crt')]),
      cli(['certs', 'inspect', '--json', der]),
      cli(['certs', 'inspect', '--json', chain]),
      cli(['certs', 'inspect', join(dir, 'client.key')]),
    ]);

    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^x5t#S256: +${thumbprint}$`, 'm'));
    assert.match(text.stdout, /^subject: +CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US$/m);
    assert.match(text.stdout, /^key: +RSA 2048 bits$/m);

    assert.equal(json.code, 0, json.stderr);
    const server = JSON.parse(json.stdout) as Record<string, unknown>;
    const serverPem = await readFile(join(dir, 'server.crt'), 'utf8');
    assert.equal(server['x5t#S256'], certificateThumbprint(serverPem));
    assert.equal(server['sha256_fingerprint'], new X509Certificate(serverPem).fingerprint256);
    assert.deepEqual(server['dns_names'], ['localhost']);
    assert.deepEqual(server['ip_addresses'], ['127.0.0.1', '::1']);
    assert.equal(server['expired'], false);
    assert.deepEqual(server['key'], { type: 'RSA', bits: 2048 });
    assert.deepEqual(server['extended_key_usage'], ['serverAuth']);

    const derJson = JSON.parse(fromDer.stdout) as Record<string, unknown>;
    assert.equal(derJson['format'], 'der');
    assert.equal(derJson['x5t#S256'], thumbprint);
    const chainJson = JSON.parse(fromChain.stdout) as Record<string, unknown>;
    assert.equal(chainJson['certificates_in_file'], 2);
    assert.equal(chainJson['x5t#S256'], thumbprint);

    assert.equal(key.code, 1);
    assert.match(key.stderr, /no CERTIFICATE block .*PRIVATE KEY/);
  });

  describe("curl with the tutorial's flags", () => {
    let server: Server;
    let port: number;
    before(async () => {
      const [key, certPem, ca] = await Promise.all(['server.key', 'server.crt', 'rootCA.crt'].map((n) => readFile(join(dir, n))));
      server = createServer({ key, cert: certPem, ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
        const socket = req.socket as tls.TLSSocket;
        const peer = socket.getPeerCertificate();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ authorized: socket.authorized, subject: peer.subject ?? null }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('curl --cert client.crt --key client.key --cacert rootCA.crt reaches the server as an authorized client', async () => {
      for (const host of ['localhost', '127.0.0.1']) {
        const curl = await run('curl', ['-sS', '--fail', '--cert', 'client.crt', '--key', 'client.key', '--cacert', 'rootCA.crt', `https://${host}:${port}/anything`], {
          cwd: dir,
        });
        const body = JSON.parse(curl.stdout) as { authorized: boolean; subject: Record<string, string> | null };
        assert.equal(body.authorized, true, host);
        assert.equal(body.subject?.['CN'], 'client-app');
        assert.equal(body.subject?.['O'], 'ClientOrg');
      }
    });
  });
});
