// Revocation checks of mtls-auth and header-cert-auth against real responders on loopback: a CA run
// with the `openssl ca` CLI (index.txt, serial, config file), its CRL from `openssl ca -gencrl` served
// by node:http, and `openssl ocsp` as the OCSP responder behind a small counting relay, so tests can
// tell whether the gateway asked.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { indent, tlsRequest, type TlsExchange } from './client-cert-support.js';
import type { TestCredential } from '../helpers/pki.js';

const run = promisify(execFile);
const caId = '7f3c2a10-5b1e-4c8e-9a61-2d4f0c9e8b75';

/** A counting HTTP server on 127.0.0.1 (port 0). */
interface CountingServer {
  readonly server: Server;
  readonly port: number;
  requests: number;
}

describe('revocation checks (OCSP first, then CRL)', () => {
  let dir: string;
  let echo: EchoServer;
  let gateway: GatewayProcess;
  let port: number;
  let responder: ChildProcess | undefined;
  let ocsp: CountingServer;
  let crl: CountingServer;
  let httpsCrl: CountingServer;
  const certs = {} as Record<'good' | 'revoked' | 'crlRevoked' | 'fallback' | 'unreachable' | 'httpsCrl' | 'cached' | 'concurrent', TestCredential>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-revocation-'));
    const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    await mkdir(join(dir, 'newcerts'));
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'serial'), '1000\n');
    await writeFile(join(dir, 'crlnumber'), '1000\n');
    await writeFile(
      join(dir, 'ca.cnf'),
      `[ ca ]
default_ca = test_ca
[ test_ca ]
database = ./index.txt
new_certs_dir = ./newcerts
serial = ./serial
crlnumber = ./crlnumber
certificate = ./ca.pem
private_key = ./ca-key.pem
default_md = sha256
default_days = 2
default_crl_days = 1
policy = any_name
unique_subject = no
[ any_name ]
commonName = supplied
`,
    );
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    await openssl('req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Revocation Test CA',
      '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature');

    // Responders first: their ports go into the certificates.
    crl = await countingServer(createHttpServer(), async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(await readFile(join(dir, 'crl.der')));
    });
    const opensslPort = await freePort();
    ocsp = await countingServer(createHttpServer(), (req, res) => {
      // agent: false, because openssl ocsp answers one request per connection.
      const upstream = httpRequest({ host: '127.0.0.1', port: opensslPort, method: req.method, path: req.url, headers: req.headers, agent: false }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    await openssl('req', '-x509', ...ec, '-keyout', 'tls-key.pem', '-out', 'tls.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
    const tls = { cert: await readFile(join(dir, 'tls.pem')), key: await readFile(join(dir, 'tls-key.pem')) };
    httpsCrl = await countingServer(createHttpsServer(tls), async (_req, res) => {
      res.writeHead(200).end(await readFile(join(dir, 'crl.der')));
    });
    const deadPort = await freePort();

    const ocspUrl = `http://127.0.0.1:${ocsp.port}/`;
    const crlUrl = `http://127.0.0.1:${crl.port}/ca.crl`;
    const issue = async (name: string, cn: string, extensions: string[]): Promise<TestCredential> => {
      await writeFile(join(dir, `${name}.ext`), [
        'basicConstraints = critical, CA:false',
        'keyUsage = critical, digitalSignature',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        ...extensions,
        '',
      ].join('\n'));
      await openssl('req', '-new', ...ec, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      await openssl('ca', '-config', 'ca.cnf', '-batch', '-notext', '-extfile', `${name}.ext`, '-in', `${name}.csr`, '-out', `${name}.pem`);
      const certPem = await readFile(join(dir, `${name}.pem`), 'utf8');
      const keyPem = await readFile(join(dir, `${name}-key.pem`), 'utf8');
      const x509 = new X509Certificate(certPem);
      return {
        certPem,
        keyPem,
        chainPem: certPem,
        certPath: join(dir, `${name}.pem`),
        keyPath: join(dir, `${name}-key.pem`),
        chainPath: join(dir, `${name}.pem`),
        serialNumber: x509.serialNumber.toLowerCase(),
        thumbprint: createHash('sha256').update(x509.raw).digest('base64url'),
        keyType: 'ec-p256',
      };
    };
    const client = 'extendedKeyUsage = clientAuth';
    // Issued one after another: `openssl ca` owns index.txt and serial.
    await issue('responder', 'OCSP Responder', ['extendedKeyUsage = OCSPSigning']);
    certs.good = await issue('good', 'good-app', [client, `authorityInfoAccess = OCSP;URI:${ocspUrl}`, `crlDistributionPoints = URI:${crlUrl}`]);
    certs.revoked = await issue('revoked', 'revoked-app', [client, `authorityInfoAccess = OCSP;URI:${ocspUrl}`]);
    certs.crlRevoked = await issue('crl-revoked', 'crl-revoked-app', [client, `crlDistributionPoints = URI:${crlUrl}`]);
    certs.fallback = await issue('fallback', 'fallback-app', [client, `authorityInfoAccess = OCSP;URI:http://127.0.0.1:${deadPort}/`, `crlDistributionPoints = URI:${crlUrl}`]);
    certs.unreachable = await issue('unreachable', 'unreachable-app', [
      client,
      `authorityInfoAccess = OCSP;URI:http://127.0.0.1:${deadPort}/`,
      `crlDistributionPoints = URI:http://127.0.0.1:${deadPort}/ca.crl`,
    ]);
    certs.httpsCrl = await issue('https-crl', 'https-crl-app', [client, `crlDistributionPoints = URI:https://127.0.0.1:${httpsCrl.port}/ca.crl`]);
    certs.cached = await issue('cached', 'cached-app', [client, `authorityInfoAccess = OCSP;URI:${ocspUrl}`]);
    certs.concurrent = await issue('concurrent', 'concurrent-app', [client, `authorityInfoAccess = OCSP;URI:${ocspUrl}`]);
    await openssl('ca', '-config', 'ca.cnf', '-revoke', 'revoked.pem', '-crl_reason', 'keyCompromise');
    await openssl('ca', '-config', 'ca.cnf', '-revoke', 'crl-revoked.pem', '-crl_reason', 'superseded');
    await openssl('ca', '-config', 'ca.cnf', '-revoke', 'fallback.pem', '-crl_reason', 'cessationOfOperation');
    await openssl('ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem');
    await openssl('crl', '-in', 'crl.pem', '-outform', 'DER', '-out', 'crl.der');

    // OpenSSL 3.0's -port takes a port only (it binds every interface); later versions accept host:port.
    responder = spawn('openssl', ['ocsp', '-index', 'index.txt', '-port', String(opensslPort), '-rsigner', 'responder.pem', '-rkey', 'responder-key.pem', '-CA', 'ca.pem', '-ignore_err'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForOutput(responder, /ACCEPT/, 10_000);

    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const caPem = await readFile(join(dir, 'ca.pem'), 'utf8');
    const mtls = (name: string, config: string): string => `      - name: ${name}
        paths: ["/${name}"]
        plugins:
          - name: mtls-auth
            config: { ca_certificates: [${caId}], skip_consumer_lookup: true, ${config} }
`;
    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
ca_certificates:
  - id: ${caId}
    cert: |
${indent(caPem, 6)}
services:
  - name: s
    url: ${echo.url}
    routes:
${mtls('strict', 'revocation_check_mode: STRICT, http_timeout: 5000')}${mtls('ignore', 'revocation_check_mode: IGNORE_CA_ERROR')}${mtls('skip', 'revocation_check_mode: SKIP')}${mtls('cached', 'revocation_check_mode: STRICT, cert_cache_ttl: 60000')}${mtls('concurrent', 'revocation_check_mode: STRICT')}${mtls('tls-verified', 'revocation_check_mode: STRICT')}${mtls('tls-unverified', 'revocation_check_mode: STRICT, ssl_verify: false')}      - name: header
        paths: ["/header"]
        plugins:
          - name: header-cert-auth
            config: { ca_certificates: [${caId}], certificate_header_name: X-Client-Cert, certificate_header_format: url_encoded, secure_source: false, skip_consumer_lookup: true, revocation_check_mode: STRICT }
`,
    });
    port = Number(new URL(gateway.httpsUrl).port);
  });

  after(async () => {
    await gateway?.stop();
    responder?.kill('SIGKILL');
    for (const counting of [ocsp, crl, httpsCrl]) if (counting !== undefined) await close(counting.server);
    await echo?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const get = (route: string, credential: TestCredential): Promise<TlsExchange> =>
    tlsRequest({ port, servername: 'localhost', credential, path: `/${route}/anything` });

  const refusedWith = (reason: string, credential: TestCredential): Promise<Record<string, unknown>> =>
    gateway.waitForLog((l) => l['msg'] === 'client certificate refused' && l['reason'] === reason && l['thumbprint'] === credential.thumbprint);

  function assertFailedVerification(res: TlsExchange): void {
    assert.equal(res.status, 401);
    assert.equal((JSON.parse(res.body) as { message: string }).message, 'TLS certificate failed verification');
  }

  it('lets a certificate through that the OCSP responder reports good, without fetching the CRL', async () => {
    const [ocspBefore, crlBefore] = [ocsp.requests, crl.requests];
    const res = await get('strict', certs.good);
    assert.equal(res.status, 200);
    assert.equal(ocsp.requests, ocspBefore + 1);
    assert.equal(crl.requests, crlBefore, 'OCSP answered, so the CRL is not needed');
  });

  it('refuses a certificate the OCSP responder reports revoked (certificate_revoked)', async () => {
    const res = await get('strict', certs.revoked);
    assertFailedVerification(res);
    assert.equal((await refusedWith('certificate_revoked', certs.revoked))['source'], 'ocsp');
  });

  it('refuses a revoked certificate that names only a CRL distribution point', async () => {
    const [ocspBefore, crlBefore] = [ocsp.requests, crl.requests];
    const res = await get('strict', certs.crlRevoked);
    assertFailedVerification(res);
    assert.equal((await refusedWith('certificate_revoked', certs.crlRevoked))['source'], 'crl');
    assert.equal(crl.requests, crlBefore + 1);
    assert.equal(ocsp.requests, ocspBefore);
  });

  it('falls back to the CRL when the OCSP responder is down, reusing the CRL already fetched for that CA', async () => {
    const crlBefore = crl.requests;
    assertFailedVerification(await get('strict', certs.fallback));
    assert.equal((await refusedWith('certificate_revoked', certs.fallback))['source'], 'crl');
    assert.equal(crl.requests, crlBefore, 'one CRL download serves every certificate of the CA within cert_cache_ttl');
  });

  it('refuses a revoked certificate even under IGNORE_CA_ERROR', async () => {
    assertFailedVerification(await get('ignore', certs.revoked));
  });

  it('STRICT refuses when no responder answers (revocation_unknown); IGNORE_CA_ERROR lets it through with a warning', async () => {
    const strict = await get('strict', certs.unreachable);
    assertFailedVerification(strict);
    await refusedWith('revocation_unknown', certs.unreachable);
    const lenient = await get('ignore', certs.unreachable);
    assert.equal(lenient.status, 200);
    const warning = await gateway.waitForLog((l) => l['thumbprint'] === certs.unreachable.thumbprint && l['msg'] === 'client certificate revocation status unavailable; let through (IGNORE_CA_ERROR)');
    assert.equal(warning['reason'], 'revocation_unknown');
    assert.match(String(warning['detail']), /OCSP http:\/\/127\.0\.0\.1:\d+: ERR_REVOCATION_FETCH.*CRL http:\/\/127\.0\.0\.1:\d+: ERR_REVOCATION_FETCH/);
  });

  it('SKIP never contacts a responder, even for a revoked certificate', async () => {
    const [ocspBefore, crlBefore] = [ocsp.requests, crl.requests];
    assert.equal((await get('skip', certs.revoked)).status, 200);
    assert.equal((await get('skip', certs.crlRevoked)).status, 200);
    assert.deepEqual([ocsp.requests, crl.requests], [ocspBefore, crlBefore]);
  });

  it('reuses an answer within cert_cache_ttl instead of asking the responder again', async () => {
    const before = ocsp.requests;
    assert.equal((await get('cached', certs.cached)).status, 200);
    assert.equal((await get('cached', certs.cached)).status, 200);
    assert.equal(ocsp.requests, before + 1);
  });

  it('shares one OCSP request among concurrent checks of the same certificate', async () => {
    const before = ocsp.requests;
    const results = await Promise.all(Array.from({ length: 5 }, () => get('concurrent', certs.concurrent)));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(ocsp.requests, before + 1);
  });

  it('verifies an https CRL server unless ssl_verify is false', async () => {
    assertFailedVerification(await get('tls-verified', certs.httpsCrl));
    await refusedWith('revocation_unknown', certs.httpsCrl);
    assert.equal((await get('tls-unverified', certs.httpsCrl)).status, 200);
    assert.ok(httpsCrl.requests >= 1);
  });

  it('checks certificates forwarded in a header (header-cert-auth) the same way', async () => {
    const send = async (credential: TestCredential) => {
      const res = await request(`${gateway.httpUrl}/header/anything`, { headers: { 'x-client-cert': encodeURIComponent(credential.certPem) } });
      return { status: res.statusCode, body: await res.body.text() };
    };
    assert.equal((await send(certs.good)).status, 200);
    const revoked = await send(certs.revoked);
    assert.equal(revoked.status, 401);
    assert.equal((JSON.parse(revoked.body) as { message: string }).message, 'TLS certificate failed verification');
  });
});

async function countingServer(server: Server, handle: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<CountingServer> {
  const counting = { server, port: 0, requests: 0 };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    counting.requests++;
    Promise.resolve(handle(req, res)).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  counting.port = (server.address() as AddressInfo).port;
  return counting;
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Resolves once the child prints a line matching `pattern`; rejects at the deadline or when it exits. */
function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`openssl ocsp not ready within ${timeoutMs} ms: ${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`openssl ocsp exited with ${code}: ${seen}`));
    });
  });
}
