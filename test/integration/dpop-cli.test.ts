// `portcullis dpop keygen | proof | inspect` as a user runs it: the compiled CLI in a child process.
// Its proofs are verified independently with jose (EmbeddedJWK), its thumbprints recomputed with
// jose, its access-token hash with node:crypto.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { cliPath } from '../helpers/gateway-process.js';

const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], cwd?: string): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, 'dpop', ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The private members a JWK must never show in a proof header. */
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

interface Generated {
  file: string;
  jwk: JWK;
  /** What keygen printed. */
  jkt: string;
}

const KINDS = [
  { alg: 'ES256', args: [] as string[], check: (jwk: JWK) => assert.deepEqual([jwk.kty, jwk.crv], ['EC', 'P-256']) },
  { alg: 'Ed25519', args: ['--alg', 'Ed25519'], check: (jwk: JWK) => assert.deepEqual([jwk.kty, jwk.crv], ['OKP', 'Ed25519']) },
  {
    alg: 'RS256',
    args: ['--alg', 'RS256'],
    check: (jwk: JWK) => {
      assert.equal(jwk.kty, 'RSA');
      assert.equal(Buffer.from(jwk.n!, 'base64url').length, 256, '2048-bit modulus');
      for (const member of ['p', 'q', 'dp', 'dq', 'qi']) assert.equal(typeof jwk[member as keyof JWK], 'string', member);
    },
  },
] as const;

describe('portcullis dpop', () => {
  let dir: string;
  const keys = new Map<string, Generated>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-dpop-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('keygen', () => {
    for (const kind of KINDS) {
      it(`writes a private ${kind.alg} JWK${kind.args.length === 0 ? ' (the default, to dpop-key.json)' : ''}, mode 0600, and prints its thumbprint`, async () => {
        // The default kind goes to the default file in the working directory; the others to --out.
        const cwd = await mkdtemp(join(dir, `keygen-${kind.alg}-`));
        const file = kind.args.length === 0 ? join(cwd, 'dpop-key.json') : join(cwd, `${kind.alg}.json`);
        const result = await cli(['keygen', ...kind.args, ...(kind.args.length === 0 ? [] : ['--out', file])], cwd);
        assert.equal(result.code, 0, result.stderr);
        assert.equal((await stat(file)).mode & 0o777, 0o600);
        const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
        assert.equal(jwk.alg, kind.alg);
        assert.equal(typeof jwk.d, 'string', 'the file holds the private key');
        kind.check(jwk);
        const jkt = await calculateJwkThumbprint(jwk, 'sha256');
        assert.equal(result.stdout.trim(), jkt);
        assert.match(result.stderr, new RegExp(`wrote ${kind.alg} key .*${kind.args.length === 0 ? 'dpop-key\\.json' : `${kind.alg}\\.json`}`));
        keys.set(kind.alg, { file, jwk, jkt });
      });
    }

    it('refuses to overwrite an existing file without --force, leaving it as it was; --force replaces it', async () => {
      const file = join(dir, 'existing.json');
      await writeFile(file, 'keep me', { mode: 0o600 });
      const refused = await cli(['keygen', '--out', file]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /exists; give --force to replace it/);
      assert.equal(refused.stdout, '');
      assert.equal(await readFile(file, 'utf8'), 'keep me');
      const forced = await cli(['keygen', '--out', file, '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
      assert.equal(forced.stdout.trim(), await calculateJwkThumbprint(jwk));
    });

    it('with --force over a readable file, the private key file still ends up mode 0600', async () => {
      const file = join(dir, 'world-readable.json');
      await writeFile(file, '{}');
      await chmod(file, 0o644);
      const result = await cli(['keygen', '--out', file, '--force']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    });

    it('with --force, replaces the file in one step and leaves no temporary file behind', async () => {
      const cwd = await mkdtemp(join(dir, 'keygen-force-'));
      const file = join(cwd, 'key.json');
      await writeFile(file, '{}', { mode: 0o644 });
      const before = await stat(file);
      const result = await cli(['keygen', '--out', file, '--force']);
      assert.equal(result.code, 0, result.stderr);
      const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
      assert.equal(result.stdout.trim(), await calculateJwkThumbprint(jwk));
      assert.notEqual((await stat(file)).ino, before.ino, 'a new file renamed over the old one, not the old one rewritten');
      assert.deepEqual(await readdir(cwd), ['key.json']);
    });

    it('with --force onto a directory, fails and leaves no temporary file behind', async () => {
      const cwd = await mkdtemp(join(dir, 'keygen-force-dir-'));
      await mkdir(join(cwd, 'key.json'));
      const result = await cli(['keygen', '--out', join(cwd, 'key.json'), '--force']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^portcullis: /);
      assert.equal(result.stdout, '');
      assert.deepEqual(await readdir(cwd), ['key.json']);
    });

    it('refuses an unknown --alg and writes nothing', async () => {
      const file = join(dir, 'hs.json');
      const result = await cli(['keygen', '--alg', 'HS256', '--out', file]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /--alg: 'HS256' is not one of ES256, /);
      await assert.rejects(stat(file), { code: 'ENOENT' });
    });
  });

  describe('proof', () => {
    const key = (alg: string): Generated => {
      const generated = keys.get(alg);
      assert.ok(generated !== undefined, `the keygen test for ${alg} ran first`);
      return generated;
    };

    for (const kind of KINDS) {
      it(`makes a ${kind.alg} proof that jose verifies with its embedded public key, with htm, htu, ath, nonce, jti and iat`, async () => {
        const { file, jkt } = key(kind.alg);
        const start = Math.floor(Date.now() / 1000);
        const result = await cli(['proof', '--key', file, '--method', 'POST', '--url', 'https://x.test/a', '--token', 'T', '--nonce', 'N']);
        const end = Math.ceil(Date.now() / 1000);
        assert.equal(result.code, 0, result.stderr);
        const value = result.stdout.trim();
        assert.match(value, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'one compact JWS on stdout');
        const { payload, protectedHeader } = await jwtVerify(value, EmbeddedJWK, { typ: 'dpop+jwt' });
        assert.equal(protectedHeader.alg, kind.alg);
        const headerJwk = protectedHeader.jwk!;
        for (const member of PRIVATE) assert.equal(member in headerJwk, false, `the proof header carries no private member ${member}`);
        assert.equal(await calculateJwkThumbprint(headerJwk), jkt, 'signed by the key of the file');
        assert.equal(payload['htm'], 'POST');
        assert.equal(payload['htu'], 'https://x.test/a');
        assert.equal(payload['ath'], sha256('T'));
        assert.equal(payload['nonce'], 'N');
        assert.equal(typeof payload.jti, 'string');
        assert.ok(payload.jti!.length >= 16, 'a random jti');
        assert.ok(Number.isInteger(payload.iat) && payload.iat! >= start && payload.iat! <= end, `iat ${payload.iat} is the time it was made`);
      });
    }

    it('defaults to GET, leaves out ath and nonce when not given, strips query and fragment, and uses a new jti each time', async () => {
      const { file } = key('ES256');
      const proofs = [];
      for (let i = 0; i < 2; i++) {
        const result = await cli(['proof', '--key', file, '--url', 'https://x.test/a/b?q=1#frag']);
        assert.equal(result.code, 0, result.stderr);
        proofs.push((await jwtVerify(result.stdout.trim(), EmbeddedJWK, { typ: 'dpop+jwt' })).payload);
      }
      const [first, second] = proofs;
      assert.equal(first!['htm'], 'GET');
      assert.equal(first!['htu'], 'https://x.test/a/b');
      assert.equal('ath' in first!, false);
      assert.equal('nonce' in first!, false);
      assert.notEqual(first!.jti, second!.jti);
    });

    it('-X sets the method', async () => {
      const result = await cli(['proof', '--key', key('Ed25519').file, '-X', 'DELETE', '--url', 'https://x.test/a']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((await jwtVerify(result.stdout.trim(), EmbeddedJWK, { typ: 'dpop+jwt' })).payload['htm'], 'DELETE');
    });

    it('fails with a message on stderr and nothing on stdout for missing --key or --url', async () => {
      for (const args of [['--url', 'https://x.test/a'], ['--key', key('ES256').file], []]) {
        const result = await cli(['proof', ...args]);
        assert.equal(result.code, 1, args.join(' '));
        assert.match(result.stderr, /dpop proof: --key and --url are required/);
        assert.equal(result.stdout, '');
      }
    });

    it('fails naming the file for a missing, unreadable or non-key file', async () => {
      const missing = join(dir, 'no-such-key.json');
      const garbage = join(dir, 'garbage.json');
      await writeFile(garbage, 'not json at all');
      const publicOnly = join(dir, 'public.json');
      const { d: _d, ...publicJwk } = key('ES256').jwk;
      await writeFile(publicOnly, JSON.stringify(publicJwk));
      const noAlg = join(dir, 'no-alg.json');
      const { alg: _alg, ...withoutAlg } = key('ES256').jwk;
      await writeFile(noAlg, JSON.stringify(withoutAlg));
      const cases: Array<[string, RegExp]> = [
        [missing, /not a JWK JSON file \(ENOENT/],
        [garbage, /not a JWK JSON file/],
        [publicOnly, /the JWK has no private part/],
        [noAlg, /the JWK needs an alg among/],
        [dir, /not a JWK JSON file \(EISDIR/],
      ];
      for (const [file, message] of cases) {
        const result = await cli(['proof', '--key', file, '--url', 'https://x.test/a']);
        assert.equal(result.code, 1, file);
        assert.ok(result.stderr.includes(`${file}: `), result.stderr);
        assert.match(result.stderr, message);
        assert.equal(result.stdout, '');
      }
    });

    it('refuses a URL that is not http(s)', async () => {
      for (const url of ['ftp://x.test/a', 'not a url', 'https://user@x.test/a']) {
        const result = await cli(['proof', '--key', key('ES256').file, '--url', url]);
        assert.equal(result.code, 1, url);
        assert.match(result.stderr, /--url: .* is not an http\(s\) URL/);
        assert.equal(result.stdout, '');
      }
    });
  });

  describe('inspect', () => {
    let value: string;
    before(async () => {
      const file = join(dir, 'inspect-key.json');
      assert.equal((await cli(['keygen', '--out', file])).code, 0);
      const result = await cli(['proof', '--key', file, '--method', 'POST', '--url', 'https://x.test/a', '--token', 'T', '--nonce', 'N']);
      assert.equal(result.code, 0, result.stderr);
      value = result.stdout.trim();
    });

    it('prints the header (without the jwk), the claims and the thumbprint jose computes', async () => {
      const result = await cli(['inspect', value]);
      assert.equal(result.code, 0, result.stderr);
      const header = decodeProtectedHeader(value);
      const jkt = await calculateJwkThumbprint(header.jwk!);
      assert.ok(result.stdout.includes(`jkt (cnf.jkt of a token bound to this key): ${jkt}\n`), result.stdout);
      const shown = /^header: (.*)$/m.exec(result.stdout)?.[1];
      assert.deepEqual(JSON.parse(shown ?? 'null'), { typ: 'dpop+jwt', alg: 'ES256' });
      const claims = JSON.parse(/^claims: (.*)$/m.exec(result.stdout)?.[1] ?? 'null') as Record<string, unknown>;
      assert.equal(claims['htm'], 'POST');
      assert.equal(claims['ath'], sha256('T'));
      assert.equal(claims['nonce'], 'N');
    });

    it('checks the proof against a request when asked: OK for its own, FAIL (exit 1) for another token', async () => {
      const ok = await cli(['inspect', value, '-X', 'POST', '--url', 'https://x.test/a', '--token', 'T']);
      assert.equal(ok.code, 0, ok.stdout);
      assert.match(ok.stdout, /verified against POST https:\/\/x\.test\/a with ath .*: OK/);
      const bad = await cli(['inspect', value, '--token', 'another']);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /verified: FAIL dpop_ath_mismatch/);
    });

    it('exits non-zero for a proof that is not a JWS, saying so', async () => {
      for (const garbage of ['garbage', 'a.b.c', '..']) {
        const result = await cli(['inspect', garbage]);
        assert.equal(result.code, 1, garbage);
        assert.match(result.stderr, /^portcullis: dpop inspect: not a decodable JWS: /);
        assert.equal(result.stdout, '', 'no analysis of a proof that could not be read');
      }
    });

    it('writes the message about an undecodable proof on stderr', async () => {
      const result = await cli(['inspect', 'garbage']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /not a decodable JWS/);
      assert.equal(result.stdout, '');
    });

    it('fails with a message on stderr without a proof', async () => {
      const result = await cli(['inspect']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /dpop inspect: give the proof/);
    });
  });

  it('an unknown subcommand prints the usage and exits 2; an unknown flag is an error on stderr', async () => {
    const unknown = await cli(['sign']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stdout, /^Usage: portcullis dpop keygen/);
    const badFlag = await cli(['proof', '--kee', 'x', '--url', 'https://x.test/a']);
    assert.equal(badFlag.code, 1);
    assert.match(badFlag.stderr, /^portcullis: .*--kee/);
  });
});
