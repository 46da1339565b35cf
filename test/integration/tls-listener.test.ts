import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, type PeerCertificate } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { issueCertificate } from '../../src/certs/index.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { rawExchange } from '../helpers/http.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

/** Connects with an SNI and returns the certificate the gateway served. */
function servedCertificate(port: number, servername: string | undefined): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

function indent(pem: string, spaces: number): string {
  return pem.trim().split('\n').map((line) => ' '.repeat(spaces) + line).join('\n');
}

describe('TLS listeners', () => {
  let pki: TestPki;
  let echo: EchoServer;
  let gateway: GatewayProcess;
  let tlsPort: number;

  before(async () => {
    pki = await makeTestPki();
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const api = await issueCertificate({ ca: pki.ca, subject: 'CN=api.example.test', usage: 'server', dnsNames: ['api.example.test'], keyType: 'ec-p256' });
    const wild = await issueCertificate({ ca: pki.ca, subject: 'CN=*.wild.test', usage: 'server', dnsNames: ['*.wild.test'], keyType: 'ec-p256' });
    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
certificates:
  - cert: |
${indent(api.certPem, 6)}
    key: |
${indent(api.keyPem, 6)}
    snis: [api.example.test]
  - cert: |
${indent(wild.certPem, 6)}
    key: |
${indent(wild.keyPem, 6)}
    snis: ["*.wild.test"]
services:
  - name: s
    url: ${echo.url}
    routes:
      - name: r
        paths: ["/"]
`,
    });
    tlsPort = Number(new URL(gateway.httpsUrl).port);
  });

  after(async () => {
    await gateway?.stop();
    await echo?.close();
  });

  it('serves the certificate configured for the SNI', async () => {
    assert.equal((await servedCertificate(tlsPort, 'api.example.test')).subject.CN, 'api.example.test');
  });

  it('serves a wildcard certificate for a matching SNI', async () => {
    assert.equal((await servedCertificate(tlsPort, 'a.wild.test')).subject.CN, '*.wild.test');
  });

  it('serves the self-signed default certificate for an unknown SNI or none', async () => {
    assert.equal((await servedCertificate(tlsPort, 'unknown.test')).subject.CN, 'localhost');
    assert.equal((await servedCertificate(tlsPort, undefined)).subject.CN, 'localhost');
  });

  it('refuses TLS 1.1 and accepts TLS 1.2 (checked with openssl s_client)', async () => {
    const attempt = (flag: string): Promise<string> =>
      new Promise((resolve) => {
        // stdin from /dev/null: s_client handshakes, reads EOF and exits.
        const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, flag, '-servername', 'localhost'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        const timer = setTimeout(() => child.kill(), 10_000);
        child.on('close', () => {
          clearTimeout(timer);
          resolve(out);
        });
      });
    const old = await attempt('-tls1_1');
    assert.match(old, /alert protocol version|no protocols available|unsupported protocol/i);
    assert.match(old, /Cipher is \(NONE\)/, 'a TLS 1.1 session was established');
    const modern = await attempt('-tls1_2');
    assert.match(modern, /New, TLSv1\.2, Cipher is [A-Z0-9-]+/);
  });

  it('answers 431 to a request head larger than the limit', async () => {
    const port = Number(new URL(gateway.httpUrl).port);
    const response = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    assert.match(response, /^HTTP\/1\.1 431/);
  });

  it('answers 400 to a request with both Content-Length and Transfer-Encoding', async () => {
    const port = Number(new URL(gateway.httpUrl).port);
    const response = await rawExchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    assert.match(response, /^HTTP\/1\.1 400/);
  });
});
