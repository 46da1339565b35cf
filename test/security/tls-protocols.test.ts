// The TLS part of the attack corpus: which protocol versions and cipher suites the gateway's TLS
// listener accepts, probed with `openssl s_client` against a real gateway process. Each refusal is
// checked to come from the server (an alert the client received), never from the client's own
// policy; and a control server that accepts everything, probed with the very same arguments,
// proves the client really offered what was refused.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { issueCertificate } from '../../src/certs/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { accessRecord, assertRefused, exchange, request, sClient, sleep, startCountingUpstream, type CountingUpstream, type HandshakeOutcome } from './http-harness.js';

const indent = (pem: string, spaces: number): string =>
  pem
    .trim()
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n');

let pki: TestPki;
let upstream: CountingUpstream;
let gateway: GatewayProcess;
let tlsPort: number;
let httpPort: number;
/** Accepts TLS 1.0 and up with every suite OpenSSL has, same RSA certificate: the control. */
let control: TlsServer;
let controlPort: number;

before(async () => {
  pki = await makeTestPki();
  upstream = await startCountingUpstream();
  // An ECDSA certificate for one SNI: the suites must be the same whichever certificate is served.
  const ec = await issueCertificate({ ca: pki.ca, subject: 'CN=ec.test', usage: 'server', dnsNames: ['ec.test'], keyType: 'ec-p256' });
  gateway = await startGatewayProcess({
    // The default certificate is RSA, so that suites with RSA key exchange could be negotiated at all.
    args: ['--ssl-cert', pki.serverCert.certPath, '--ssl-cert-key', pki.serverCert.keyPath],
    config: `_format_version: "3.0"
certificates:
  - cert: |
${indent(ec.certPem, 6)}
    key: |
${indent(ec.keyPem, 6)}
    snis: [ec.test]
services:
  - name: s
    url: ${upstream.url}
    routes:
      - name: r
        paths: ["/"]
`,
  });
  tlsPort = Number(new URL(gateway.httpsUrl).port);
  httpPort = Number(new URL(gateway.httpUrl).port);
  control = createTlsServer({ cert: pki.serverCert.certPem, key: pki.serverCert.keyPem, minVersion: 'TLSv1', ciphers: 'ALL:eNULL:@SECLEVEL=0' }, (socket) => socket.end());
  control.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  controlPort = (control.address() as AddressInfo).port;
});

after(async () => {
  await gateway?.stop();
  await upstream?.close();
  await new Promise<void>((resolve) => (control === undefined ? resolve() : control.close(() => resolve())));
});

/** Refused by the server with `alert`: no session, an alert received, nothing refused client-side. */
function assertServerRefused(outcome: HandshakeOutcome, alert: string): void {
  assert.equal(outcome.established, null, `a session was established: ${JSON.stringify(outcome.established)}`);
  assert.equal(outcome.refusedByClient, false, `the client refused on its own (a false pass):\n${outcome.output}`);
  assert.equal(outcome.alertReceived, alert, `expected the server's '${alert}' alert:\n${outcome.output}`);
}

/** The session an outcome established (failing the test when there is none). */
function session(outcome: HandshakeOutcome): { protocol: string; cipher: string } {
  assert.ok(outcome.established !== null, `no session was established:\n${outcome.output}`);
  return outcome.established;
}

/** The control server accepted the same offer: the client did offer it. */
async function assertOffered(args: readonly string[], accepted: RegExp): Promise<void> {
  const outcome = await sClient(controlPort, args);
  assert.ok(outcome.established !== null, `the control server refused ${args.join(' ')} too, so the probe proves nothing:\n${outcome.output}`);
  assert.match(`${outcome.established.protocol} ${outcome.established.cipher}`, accepted);
}

const sniVariants: Array<[string, string[]]> = [
  ['with SNI', ['-servername', 'localhost']],
  ['without SNI', []],
];

describe('TLS protocol versions', () => {
  for (const [flag, version] of [
    ['-tls1', 'TLSv1'],
    ['-tls1_1', 'TLSv1.1'],
  ] as const) {
    for (const [sni, sniArgs] of sniVariants) {
      it(`refuses ${version} (${sni}): the server's protocol_version alert`, async () => {
        // SECLEVEL=0: OpenSSL 3 would otherwise refuse TLS 1.0/1.1 itself, and the probe would prove nothing.
        const args = [flag, '-cipher', 'DEFAULT:@SECLEVEL=0', ...sniArgs];
        assertServerRefused(await sClient(tlsPort, args), 'protocol version');
        await assertOffered(args, new RegExp(`^${version.replace('.', '\\.')} `));
      });
    }
  }

  for (const [sni, sniArgs] of sniVariants) {
    it(`accepts TLS 1.2 (${sni}) with a forward-secret AEAD suite`, async () => {
      const { protocol, cipher } = session(await sClient(tlsPort, ['-tls1_2', ...sniArgs]));
      assert.equal(protocol, 'TLSv1.2');
      assert.match(cipher, /^ECDHE-RSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    });

    it(`accepts TLS 1.3 (${sni})`, async () => {
      const { protocol, cipher } = session(await sClient(tlsPort, ['-tls1_3', ...sniArgs]));
      assert.equal(protocol, 'TLSv1.3');
      assert.match(cipher, /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
    });
  }
});

describe('TLS 1.2 cipher suites', () => {
  // Node's default cipher list (HIGH:…) accepted every one of the last three before the listener
  // was given its own list; the first was already refused.
  const weak: Array<[string, string, RegExp]> = [
    ['NULL, anonymous, export, RC4, DES, 3DES and MD5 suites', 'RC4:DES:3DES:NULL:EXPORT:aNULL:MD5:@SECLEVEL=0', /(NULL|ADH|AECDH)/],
    ['AES128-SHA (RSA key exchange: no forward secrecy; CBC with SHA-1)', 'AES128-SHA', /AES128-SHA$/],
    ['AES256-GCM-SHA384 (RSA key exchange: no forward secrecy)', 'AES256-GCM-SHA384', /AES256-GCM-SHA384$/],
    ['ECDHE-RSA-AES128-SHA (CBC with SHA-1)', 'ECDHE-RSA-AES128-SHA', /ECDHE-RSA-AES128-SHA$/],
  ];
  for (const [name, cipher, accepted] of weak) {
    for (const [sni, sniArgs] of sniVariants) {
      it(`refuses ${name} (${sni}): the server's handshake_failure alert`, async () => {
        const args = ['-tls1_2', '-cipher', cipher, ...sniArgs];
        assertServerRefused(await sClient(tlsPort, args), 'handshake failure');
        await assertOffered(args, accepted);
      });
    }
  }

  it('serves the same suites for an SNI with its own (ECDSA) certificate', async () => {
    const { protocol, cipher } = session(await sClient(tlsPort, ['-tls1_2', '-servername', 'ec.test']));
    assert.equal(protocol, 'TLSv1.2');
    assert.match(cipher, /^ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    assertServerRefused(await sClient(tlsPort, ['-tls1_2', '-servername', 'ec.test', '-cipher', 'ECDHE-ECDSA-AES128-SHA']), 'handshake failure');
  });
});

describe('TLS connections and the HTTP layer', () => {
  it("refuses renegotiation in OpenSSL (the client's no_renegotiation alert), logs tls_renegotiation_refused, the gateway keeps serving", async () => {
    const socket: TLSSocket = await new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => resolve(s));
      s.once('error', reject);
    });
    let failure: Error | null = null;
    socket.on('error', (error: Error) => (failure = error));
    let received = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (received += chunk));
    const marks = gateway.logs.length;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await new Promise<'renegotiated' | 'refused' | 'closed' | 'still open'>((resolve) => {
      socket.once('close', () => resolve('closed'));
      // Node calls back only if the handshake completes or fails; a dropped connection just closes.
      const started = socket.renegotiate({ rejectUnauthorized: false }, (error) => resolve(error === undefined || error === null ? 'renegotiated' : 'refused'));
      if (!started) resolve('refused');
      timer = setTimeout(() => resolve('still open'), 3000);
    });
    clearTimeout(timer);
    assert.ok(outcome === 'closed' || outcome === 'refused', `renegotiation: ${outcome}`);
    await sleep(100);
    assert.ok(socket.destroyed, 'the gateway kept the connection after a renegotiation attempt');
    socket.destroy();
    // The server's OpenSSL answered the new ClientHello with the no_renegotiation alert: no handshake ran.
    assert.match(String((failure as Error | null)?.message), /no renegotiation/);
    assert.equal(received, '', 'nothing readable after the alert');
    const line = await gateway.waitForLog((l) => gateway.logs.indexOf(l) >= marks && (l['access'] as { reason?: string } | undefined)?.reason === 'tls_renegotiation_refused');
    const record = line['access'] as Record<string, unknown>;
    assert.equal(record['status'], 400);
    assert.equal(record['sni'], 'localhost');
    const after = await exchange(tlsPort, request(['GET /still-serving HTTP/1.1', 'Host: localhost', 'X-Request-Id: tls-after-reneg', 'Connection: close']), {
      tls: { servername: 'localhost', rejectUnauthorized: false },
    });
    assert.equal(after.responses[0]?.status, 200);
  });

  it('a malformed request over TLS is refused like over plain HTTP, and logged with its SNI', async () => {
    const mark = upstream.requests.length;
    const result = await exchange(tlsPort, request(['POST /smuggle HTTP/1.1', 'Host: localhost', 'Content-Length: 4', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), {
      tls: { servername: 'localhost', rejectUnauthorized: false },
    });
    const record = await assertRefused(gateway, result, 400, 'bad_request');
    assert.equal(record['sni'], 'localhost');
    assert.equal(record.method, 'POST');
    assert.equal(record['path'], '/smuggle');
    await sleep(150);
    assert.deepEqual(upstream.since(mark), []);
  });

  it('a TLS ClientHello sent to the plain HTTP listener is a bad request, not a request', async () => {
    const mark = upstream.requests.length;
    const hello = Buffer.from('16030100a5010000a10303' + '00'.repeat(32) + '0000', 'hex');
    const result = await exchange(httpPort, hello);
    const record = await assertRefused(gateway, result, 400, 'bad_request');
    assert.equal(record.method, '');
    await sleep(150);
    assert.deepEqual(upstream.since(mark), []);
  });

  it('plain HTTP sent to the TLS listener gets no HTTP answer and reaches nothing', async () => {
    const mark = upstream.requests.length;
    const result = await exchange(tlsPort, request(['GET /plain HTTP/1.1', 'Host: localhost', 'X-Request-Id: plain-on-tls', 'Connection: close']), { timeoutMs: 3000 });
    assert.ok(!/^HTTP\//.test(result.text), `an HTTP answer on the TLS port: ${result.text.slice(0, 80)}`);
    assert.ok(result.closedByServer);
    await sleep(150);
    assert.deepEqual(upstream.since(mark), []);
    await assert.rejects(accessRecord(gateway, 'plain-on-tls', 300));
  });
});
