import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority, createSelfSignedCertificate, issueCertificate } from '../certs/index.js';
import type { IssuedCertificate } from '../certs/index.js';
import type { Config, Service } from '../config/types.js';
import { sendUpstream, UpstreamError } from './send.js';
import { close, configWith, listen, serviceFor } from './fixtures.js';
import { UpstreamPools } from './upstream-pools.js';

/** What the HTTPS upstream saw of the connection. */
interface Seen {
  servername: string | false | null | undefined;
  clientCertSubject: string | string[] | undefined;
}

let server: Server;
let port: number;
let serverCert: IssuedCertificate;
let chainedServer: Server;
let chainedPort: number;
let rootPem: string;
let clientCert: IssuedCertificate;
const seen: Seen[] = [];

before(async () => {
  serverCert = await createSelfSignedCertificate({ subject: 'CN=localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], keyType: 'ec-p256' });
  clientCert = await createSelfSignedCertificate({ subject: 'CN=portcullis-client', usage: 'client', keyType: 'ec-p256' });
  server = createHttpsServer({ cert: serverCert.certPem, key: serverCert.keyPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    seen.push({ servername: socket.servername, clientCertSubject: peer.subject?.CN });
    res.end('secure');
  });
  port = await listen(server);

  // root → intermediate → leaf, for tls_verify_depth.
  const root = await createCertificateAuthority({ subject: 'CN=Proxy Test Root', keyType: 'ec-p256' });
  const intermediate = await createCertificateAuthority({ subject: 'CN=Proxy Test Intermediate', keyType: 'ec-p256', issuer: root });
  const leaf = await issueCertificate({ ca: intermediate, subject: 'CN=localhost', usage: 'server', dnsNames: ['localhost'], keyType: 'ec-p256' });
  rootPem = root.certPem;
  chainedServer = createHttpsServer({ cert: leaf.chainPem, key: leaf.keyPem }, (_req, res) => res.end('chained'));
  chainedPort = await listen(chainedServer);
});

after(async () => {
  await close(server);
  await close(chainedServer);
});

async function fetchThrough(service: Service, config: Config = configWith([service]), trustedCaPems: string[] = [], headers: Record<string, string> = {}) {
  const pools = UpstreamPools.create(config, { trustedCaPems });
  try {
    const response = await sendUpstream({
      endpoints: pools.endpointsFor(service), defaultHost: null,
      service,
      method: 'GET',
      path: '/',
      headers: { host: `${service.host}:${service.port}`, ...headers },
      body: null,
      signal: new AbortController().signal,
    });
    return (await response.body.toBuffer()).toString();
  } finally {
    await pools.destroy();
  }
}

async function upstreamFailure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => assert.fail('expected a TLS failure'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof UpstreamError);
  return error;
}

describe('HTTPS upstreams', () => {
  it('refuses a self-signed upstream certificate by default, with 502 upstream_tls_failed and no retry', async () => {
    const error = await upstreamFailure(fetchThrough(serviceFor({ protocol: 'https', host: 'localhost', port, retries: 3 })));
    assert.equal(error.status, 502);
    assert.equal(error.code, 'upstream_tls_failed');
    assert.equal(error.attempts, 1);
  });

  it('accepts it with tls_verify false', async () => {
    assert.equal(await fetchThrough(serviceFor({ protocol: 'https', host: 'localhost', port, tls_verify: false })), 'secure');
  });

  it('accepts it when it is one of the service ca_certificates', async () => {
    const service = serviceFor({ protocol: 'https', host: 'localhost', port, ca_certificates: ['ca-1'] });
    const config = configWith([service], { ca_certificates: [{ id: 'ca-1', cert: serverCert.certPem, cert_digest: 'x', tags: [] }] });
    assert.equal(await fetchThrough(service, config), 'secure');
  });

  it('accepts it when it is among the trusted CA PEMs (--trusted-certificate)', async () => {
    const service = serviceFor({ protocol: 'https', host: 'localhost', port });
    assert.equal(await fetchThrough(service, configWith([service]), [serverCert.certPem]), 'secure');
  });

  it('trusts only the service ca_certificates when they are set, not the trusted CA PEMs', async () => {
    const service = serviceFor({ protocol: 'https', host: 'localhost', port, ca_certificates: ['ca-other'] });
    const config = configWith([service], { ca_certificates: [{ id: 'ca-other', cert: rootPem, cert_digest: 'x', tags: [] }] });
    const error = await upstreamFailure(fetchThrough(service, config, [serverCert.certPem]));
    assert.equal(error.code, 'upstream_tls_failed');
  });

  it('sends the service host as SNI even when the Host header differs (preserve_host)', async () => {
    const service = serviceFor({ protocol: 'https', host: 'localhost', port, tls_verify: false });
    seen.length = 0;
    await fetchThrough(service, configWith([service]), [], { host: 'client-facing.example' });
    assert.equal(seen[0]?.servername, 'localhost');
  });

  it('sends no SNI to an IP address, and verifies the IP against the certificate', async () => {
    const service = serviceFor({ protocol: 'https', host: '127.0.0.1', port });
    seen.length = 0;
    await fetchThrough(service, configWith([service]), [serverCert.certPem], { host: 'client-facing.example' });
    assert.equal(seen[0]?.servername, false);
  });

  it('presents the service client_certificate to the upstream', async () => {
    const service = serviceFor({ protocol: 'https', host: 'localhost', port, tls_verify: false, client_certificate: 'cert-1' });
    const config = configWith([service], {
      certificates: [{ id: 'cert-1', cert: clientCert.certPem, key: clientCert.keyPem, cert_alt: null, key_alt: null, snis: [], sni_entities: [], tags: [] }],
    });
    seen.length = 0;
    await fetchThrough(service, config);
    assert.equal(seen[0]?.clientCertSubject, 'portcullis-client');
  });

  it('enforces tls_verify_depth with OpenSSL semantics (leaf, intermediates, anchor)', async () => {
    const base = { protocol: 'https' as const, host: 'localhost', port: chainedPort };
    const deep = serviceFor({ ...base, tls_verify_depth: 1 });
    assert.equal(await fetchThrough(deep, configWith([deep]), [rootPem]), 'chained');
    const shallow = serviceFor({ ...base, tls_verify_depth: 0 });
    const error = await upstreamFailure(fetchThrough(shallow, configWith([shallow]), [rootPem]));
    assert.equal(error.code, 'upstream_tls_failed');
  });

  it('answers 504 when the TLS handshake does not finish within connect_timeout, retrying it', async () => {
    // A TCP server that accepts and never speaks: the TLS handshake, part of connecting, stalls.
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => sockets.push(socket));
    const silentPort = await listen(silent);
    try {
      const service = serviceFor({ protocol: 'https', host: 'localhost', port: silentPort, connect_timeout: 150, retries: 1 });
      const error = await upstreamFailure(fetchThrough(service));
      assert.equal(error.status, 504);
      assert.equal(error.code, 'upstream_timeout');
      assert.equal(error.failure, 'connect_timeout');
      assert.equal(error.attempts, 2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await close(silent);
    }
  });
});
