import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type TLSSocket } from 'node:tls';
import { describe, it } from 'node:test';
import { startEchoServer } from '../../src/echo/index.js';
import { accessRecords, startGatewayProcess, useEchoGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { admin } from '../helpers/admin.js';
import { makeTestPki } from '../helpers/pki.js';
import { caIds, caSection, tlsRequest } from './client-cert-support.js';

/** The thumbprint the gateway logged for the request with this id. */
async function loggedThumbprint(gateway: GatewayProcess, requestId: string): Promise<unknown> {
  await gateway.waitForLog((l) => l['msg'] === 'request' && (l['access'] as Record<string, unknown>)['request_id'] === requestId);
  return accessRecords(gateway).find((r) => r['request_id'] === requestId)?.['thumbprint'];
}

let counter = 0;
const nextId = (): string => `cc-${process.pid}-${++counter}`;

function opensslSession(port: number, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    // Let the session (and TLS 1.3 tickets) arrive, then close stdin.
    setTimeout(() => child.stdin.end(), 300);
    const timer = setTimeout(() => child.kill(), 10_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

describe('tls-handshake-modifier on every handshake (route without snis)', () => {
  const suite = useEchoGateway(({ echoUrl }) => `_format_version: "3.0"
services:
  - name: s
    url: ${echoUrl}
    routes:
      - name: r
        paths: ["/"]
        plugins:
          - name: tls-handshake-modifier
            config: { tls_client_certificate: REQUEST }
`);

  it('asks for a certificate and reports its RFC 8705 thumbprint', async () => {
    const id = nextId();
    const res = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.client, headers: { 'x-request-id': id } });
    assert.equal(res.status, 200);
    assert.equal(await loggedThumbprint(suite.gateway, id), suite.pki.client.thumbprint);
  });

  it('still completes the handshake without a certificate, or with one from an unknown CA', async () => {
    const none = await tlsRequest({ port: suite.port, servername: 'localhost' });
    assert.equal(none.status, 200);
    const id = nextId();
    const foreign = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.otherCaClient, headers: { 'x-request-id': id } });
    assert.equal(foreign.status, 200);
    assert.equal(await loggedThumbprint(suite.gateway, id), suite.pki.otherCaClient.thumbprint);
  });

  it('asks clients that send no SNI too', async () => {
    const id = nextId();
    await tlsRequest({ port: suite.port, credential: suite.pki.client, headers: { 'x-request-id': id } });
    assert.equal(await loggedThumbprint(suite.gateway, id), suite.pki.client.thumbprint);
  });

  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`a session resumed by ticket (${maxVersion}) reports the same client certificate`, async () => {
      const first = await tlsRequest({ port: suite.port, servername: 'localhost', credential: suite.pki.client, maxVersion });
      assert.ok(first.session, 'no session ticket was issued');
      const id = nextId();
      const second = await tlsRequest({ port: suite.port, servername: 'localhost', session: first.session, credential: suite.pki.client, maxVersion, headers: { 'x-request-id': id } });
      assert.equal(second.reused, true, 'the session was not resumed');
      assert.equal(second.status, 200);
      assert.equal(await loggedThumbprint(suite.gateway, id), suite.pki.client.thumbprint);
    });
  }

  it('a TLS 1.2 session id without a ticket is not resumed, so the certificate is asked again', async () => {
    const common = ['-tls1_2', '-no_ticket', '-servername', 'localhost', '-cert', suite.pki.client.certPath, '-key', suite.pki.client.keyPath];
    const sessionFile = `${suite.pki.dir}/session-${process.pid}.pem`;
    const first = await opensslSession(suite.port, [...common, '-sess_out', sessionFile]);
    assert.match(first, /New, TLSv1\.2/);
    const second = await opensslSession(suite.port, [...common, '-sess_in', sessionFile]);
    assert.match(second, /New, TLSv1\.2/, 'resumed by session id although the server keeps no session cache');
    assert.match(second, /Acceptable client certificate CA names|Requested Signature Algorithms|Client Certificate Types/);
  });

  it('refuses renegotiation, so the certificate cannot change under a connection', async () => {
    let socket: TLSSocket | undefined;
    const outcome = await new Promise<string>((resolve) => {
      // A deadline instead of a hang if neither side ever reacts.
      setTimeout(() => resolve('timeout: neither refused nor answered'), 5000).unref();
      const tls: TLSSocket = connect({ host: '127.0.0.1', port: suite.port, servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => {
        tls.renegotiate({ rejectUnauthorized: false }, (error) => resolve(error === null ? 'renegotiated' : `error: ${error.message}`));
        // The server only sees the new ClientHello when it reads; a request makes it read.
        tls.write('GET /anything HTTP/1.1\r\nHost: localhost\r\n\r\n');
      });
      socket = tls;
      tls.on('data', () => resolve('answered'));
      tls.on('error', (error: Error) => resolve(`error: ${error.message}`));
      tls.on('close', () => resolve('closed'));
    });
    socket?.destroy();
    assert.match(outcome, /^(error|closed)/, `renegotiation was not refused: ${outcome}`);
  });
});

describe('certificate requests per SNI (every route of the plugin lists snis)', () => {
  const suite = useEchoGateway(({ echoUrl }) => `_format_version: "3.0"
services:
  - name: s
    url: ${echoUrl}
    routes:
      - name: mtls
        snis: [mtls.test]
        protocols: [https]
        paths: ["/"]
      - name: public
        snis: [public.test]
        protocols: [https]
        paths: ["/"]
plugins:
  - name: tls-handshake-modifier
    route: mtls
`);

  it('asks only on handshakes for the listed SNI', async () => {
    const asked = nextId();
    const notAsked = nextId();
    await tlsRequest({ port: suite.port, servername: 'mtls.test', credential: suite.pki.client, headers: { 'x-request-id': asked } });
    await tlsRequest({ port: suite.port, servername: 'public.test', credential: suite.pki.client, headers: { 'x-request-id': notAsked } });
    assert.equal(await loggedThumbprint(suite.gateway, asked), suite.pki.client.thumbprint);
    assert.equal(await loggedThumbprint(suite.gateway, notAsked), null);
  });

  it('does not resume a session from an SNI that was not asked on one that is', async () => {
    const first = await tlsRequest({ port: suite.port, servername: 'public.test', credential: suite.pki.client });
    const id = nextId();
    const second = await tlsRequest({ port: suite.port, servername: 'mtls.test', credential: suite.pki.client, session: first.session, headers: { 'x-request-id': id } });
    assert.equal(second.reused, false);
    assert.equal(await loggedThumbprint(suite.gateway, id), suite.pki.client.thumbprint);
  });
});

describe('certificate requests follow configuration changes without a restart', () => {
  it('asks on new connections once tls-handshake-modifier is added through the admin API, and stops once removed', async () => {
    const pki = await makeTestPki();
    const echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const plain = `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${echo.url}\n    routes:\n      - name: r\n        paths: ["/"]\n`;
    const gateway = await startGatewayProcess({ config: plain });
    try {
      const port = Number(new URL(gateway.httpsUrl).port);
      const before = nextId();
      assert.equal((await tlsRequest({ port, servername: 'localhost', credential: pki.client, headers: { 'x-request-id': before } })).status, 200);
      assert.equal(await loggedThumbprint(gateway, before), null, 'a certificate was asked for without any plugin needing it');

      const withPlugin = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'tls-handshake-modifier', route: { name: 'r' } });
      assert.equal(withPlugin.status, 201, withPlugin.text);
      const during = nextId();
      await tlsRequest({ port, servername: 'localhost', credential: pki.client, headers: { 'x-request-id': during } });
      assert.equal(await loggedThumbprint(gateway, during), pki.client.thumbprint);

      assert.equal((await admin(gateway.adminUrl, 'DELETE', `/plugins/${withPlugin.json<{ id: string }>().id}`)).status, 204);
      const after = nextId();
      await tlsRequest({ port, servername: 'localhost', credential: pki.client, headers: { 'x-request-id': after } });
      assert.equal(await loggedThumbprint(gateway, after), null);
    } finally {
      await gateway.stop();
      await echo.close();
    }
  });
});

describe('mtls-auth send_ca_dn', () => {
  it('names the CA in the CertificateRequest only for the SNIs of a route whose plugin sets it', async () => {
    const pki = await makeTestPki();
    const echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const mtls = (sendCaDn: boolean): string => `        plugins:
          - name: mtls-auth
            config: { ca_certificates: [${caIds.root}], send_ca_dn: ${sendCaDn}, skip_consumer_lookup: true, revocation_check_mode: SKIP }`;
    const gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
${caSection(pki)}
services:
  - name: s
    url: ${echo.url}
    routes:
      - name: named
        snis: [named.test]
        protocols: [https]
        paths: ["/"]
${mtls(true)}
      - name: quiet
        snis: [quiet.test]
        protocols: [https]
        paths: ["/"]
${mtls(false)}
`,
    });
    try {
      const port = Number(new URL(gateway.httpsUrl).port);
      const named = await opensslSession(port, ['-servername', 'named.test']);
      assert.match(named, /Acceptable client certificate CA names\s*\n.*CN = Portcullis Test Root CA/);
      const quiet = await opensslSession(port, ['-servername', 'quiet.test']);
      assert.match(quiet, /No client certificate CA names sent/);
      assert.match(quiet, /Requested Signature Algorithms/, 'the certificate is still requested');
    } finally {
      await gateway.stop();
      await echo.close();
    }
  });
});
