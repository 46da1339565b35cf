import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { getEventListeners, once } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createSelfSignedCertificate } from '../../certs/index.js';
import type { IssuedCertificate } from '../../certs/index.js';
import { classifyStatus, probe, probeRequestHeaders, probeServerName, type ProbeSettings } from './probe.js';

const LOOPBACK = '127.0.0.1';

function settings(over: Partial<ProbeSettings>): ProbeSettings {
  return {
    type: 'http',
    host: LOOPBACK,
    port: 1,
    timeoutMs: 2000,
    httpPath: '/',
    hostHeader: 'probe.test',
    headers: null,
    httpsSni: null,
    verifyCertificate: true,
    ca: undefined,
    clientCertificate: undefined,
    healthyStatuses: [200, 302],
    unhealthyStatuses: [429, 404, 500, 501, 502, 503, 504, 505],
    ...over,
  };
}

function portOf(server: net.Server): number {
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function listen<S extends net.Server>(server: S, host = LOOPBACK): Promise<S> {
  server.listen(0, host);
  await once(server, 'listening');
  return server;
}

/** Closes a server and every connection it still holds. */
async function shut(server: net.Server, sockets: Iterable<net.Socket> = []): Promise<void> {
  for (const socket of sockets) socket.destroy();
  if (server instanceof http.Server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on: bound, then freed. */
async function freedPort(): Promise<number> {
  const server = await listen(net.createServer());
  const port = portOf(server);
  await shut(server);
  return port;
}

/** A TCP server that accepts and never answers, keeping its sockets for `shut`. */
async function silentServer(): Promise<{ server: net.Server; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = await listen(
    net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }),
  );
  return { server, sockets };
}

describe('probe: tcp', () => {
  it('succeeds when the port accepts, and closes the connection at once', async () => {
    const server = await listen(net.createServer());
    const closed = new Promise<void>((resolve) => server.once('connection', (socket: net.Socket) => socket.once('close', () => resolve())));
    try {
      assert.deepEqual(await probe(settings({ type: 'tcp', port: portOf(server) })), { kind: 'success', status: null });
      await closed;
    } finally {
      await shut(server);
    }
  });

  it('reports a refused connection (a port just freed) as a tcp failure', async () => {
    const outcome = await probe(settings({ type: 'tcp', port: await freedPort() }));
    assert.equal(outcome.kind, 'tcp_failure');
    assert.match(outcome.kind === 'tcp_failure' ? outcome.error : '', /ECONNREFUSED/);
  });

  it('connects to a fully expanded IPv6 address', async (t) => {
    let server: net.Server;
    try {
      server = await listen(net.createServer((socket) => socket.destroy()), '::1');
    } catch {
      t.skip('no IPv6 loopback here');
      return;
    }
    try {
      const host = '0000:0000:0000:0000:0000:0000:0000:0001';
      assert.deepEqual(await probe(settings({ type: 'tcp', host, port: portOf(server) })), { kind: 'success', status: null });
    } finally {
      await shut(server);
    }
  });
});

describe('probe: http', () => {
  let server: http.Server;
  let port: number;
  const seen: { rawHeaders: string[]; url: string | undefined }[] = [];

  before(async () => {
    server = await listen(
      http.createServer((req, res) => {
        seen.push({ rawHeaders: req.rawHeaders, url: req.url });
        const status = Number(/^\/status\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 200);
        if (req.url === '/big') {
          // An endless body: the probe must cut it after its limit, long before the deadline.
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const chunk = Buffer.alloc(16 * 1024, 0x61);
          const pump = (): void => {
            while (!res.destroyed && res.write(chunk));
          };
          res.on('drain', pump);
          pump();
          return;
        }
        res.writeHead(status, status === 301 ? { location: '/' } : {});
        res.end('body');
      }),
    );
    port = portOf(server);
  });
  after(() => shut(server));

  it('classifies the status: healthy list → success, unhealthy list → http_failure, neither → ignored', async () => {
    assert.deepEqual(await probe(settings({ port, httpPath: '/status/200' })), { kind: 'success', status: 200 });
    assert.deepEqual(await probe(settings({ port, httpPath: '/status/500' })), { kind: 'http_failure', status: 500 });
    assert.deepEqual(await probe(settings({ port, httpPath: '/status/301' })), { kind: 'ignored', status: 301 });
    assert.deepEqual(await probe(settings({ port, httpPath: '/status/302' })), { kind: 'success', status: 302 });
  });

  it('sends GET path with the Host header, Connection: close and every value of the extra headers', async () => {
    seen.length = 0;
    const outcome = await probe(
      settings({ port, httpPath: '/health?deep=1', hostHeader: 'api.example:8080', headers: { 'X-Probe': ['one', 'two'], Cookie: ['a=1', 'b=2'], 'X-Empty': [] } }),
    );
    assert.deepEqual(outcome, { kind: 'success', status: 200 });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.url, '/health?deep=1');
    assert.deepEqual(seen[0]!.rawHeaders, ['Host', 'api.example:8080', 'Connection', 'close', 'X-Probe', 'one', 'X-Probe', 'two', 'Cookie', 'a=1', 'Cookie', 'b=2']);
  });

  it('lets an extra Host header replace the default one, and keeps Connection: close', async () => {
    seen.length = 0;
    await probe(settings({ port, headers: { host: ['override.example'], connection: ['keep-alive'] } }));
    assert.deepEqual(seen[0]!.rawHeaders, ['Connection', 'close', 'host', 'override.example']);
  });

  it('drops the body: an endless one is cut after the limit, not at the deadline', async () => {
    const closed = new Promise<boolean>((resolve) => server.once('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.once('close', () => resolve(res.writableFinished))));
    const started = performance.now();
    assert.deepEqual(await probe(settings({ port, httpPath: '/big', timeoutMs: 10_000 })), { kind: 'success', status: 200 });
    assert.equal(await closed, false, 'the body was not read to its end');
    assert.ok(performance.now() - started < 5000, 'the connection was cut early');
  });

  it('times out when the server accepts but never answers, within about the timeout', async () => {
    const { server: silent, sockets } = await silentServer();
    try {
      const started = performance.now();
      assert.deepEqual(await probe(settings({ port: portOf(silent), timeoutMs: 300 })), { kind: 'timeout' });
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 290 && elapsed < 1500, `${elapsed} ms`);
    } finally {
      await shut(silent, sockets);
    }
  });

  it('reports a reset connection as a tcp failure', async () => {
    const reset = await listen(net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy())));
    try {
      const outcome = await probe(settings({ port: portOf(reset) }));
      assert.equal(outcome.kind, 'tcp_failure');
      assert.match(outcome.kind === 'tcp_failure' ? outcome.error : '', /ECONNRESET|socket hang up/);
    } finally {
      await shut(reset);
    }
  });

  it('reports a refused connection as a tcp failure', async () => {
    assert.equal((await probe(settings({ port: await freedPort() }))).kind, 'tcp_failure');
  });

  it('counts an answer that is not HTTP as an http failure with status 0 (Kong: a bad status line)', async () => {
    const garbage = await listen(net.createServer((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'))));
    try {
      assert.deepEqual(await probe(settings({ port: portOf(garbage) })), { kind: 'http_failure', status: 0 });
    } finally {
      await shut(garbage);
    }
  });

  it('resolves tcp_failure "aborted" when the signal aborts, before or during the probe', async () => {
    const controller = new AbortController();
    controller.abort();
    assert.deepEqual(await probe(settings({ port }), controller.signal), { kind: 'tcp_failure', error: 'aborted' });

    const { server: silent, sockets } = await silentServer();
    try {
      const during = new AbortController();
      const started = performance.now();
      const pending = probe(settings({ port: portOf(silent), timeoutMs: 10_000 }), during.signal);
      setTimeout(() => during.abort(), 50);
      assert.deepEqual(await pending, { kind: 'tcp_failure', error: 'aborted' });
      assert.ok(performance.now() - started < 2000);
    } finally {
      await shut(silent, sockets);
    }
  });

  it('resolves a tcp failure for a request node refuses to build', async () => {
    const outcome = await probe(settings({ port, headers: { 'bad header': ['x'] } }));
    assert.equal(outcome.kind, 'tcp_failure');
    assert.match(outcome.kind === 'tcp_failure' ? outcome.error : '', /^invalid probe: /);
  });
});

describe('probe: https', () => {
  let serverCert: IssuedCertificate;
  let clientCert: IssuedCertificate;
  let server: https.Server;
  let port: number;
  const seen: { servername: string | false | null; clientSubject: string | null }[] = [];

  before(async () => {
    [serverCert, clientCert] = await Promise.all([
      createSelfSignedCertificate({ subject: 'CN=probe.test', dnsNames: ['probe.test'], ipAddresses: [LOOPBACK], keyType: 'ec-p256' }),
      createSelfSignedCertificate({ subject: 'CN=probe-client', usage: 'client', keyType: 'ec-p256' }),
    ]);
    server = await listen(
      https.createServer({ cert: serverCert.certPem, key: serverCert.keyPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        seen.push({ servername: socket.servername, clientSubject: peer.subject === undefined ? null : String(peer.subject.CN) });
        res.end('ok');
      }),
    );
    port = portOf(server);
  });
  after(() => shut(server));

  it('accepts a self-signed certificate when verification is off', async () => {
    assert.deepEqual(await probe(settings({ type: 'https', port, verifyCertificate: false })), { kind: 'success', status: 200 });
  });

  it('counts a certificate that does not verify as a tcp failure', async () => {
    const outcome = await probe(settings({ type: 'https', port, verifyCertificate: true }));
    assert.equal(outcome.kind, 'tcp_failure');
    assert.match(outcome.kind === 'tcp_failure' ? outcome.error : '', /self[- ]signed/i);
  });

  it('verifies against the given anchors and the SNI name', async () => {
    const ca = [serverCert.certPem];
    assert.deepEqual(await probe(settings({ type: 'https', port, ca, httpsSni: 'probe.test' })), { kind: 'success', status: 200 });
    const wrongName = await probe(settings({ type: 'https', port, ca, httpsSni: 'other.test' }));
    assert.equal(wrongName.kind, 'tcp_failure');
    assert.match(wrongName.kind === 'tcp_failure' ? wrongName.error : '', /ERR_TLS_CERT_ALTNAME_INVALID|altnames/);
  });

  it('sends httpsSni as the SNI, else the name in the Host header, never an IP', async () => {
    seen.length = 0;
    const base = { type: 'https' as const, port, verifyCertificate: false };
    await probe(settings({ ...base, httpsSni: 'sni.example', hostHeader: 'host.example' }));
    await probe(settings({ ...base, httpsSni: null, hostHeader: `host.example:${port}` }));
    await probe(settings({ ...base, httpsSni: null, hostHeader: `${LOOPBACK}:${port}` }));
    assert.deepEqual(
      seen.map((s) => s.servername),
      ['sni.example', 'host.example', false],
    );
  });

  it('checks an IP target without a name against the certificate’s IP address', async () => {
    const outcome = await probe(settings({ type: 'https', port, ca: [serverCert.certPem], hostHeader: `${LOOPBACK}:${port}` }));
    assert.deepEqual(outcome, { kind: 'success', status: 200 });
  });

  it('presents the client certificate', async () => {
    seen.length = 0;
    const clientCertificate = { cert: clientCert.certPem, key: clientCert.keyPem };
    await probe(settings({ type: 'https', port, verifyCertificate: false, clientCertificate }));
    await probe(settings({ type: 'https', port, verifyCertificate: false }));
    assert.deepEqual(
      seen.map((s) => s.clientSubject),
      ['probe-client', null],
    );
  });

  it('counts a TLS handshake that never completes as a tcp failure, at the deadline', async () => {
    const { server: silent, sockets } = await silentServer();
    try {
      const started = performance.now();
      const outcome = await probe(settings({ type: 'https', port: portOf(silent), timeoutMs: 300, verifyCertificate: false }));
      assert.deepEqual(outcome, { kind: 'tcp_failure', error: 'TLS handshake timed out' });
      assert.ok(performance.now() - started >= 290);
    } finally {
      await shut(silent, sockets);
    }
  });

  it('times out when the handshake completes but no response head comes', async () => {
    const sockets = new Set<net.Socket>();
    const mute = await listen(https.createServer({ cert: serverCert.certPem, key: serverCert.keyPem }, () => undefined));
    mute.on('secureConnection', (socket: net.Socket) => sockets.add(socket));
    try {
      assert.deepEqual(await probe(settings({ type: 'https', port: portOf(mute), timeoutMs: 300, verifyCertificate: false })), { kind: 'timeout' });
    } finally {
      await shut(mute, sockets);
    }
  });
});

describe('probe: resources', () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  /** Waits (a few turns of the loop at most) until no more timers are active than `baseline`. */
  async function settledTo(baseline: number): Promise<number> {
    for (let i = 0; i < 50 && timers() > baseline; i++) await new Promise((r) => setTimeout(r, 5));
    return timers();
  }

  it('leaves no timer and no abort listener behind, whatever the outcome', async () => {
    const server = await listen(http.createServer((_req, res) => res.end('ok')));
    const refused = await freedPort();
    const signal = new AbortController().signal;
    try {
      const baseline = timers();
      const long = { timeoutMs: 60_000 };
      assert.equal((await probe(settings({ ...long, type: 'tcp', port: portOf(server) }), signal)).kind, 'success');
      assert.equal((await probe(settings({ ...long, port: portOf(server) }), signal)).kind, 'success');
      assert.equal((await probe(settings({ ...long, port: refused }), signal)).kind, 'tcp_failure');
      assert.equal((await probe(settings({ ...long, type: 'tcp', port: refused }), signal)).kind, 'tcp_failure');
      assert.equal(await settledTo(baseline), baseline);
      assert.equal(getEventListeners(signal, 'abort').length, 0);
    } finally {
      await shut(server);
    }
  });
});

describe('probe helpers', () => {
  it('classifyStatus: the healthy list wins; 0 (not HTTP) is a failure', () => {
    const lists = { healthyStatuses: [200, 500], unhealthyStatuses: [500] };
    assert.deepEqual(classifyStatus(500, lists), { kind: 'success', status: 500 });
    assert.deepEqual(classifyStatus(0, lists), { kind: 'http_failure', status: 0 });
    assert.deepEqual(classifyStatus(418, lists), { kind: 'ignored', status: 418 });
  });

  it('probeServerName strips the port and brackets and never names an IP', () => {
    assert.equal(probeServerName({ httpsSni: null, hostHeader: 'a.example' }), 'a.example');
    assert.equal(probeServerName({ httpsSni: null, hostHeader: 'a.example:8443' }), 'a.example');
    assert.equal(probeServerName({ httpsSni: null, hostHeader: '[::1]:8443' }), '');
    assert.equal(probeServerName({ httpsSni: null, hostHeader: '0000:0000:0000:0000:0000:0000:0000:0001' }), '');
    assert.equal(probeServerName({ httpsSni: null, hostHeader: '10.0.0.1' }), '');
    assert.equal(probeServerName({ httpsSni: 'sni.example', hostHeader: '10.0.0.1' }), 'sni.example');
  });

  it('probeRequestHeaders keeps lua-resty-healthcheck’s order', () => {
    assert.deepEqual(probeRequestHeaders({ hostHeader: 'h', headers: { a: ['1', '2'] } }), ['Host', 'h', 'Connection', 'close', 'a', '1', 'a', '2']);
    assert.deepEqual(probeRequestHeaders({ hostHeader: 'h', headers: null }), ['Host', 'h', 'Connection', 'close']);
  });
});
