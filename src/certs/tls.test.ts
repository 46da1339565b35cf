// The certificates made here must satisfy OpenSSL in a real handshake, not just parse.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import {
  createCertificateAuthority,
  createSelfSignedCertificate,
  issueCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from './index.js';

interface ServerView {
  authorized: boolean;
  authorizationError: string | null;
  cn: string | null;
}

/** A TLS server asking for (but not requiring) a client certificate, reporting what it saw. */
async function startProbeServer(key: string, cert: string, ca: string[]): Promise<{ port: number; close(): Promise<void> }> {
  const server = tls.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false }, (socket) => {
    const peer = socket.getPeerCertificate();
    const cn = peer.subject?.CN;
    const view: ServerView = {
      authorized: socket.authorized,
      // Node types this as Error, but at runtime it is OpenSSL's code as a string (null when authorized).
      authorizationError: socket.authorizationError == null ? null : String(socket.authorizationError),
      cn: typeof cn === 'string' ? cn : null,
    };
    socket.end(JSON.stringify(view));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Connects, and returns what the server reported plus whether the client trusted the server. */
async function connect(opts: tls.ConnectionOptions): Promise<ServerView & { clientAuthorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(opts);
    let body = '';
    let clientAuthorized = false;
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => (clientAuthorized = socket.authorized));
    socket.on('data', (chunk: string) => (body += chunk));
    socket.on('end', () => {
      try {
        resolve({ ...(JSON.parse(body) as ServerView), clientAuthorized });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('error', reject);
  });
}

describe('certificates in a real TLS handshake', () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let intermediate: CertificateAuthority;
  let server: IssuedCertificate;
  let probe: { port: number; close(): Promise<void> };

  before(async () => {
    ca = await createCertificateAuthority({ subject: 'CN=Portcullis Dev Root CA' });
    otherCa = await createCertificateAuthority({ subject: 'CN=Somebody Else CA', keyType: 'ec-p256' });
    intermediate = await createCertificateAuthority({ subject: 'CN=Dev Intermediate CA', issuer: ca, keyType: 'ec-p256' });
    server = await issueCertificate({ ca, subject: 'CN=localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
    probe = await startProbeServer(server.keyPem, server.certPem, [ca.certPem]);
  });

  after(async () => {
    await probe.close();
  });

  const dial = (client?: { cert: string; key: string }, extra: tls.ConnectionOptions = {}) =>
    connect({ host: '127.0.0.1', port: probe.port, servername: 'localhost', ca: [ca.certPem], ...client, ...extra });

  it('accepts a client certificate from the trusted CA, and the client trusts the server', async () => {
    const client = await issueCertificate({ ca, subject: 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US', usage: 'client' });
    const seen = await dial({ cert: client.certPem, key: client.keyPem });
    assert.deepEqual(seen, { authorized: true, authorizationError: null, cn: 'client-app', clientAuthorized: true });
  });

  it('the server certificate passes hostname checks for 127.0.0.1 without SNI', async () => {
    const seen = await dial(undefined, { servername: undefined });
    assert.equal(seen.clientAuthorized, true);
    assert.equal(seen.authorized, false, 'no client certificate was sent');
  });

  it('rejects a client certificate from another CA', async () => {
    const stranger = await issueCertificate({ ca: otherCa, subject: 'CN=stranger', usage: 'client', keyType: 'ec-p256' });
    const seen = await dial({ cert: stranger.certPem, key: stranger.keyPem });
    assert.equal(seen.authorized, false);
    assert.equal(seen.cn, 'stranger');
    assert.ok(seen.authorizationError !== null && seen.authorizationError.length > 0);
  });

  it('accepts a leaf from an intermediate when the client sends leaf + intermediate', async () => {
    const leaf = await issueCertificate({ ca: intermediate, subject: 'CN=intermediate-app', usage: 'client', keyType: 'ec-p256' });
    const seen = await dial({ cert: leaf.chainPem, key: leaf.keyPem });
    assert.deepEqual(seen, { authorized: true, authorizationError: null, cn: 'intermediate-app', clientAuthorized: true });
    const leafOnly = await dial({ cert: leaf.certPem, key: leaf.keyPem });
    assert.equal(leafOnly.authorized, false, 'without the intermediate the chain cannot be built');
    assert.match(leafOnly.authorizationError ?? '', /UNABLE_TO_(GET_ISSUER_CERT_LOCALLY|VERIFY_LEAF_SIGNATURE)/);
  });

  it('reports an expired client certificate as CERT_HAS_EXPIRED', async () => {
    const expired = await issueCertificate({
      ca,
      subject: 'CN=expired-app',
      usage: 'client',
      keyType: 'ec-p256',
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const seen = await dial({ cert: expired.certPem, key: expired.keyPem });
    assert.equal(seen.authorized, false);
    assert.equal(seen.authorizationError, 'CERT_HAS_EXPIRED');
  });

  it('reports a self-signed client certificate as DEPTH_ZERO_SELF_SIGNED_CERT', async () => {
    const self = await createSelfSignedCertificate({ subject: 'CN=self-signed-app', usage: 'client', keyType: 'ec-p256' });
    const seen = await dial({ cert: self.certPem, key: self.keyPem });
    assert.equal(seen.authorized, false);
    assert.equal(seen.authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('accepts a client certificate without extendedKeyUsage, refuses a server-only one as INVALID_PURPOSE', async () => {
    const noEku = await issueCertificate({ ca, subject: 'CN=no-eku-app', usage: 'client', keyType: 'ec-p256', omitExtendedKeyUsage: true });
    assert.equal((await dial({ cert: noEku.certPem, key: noEku.keyPem })).authorized, true);
    const serverOnly = await issueCertificate({ ca, subject: 'CN=server-only', usage: 'server', keyType: 'ec-p256' });
    const seen = await dial({ cert: serverOnly.certPem, key: serverOnly.keyPem });
    assert.equal(seen.authorized, false);
    assert.equal(seen.authorizationError, 'INVALID_PURPOSE');
  });

  it('a self-signed server certificate is trusted when it is its own trust anchor', async () => {
    const self = await createSelfSignedCertificate({ subject: 'CN=localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], keyType: 'ec-p256' });
    const own = await startProbeServer(self.keyPem, self.certPem, [ca.certPem]);
    try {
      const seen = await connect({ host: '127.0.0.1', port: own.port, servername: 'localhost', ca: [self.certPem] });
      assert.equal(seen.clientAuthorized, true);
    } finally {
      await own.close();
    }
  });

  it('an EC P-256 server certificate signed by an RSA CA works too', async () => {
    const ecServer = await issueCertificate({ ca, subject: 'CN=localhost', usage: 'both', dnsNames: ['localhost'], keyType: 'ec-p256' });
    const own = await startProbeServer(ecServer.keyPem, ecServer.certPem, [ca.certPem]);
    try {
      const seen = await connect({ host: '127.0.0.1', port: own.port, servername: 'localhost', ca: [ca.certPem], cert: ecServer.certPem, key: ecServer.keyPem });
      assert.deepEqual(seen, { authorized: true, authorizationError: null, cn: 'localhost', clientAuthorized: true });
    } finally {
      await own.close();
    }
  });
});
