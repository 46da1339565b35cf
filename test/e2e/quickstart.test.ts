// `portcullis quickstart` (what `npm start` runs) from a clean prefix, on ephemeral ports: `--check`
// passes every step; the interactive run prints the tutorial's commands, which work as printed; a
// busy port ends the start with one line; Ctrl-C stops everything.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeUserShell, parseCurlInclude, type UserShell } from './shell.js';

const ephemeral = "--proxy-listen '127.0.0.1:0, 127.0.0.1:0 ssl' --admin-listen 127.0.0.1:0 --idp-port 0 --echo-port 0";

/** The command blocks printed under "Try it", without their indentation. */
function printedCommands(stdout: string): string[] {
  const start = stdout.indexOf('Try it');
  const end = stdout.indexOf('Requests through the gateway');
  assert.ok(start !== -1 && end > start, stdout);
  const body = stdout.slice(stdout.indexOf('\n', start) + 1, end);
  return body
    .split('\n')
    .map((l) => l.replace(/^ {2}/, ''))
    .join('\n')
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => b !== '');
}

describe('portcullis quickstart', () => {
  let shell: UserShell;
  let busy: Server;

  before(async () => {
    shell = await makeUserShell();
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise((resolve) => busy.close(resolve));
  });

  it('--check from a clean prefix makes the certificates, runs every step and passes each', async () => {
    const run = await shell.run(`portcullis quickstart --check --prefix qs ${ephemeral}`);
    assert.equal(run.code, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    assert.match(run.stdout, /certificates {3}qs\/certs\/ \(made now\)/);
    assert.match(run.stdout, /qs\/deck\/3-openid-connect\.yaml +created 1, updated 0, unchanged 0/);
    for (const line of [
      /^PASS {2}token issued and bound: 200 from the IdP; cnf\."x5t#S256" \S+ is client\.crt's thumbprint$/m,
      /^PASS {2}200 with the certificate: GET \/anything → 200, reason jwt_verified$/m,
      /^PASS {2}401 without the certificate: GET \/anything → 401, WWW-Authenticate: Bearer realm="[^"]+", error="invalid_token", reason pop_certificate_missing$/m,
      /^PASS {2}401 with another client's certificate: GET \/anything → 401, WWW-Authenticate: Bearer realm="[^"]+", error="invalid_token", reason pop_certificate_mismatch$/m,
      /^PASS {2}401 without token: GET \/anything → 401, WWW-Authenticate: Bearer realm="[^"]+", reason no_token$/m,
      /^PASS {2}DPoP token issued and bound: 200 from the IdP; token_type DPoP, cnf\.jkt \S{43} is the client key's thumbprint$/m,
      /^PASS {2}200 with a fresh DPoP proof: GET \/dpop → 200, reason jwt_verified_dpop$/m,
      /^PASS {2}401 for the same proof replayed: GET \/dpop → 401, WWW-Authenticate: DPoP algs="[^"]+", realm="[^"]+", error="invalid_dpop_proof", resource_metadata="https:\/\/localhost:\d+\/\.well-known\/oauth-protected-resource\/dpop", reason dpop_proof_replayed$/m,
      /^PASS {2}401 without a proof: GET \/dpop → 401, WWW-Authenticate: DPoP algs="[^"]+", realm="[^"]+", error="invalid_dpop_proof", resource_metadata="https:\/\/localhost:\d+\/\.well-known\/oauth-protected-resource\/dpop", reason dpop_proof_missing$/m,
      /^PASS {2}401 for the DPoP token sent as Bearer: GET \/dpop → 401, WWW-Authenticate: DPoP algs="[^"]+", realm="[^"]+", error="invalid_dpop_proof", resource_metadata="https:\/\/localhost:\d+\/\.well-known\/oauth-protected-resource\/dpop", reason dpop_token_downgraded$/m,
      /^PASS {2}protected resource metadata: GET \/\.well-known\/oauth-protected-resource\/dpop → 200, resource https:\/\/localhost:\d+\/dpop, authorization_servers \[https:\/\/localhost:\d+\/realms\/master\], dpop_bound_access_tokens_required true$/m,
      /^11 of 11 checks passed$/m,
    ]) {
      assert.match(run.stdout, line);
    }
    assert.doesNotMatch(run.stdout, /^FAIL/m);
  });

  it("prints the tutorial's commands with this run's ports and paths, which work as printed; Ctrl-C stops everything", async () => {
    const quickstart = await shell.start(`portcullis quickstart --prefix qs ${ephemeral}`, /Press Ctrl-C to stop\.\n/, { env: { INIT_CWD: shell.home } });
    try {
      assert.match(quickstart.stdout(), /certificates {3}qs\/certs\/ \(made earlier, reused\)/);
      const [token, withCertificate, withoutCertificate, dpopCall, dpopRefusals, metadata] = printedCommands(quickstart.stdout()).map((c) => c.replaceAll('npx portcullis', 'portcullis'));
      assert.match(token ?? '', /curl -s --location --request POST 'https:\/\/localhost:\d+\/realms\/master\/protocol\/openid-connect\/token'/);
      assert.match(token ?? '', /--cert qs\/certs\/client\.crt \\\n {2}--key qs\/certs\/client\.key \\\n {2}--cacert qs\/certs\/rootCA\.crt/);
      assert.match(withCertificate ?? '', /curl -isk \\\n {2}-X GET "https:\/\/localhost:\d+\/anything"/);

      const ok = await shell.run(`${token}\n${withCertificate}`);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(parseCurlInclude(ok.stdout).status, 200, ok.stdout);
      const refused = await shell.run(`${token}\n${withoutCertificate}`);
      const response = parseCurlInclude(refused.stdout);
      assert.equal(response.status, 401, refused.stdout);
      assert.match(response.headers['www-authenticate'] ?? '', /error="invalid_token"/);

      // Beyond the tutorial: the DPoP commands, as printed (a key, a bound token, a fresh proof).
      const dpop = await shell.run(dpopCall ?? '');
      assert.equal(dpop.code, 0, dpop.stderr);
      assert.equal(parseCurlInclude(dpop.stdout.slice(dpop.stdout.indexOf('HTTP/'))).status, 200, dpop.stdout);
      const again = await shell.run(`${dpopCall}\n${dpopRefusals}`);
      // A refusal's JSON body ends without a newline: the next status line follows on the same line.
      const statuses = [...again.stdout.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      assert.deepEqual(statuses, [200, 401, 401], again.stdout);
      assert.match(again.stdout, /^200$/m, 'the first use of the proof');
      const document = await shell.run(metadata ?? '');
      assert.equal(document.code, 0, document.stderr);
      assert.equal((JSON.parse(document.stdout) as { dpop_bound_access_tokens_required?: unknown }).dpop_bound_access_tokens_required, true, document.stdout);
    } finally {
      assert.equal(await quickstart.stop('SIGINT'), 0, quickstart.stderr());
    }
    assert.match(quickstart.stdout(), /\[gateway\] GET \/anything → 200 {2}openid-connect: jwt_verified/);
    assert.match(quickstart.stdout(), /\[gateway\] GET \/anything → 401 {2}openid-connect: pop_certificate_missing {2}\(no client certificate\)/);
    assert.match(quickstart.stderr(), /portcullis quickstart: stopped\n$/);
  });

  it('a port in use ends the start with one line naming the port and the flag that moves it', async () => {
    const port = (busy.address() as { port: number }).port;
    const run = await shell.run(
      `portcullis quickstart --check --prefix ${join(shell.home, 'qs')} --proxy-listen '127.0.0.1:0 ssl' --admin-listen 127.0.0.1:${port} --idp-port 0 --echo-port 0`,
    );
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(`^portcullis: port ${port} is already in use \\(gateway admin API on 127\\.0\\.0\\.1:${port}\\); stop what uses it, or choose another port with --admin-listen$`, 'm'),
    );
    assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(run.stdout, /PASS|FAIL/);
  });
});
