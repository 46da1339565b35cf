// The development IdP's signing keys: kept across restarts, rotated with the old key still
// published, picked up from disk by a running IdP; and the `portcullis idp` command itself.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { cliPath } from '../helpers/gateway-process.js';
import { startTestIdp, testIdpClientIds, type TestIdp } from '../helpers/idp.js';
import { makeTestPki, type TestCredential } from '../helpers/pki.js';

async function jwksOf(t: TestIdp): Promise<JSONWebKeySet> {
  return (await t.getJson('/protocol/openid-connect/certs')).body as unknown as JSONWebKeySet;
}

const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid).sort();

/** Polls `check` every 100 ms until it returns true or `ms` pass. */
async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('development IdP signing keys', () => {
  const dirs: string[] = [];
  const open: TestIdp[] = [];
  after(async () => {
    await Promise.all(open.map((t) => t.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const start = async (options: Parameters<typeof startTestIdp>[0] = {}) => {
    const t = await startTestIdp(options);
    open.push(t);
    return t;
  };
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-idp-keys-'));
    dirs.push(dir);
    return dir;
  };

  it('keeps its keys across a restart: a token issued before still verifies with the JWKS after', async () => {
    const dir = await tempDir();
    const first = await start({ dir });
    const token = (await first.requestToken()).access_token ?? assert.fail('no token');
    const before = kids(await jwksOf(first));
    const port = first.idp.port;
    await first.close();

    const second = await start({ dir, port });
    assert.equal(second.issuer, first.issuer);
    const set = await jwksOf(second);
    assert.deepEqual(kids(set), before);
    const { payload } = await jwtVerify(token, createLocalJWKSet(set), { issuer: second.issuer });
    assert.equal(payload['client_id'], 'kong');
  });

  it('rotates: signs with a new key and keeps publishing the old one; opaque tokens stay valid', async () => {
    const t = await start();
    const oldToken = (await t.requestToken()).access_token ?? assert.fail('no token');
    const opaque = (await t.requestToken({ clientId: testIdpClientIds.opaque })).access_token ?? assert.fail('no token');
    const oldKid = decodeProtectedHeader(oldToken).kid;
    assert.equal((await jwksOf(t)).keys.length, 2);

    await t.idp.rotateKeys();

    const set = await jwksOf(t);
    assert.equal(set.keys.length, 4, 'new RS256 and ES256 keys, the old ones still published');
    assert.ok(set.keys.some((k) => k.kid === oldKid));
    const newToken = (await t.requestToken()).access_token ?? assert.fail('no token');
    assert.notEqual(decodeProtectedHeader(newToken).kid, oldKid);
    const keys = createLocalJWKSet(set);
    await jwtVerify(oldToken, keys, { issuer: t.issuer });
    await jwtVerify(newToken, keys, { issuer: t.issuer });
    assert.equal((await t.introspect(opaque)).body['active'], true);
  });

  it('drops a rotated-out key from the JWKS when its grace period ends', async () => {
    const t = await start({ keyGraceSeconds: 1 });
    const oldKids = kids(await jwksOf(t));
    await t.idp.rotateKeys();
    assert.equal((await jwksOf(t)).keys.length, 4);
    await waitFor(async () => (await jwksOf(t)).keys.length === 2, 5000, 'the old keys to leave the JWKS');
    const now = kids(await jwksOf(t));
    assert.ok(now.every((kid) => !oldKids.includes(kid)));
  });

  it('picks up `portcullis idp rotate-keys --dir` run by another process', async () => {
    const dir = await tempDir();
    const t = await start({ dir });
    const before = kids(await jwksOf(t));
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [cliPath, 'idp', 'rotate-keys', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    assert.equal(code, 0);
    await waitFor(async () => (await jwksOf(t)).keys.length === 4, 5000, 'the running IdP to publish the rotated keys');
    const after = kids(await jwksOf(t));
    assert.ok(before.every((kid) => after.includes(kid)));
    const token = (await t.requestToken()).access_token ?? assert.fail('no token');
    assert.ok(!before.includes(decodeProtectedHeader(token).kid ?? ''));
  });
});

describe('portcullis idp', () => {
  it('runs the tutorial flow from the command line with a clients file, and stops on SIGTERM', async () => {
    const pki = await makeTestPki();
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-idp-cli-'));
    try {
      const clientsFile = join(dir, 'clients.yaml');
      await writeFile(
        clientsFile,
        [
          'clients:',
          '  - client_id: kong',
          '    token_endpoint_auth_method: tls_client_auth',
          "    tls_client_auth_subject_dn: 'CN=client-app,OU=Dev,O=ClientOrg,L=City,ST=State,C=US'",
          '    scopes: [orders]',
          '  - client_id: robot',
          '    token_endpoint_auth_method: self_signed_tls_client_auth',
          `    certificate_file: ${pki.selfSignedClient.certPath}`,
          '    access_token_format: opaque',
          '',
        ].join('\n'),
      );
      const child = spawn(
        process.execPath,
        [cliPath, 'idp', '--dir', dir, '--host', '127.0.0.1', '--port', '0', '--cert', pki.serverCert.chainPath, '--key', pki.serverCert.keyPath, '--ca', pki.ca.certPath, '--clients', clientsFile],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        await waitFor(() => Promise.resolve(/Issuer:\s+\S+/.test(stdout) || child.exitCode !== null), 10_000, 'the IdP to start');
        const issuer = /Issuer:\s+(\S+)/.exec(stdout)?.[1] ?? assert.fail(`no issuer in output:\n${stdout}\n${stderr}`);
        assert.match(stdout, /development/i);
        assert.match(issuer, /^https:\/\/127\.0\.0\.1:\d+\/realms\/master$/);

        const post = (credential: TestCredential, form: string) => tokenRequest(`${issuer}/protocol/openid-connect/token`, pki.ca.certPem, credential, form);
        const ok = await post(pki.client, 'client_id=kong&grant_type=client_credentials&scope=orders');
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(ok.body['scope'], 'orders');
        const robot = await post(pki.selfSignedClient, 'client_id=robot&grant_type=client_credentials');
        assert.equal(robot.status, 200, JSON.stringify(robot.body));
        assert.equal(String(robot.body['access_token']).split('.').length, 1);
        const refused = await post(pki.otherClient, 'client_id=kong&grant_type=client_credentials');
        assert.equal(refused.status, 401);
        await waitFor(() => Promise.resolve(/certificate subject value does not match/.test(stderr)), 2000, 'the refusal reason in the log');
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function tokenRequest(url: string, caPem: string, credential: TestCredential, form: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(form)) },
        ca: caPem,
        cert: credential.chainPem,
        key: credential.keyPem,
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(form);
  });
}
