// HTTP/2 through the gateway with real clients: curl (ALPN h2 over TLS, prior knowledge in
// cleartext), node:http2 (streamed bodies, trailers, many streams on one connection), a client
// certificate with a certificate-bound token from the development IdP; and the bounds of the
// HTTP/2 listener against hostile frames (rapid reset, SETTINGS flood, oversized header lists).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, constants, createSecureServer, type ClientHttp2Session, type Http2SecureServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { eventually } from '../helpers/eventually.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { frame, frameType, getHeaderBlock, headersFrame, openRawSession, rstStream } from '../helpers/h2-frames.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

const run = promisify(execFile);

/** What the upstream saw: always HTTP/1.1 from the gateway. */
interface Seen {
  method: string;
  url: string;
  httpVersion: string;
  headers: Record<string, string>;
  bodyBytes: number;
}

async function startUpstream(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      const seen: Seen = { method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, headers: req.headers as Record<string, string>, bodyBytes };
      const send = (): void => {
        if (req.url === '/plain/trailers') {
          res.writeHead(200, { 'content-type': 'application/json', trailer: 'x-checksum' });
          res.write(JSON.stringify(seen));
          res.addTrailers({ 'x-checksum': 'abc123' });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive', 'keep-alive': 'timeout=5' });
        res.end(JSON.stringify(seen));
      };
      if (req.url?.startsWith('/plain/slow') === true) setTimeout(send, 400);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

interface H2Answer {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders | null;
  text: string;
}

/** One request on an HTTP/2 session; `body` chunks are written with a pause between them. */
function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body: readonly string[] = []): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body.length === 0 });
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | null = null;
    let text = '';
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('trailers', (t: IncomingHttpHeaders) => {
      trailers = t;
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve({ status, headers: responseHeaders, trailers, text }));
    stream.on('error', reject);
    const write = (i: number): void => {
      if (i >= body.length) return;
      if (i === body.length - 1) stream.end(body[i]);
      else stream.write(body[i], () => setTimeout(() => write(i + 1), 20));
    };
    write(0);
  });
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
    promise.then((value) => (clearTimeout(timer), resolve(value)), reject);
  });
}

function openSession(url: string, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(url, { rejectUnauthorized: false, ...options });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

function closeSession(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.destroyed) return resolve();
    session.close(() => resolve());
  });
}

describe('HTTP/2 through the gateway', () => {
  let upstream: { server: Server; port: number };
  let idp: TestIdp;
  let gateway: GatewayProcess;
  let tlsPort: number;
  let plainPort: number;

  before(async () => {
    upstream = await startUpstream();
    idp = await startTestIdp();
    gateway = await startGatewayProcess({
      args: ['--proxy-listen', '127.0.0.1:0 http2, 127.0.0.1:0 http2 ssl', '--trusted-certificate', idp.caPath],
      config: `_format_version: "3.0"
services:
  - name: plain
    url: http://127.0.0.1:${upstream.port}/plain
    routes: [{ name: plain, paths: ["/plain"] }]
  - name: bound
    url: http://127.0.0.1:${upstream.port}/bound
    routes: [{ name: bound, paths: ["/bound"], protocols: [https] }]
plugins:
  - name: tls-handshake-modifier
    route: bound
    config: { tls_client_certificate: REQUEST }
  - name: openid-connect
    route: bound
    config:
      issuer: ${idp.issuer}
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
`,
    });
    tlsPort = Number(new URL(gateway.httpsUrl).port);
    plainPort = Number(new URL(gateway.httpUrl).port);
  });

  after(async () => {
    await gateway?.stop();
    await idp?.close();
    await new Promise<void>((resolve) => upstream?.server.close(() => resolve()));
  });

  it('curl --http2 negotiates h2 by ALPN on the TLS listener; curl --http1.1 still gets HTTP/1.1 there', async () => {
    const h2 = await run('curl', ['-sk', '--http2', '-w', '\n%{http_version}', `https://127.0.0.1:${tlsPort}/plain/a?x=1`]);
    const [body, version] = h2.stdout.split('\n');
    assert.equal(version, '2');
    const seen = JSON.parse(body!) as Seen;
    assert.equal(seen.url, '/plain/a?x=1');
    assert.equal(seen.httpVersion, '1.1');
    assert.equal(seen.headers.host, `127.0.0.1:${upstream.port}`);
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-host'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-port'], String(tlsPort));
    // No pseudo-header reaches the upstream.
    assert.deepEqual(Object.keys(seen.headers).filter((name) => name.startsWith(':')), []);
    const h1 = await run('curl', ['-sk', '--http1.1', '-o', '/dev/null', '-w', '%{http_version}', `https://127.0.0.1:${tlsPort}/plain/a`]);
    assert.equal(h1.stdout, '1.1');
  });

  it('a cleartext http2 listener serves prior-knowledge HTTP/2 and HTTP/1.1 on the same port', async () => {
    const h2 = await run('curl', ['-s', '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `http://127.0.0.1:${plainPort}/plain/c`]);
    assert.equal(h2.stdout, '200 2');
    const h1 = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `http://127.0.0.1:${plainPort}/plain/c`]);
    assert.equal(h1.stdout, '200 1.1');
  });

  it('node:http2: a body without Content-Length streams through whole, trailers come back to a client that sent TE: trailers, hop-by-hop headers do not', async () => {
    const session = await openSession(`https://127.0.0.1:${tlsPort}`);
    try {
      const posted = await h2Request(session, { ':method': 'POST', ':path': '/plain/upload' }, ['first ', 'second ', 'third']);
      assert.equal(posted.status, 200);
      const seen = JSON.parse(posted.text) as Seen;
      assert.equal(seen.bodyBytes, 'first second third'.length);
      assert.equal(seen.headers['transfer-encoding'], 'chunked');
      assert.equal(posted.headers['connection'], undefined);
      assert.equal(posted.headers['keep-alive'], undefined);
      assert.equal(posted.headers['via'], '1.1 portcullis');
      assert.match(String(posted.headers['x-request-id']), /^[0-9a-f-]{36}$/);

      const trailed = await h2Request(session, { ':path': '/plain/trailers', te: 'trailers' });
      assert.equal(trailed.status, 200);
      assert.equal(trailed.trailers?.['x-checksum'], 'abc123');

      // Without TE: trailers the stream ends with its last DATA frame: the whole body, no trailers.
      const untrailed = await h2Request(session, { ':path': '/plain/trailers' });
      assert.equal(untrailed.status, 200);
      assert.equal(untrailed.trailers, null);
      const echoed = JSON.parse(untrailed.text) as Seen;
      assert.equal(echoed.url, '/plain/trailers');
      assert.equal(echoed.headers['te'], undefined);
    } finally {
      await closeSession(session);
    }
  });

  it('many streams on one connection are served concurrently, each with its own access record', async () => {
    const session = await openSession(`https://127.0.0.1:${tlsPort}`);
    try {
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => h2Request(session, { ':path': `/plain/slow?i=${i}` })));
      assert.ok(answers.every((a) => a.status === 200));
      // 20 requests of 400 ms each, concurrently: far less than 20 × 400 ms.
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
      const ids = new Set(answers.map((a) => a.headers['x-request-id']));
      assert.equal(ids.size, 20);
      const logged = (): number => accessRecords(gateway).filter((r) => r['path'] === '/plain/slow' && r['status'] === 200).length;
      for (let waited = 0; logged() < 20 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      assert.equal(logged(), 20);
    } finally {
      await closeSession(session);
    }
  });

  it('a stream the client resets while the upstream works is logged 499, and the connection serves on', async () => {
    const session = await openSession(`https://127.0.0.1:${tlsPort}`);
    try {
      const stream = session.request({ ':path': '/plain/slow?reset=1' });
      stream.on('error', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      stream.close(constants.NGHTTP2_CANCEL);
      const record = await eventually('the 499 record', () => accessRecords(gateway).find((r) => r['path'] === '/plain/slow' && r['status'] === 499));
      assert.equal(record['reason'], 'client_aborted');
      assert.equal((await h2Request(session, { ':path': '/plain/after-reset' })).status, 200);
    } finally {
      await closeSession(session);
    }
  });

  it('a certificate-bound token works over h2 with its certificate and is refused with another one', async () => {
    const token = await idp.requestToken();
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const asClient = async (credential: { certPath: string; keyPath: string }): Promise<H2Answer> => {
      const session = await openSession(`https://127.0.0.1:${tlsPort}`, { cert: await readFile(credential.certPath), key: await readFile(credential.keyPath) });
      try {
        return await h2Request(session, { ':path': '/bound/resource', authorization: `Bearer ${token.access_token!}` });
      } finally {
        await closeSession(session);
      }
    };
    const right = await asClient(idp.pki.client);
    assert.equal(right.status, 200, right.text);
    assert.equal((JSON.parse(right.text) as Seen).headers['authorization'], `Bearer ${token.access_token!}`);
    const wrong = await asClient(idp.pki.otherClient);
    assert.equal(wrong.status, 401);
    assert.match(String(wrong.headers['www-authenticate']), /^Bearer realm="[^"]+", error="invalid_token"$/);
    const record = accessRecords(gateway).find((r) => r['request_id'] === wrong.headers['x-request-id']);
    assert.equal(record?.['reason'], 'pop_certificate_mismatch');
  });

  it('a route limited to https redirects an h2c request without the Upgrade header HTTP/2 forbids', async () => {
    const session = await openSession(`http://127.0.0.1:${plainPort}`);
    try {
      const answer = await h2Request(session, { ':path': '/bound/resource' });
      assert.equal(answer.status, 426);
      assert.equal(answer.headers['upgrade'], undefined);
    } finally {
      await closeSession(session);
    }
  });

  it('refuses CONNECT with 405, and resets a request without :authority or Host (PROTOCOL_ERROR)', async () => {
    const session = await openSession(`https://127.0.0.1:${tlsPort}`);
    try {
      const answer = await h2Request(session, { ':method': 'CONNECT', ':authority': 'elsewhere.test:443' });
      assert.equal(answer.status, 405);
    } finally {
      await closeSession(session);
    }
    const raw = await openRawSession(tlsPort, true);
    raw.write(headersFrame(1, getHeaderBlock('https', { 'user-agent': 'no-authority' })));
    const reset = await eventually('the RST_STREAM of stream 1', () => raw.received.find((f) => f.type === frameType.rstStream && f.streamId === 1));
    assert.equal(reset.payload.readUInt32BE(0), constants.NGHTTP2_PROTOCOL_ERROR);
    assert.equal(raw.received.some((f) => f.type === frameType.headers && f.streamId === 1), false);
    raw.socket.destroy();
  });
});

describe('HTTP/2 bounds', () => {
  let upstream: { server: Server; port: number };
  let gateway: GatewayProcess;
  let tlsPort: number;

  before(async () => {
    upstream = await startUpstream();
    gateway = await startGatewayProcess({
      args: [
        '--proxy-listen', '127.0.0.1:0 http2, 127.0.0.1:0 http2 ssl',
        '--http2-max-concurrent-streams', '8',
        '--max-header-size', '4096',
        '--keep-alive-timeout', '600',
        '--headers-timeout', '500',
        '--request-timeout', '800',
      ],
      config: `_format_version: "3.0"
services:
  - name: plain
    url: http://127.0.0.1:${upstream.port}/plain
    routes: [{ name: plain, paths: ["/plain"] }]
`,
    });
    tlsPort = Number(new URL(gateway.httpsUrl).port);
  });

  after(async () => {
    await gateway?.stop();
    await new Promise<void>((resolve) => upstream?.server.close(() => resolve()));
  });

  it('advertises the stream and header-list limits, and answers 431 to a header list beyond them', async () => {
    const session = connect(`https://127.0.0.1:${tlsPort}`, { rejectUnauthorized: false });
    try {
      const settings = await new Promise<Record<string, unknown>>((resolve) => session.once('remoteSettings', resolve));
      assert.equal(settings['maxConcurrentStreams'], 8);
      assert.equal(settings['maxHeaderListSize'], 4096);
    } finally {
      await closeSession(session);
    }
    const raw = await openRawSession(tlsPort, true);
    const fields: Record<string, string> = { ':authority': '127.0.0.1' };
    for (let i = 0; i < 60; i++) fields[`x-filler-${i}`] = 'x'.repeat(100);
    raw.write(headersFrame(1, getHeaderBlock('https', fields)));
    const record = await gateway.waitForLog((l) => (l['access'] as Record<string, unknown> | undefined)?.['reason'] === 'request_header_fields_too_large');
    assert.equal((record['access'] as Record<string, unknown>)['status'], 431);
    raw.socket.destroy();
  });

  it('ends a rapid-reset session (HEADERS then RST_STREAM, CVE-2023-44487) with a GOAWAY and keeps serving others', async () => {
    const raw = await openRawSession(tlsPort, true);
    const block = getHeaderBlock('https', { ':authority': '127.0.0.1' });
    const burst: Buffer[] = [];
    for (let i = 0; i < 3000; i++) burst.push(headersFrame(2 * i + 1, block), rstStream(2 * i + 1));
    raw.write(Buffer.concat(burst));
    const { goaway } = await within(raw.closed, 5000);
    assert.ok(goaway !== null && goaway !== constants.NGHTTP2_NO_ERROR, `the server must say why it hung up: GOAWAY ${goaway}`);
    const served = accessRecords(gateway).filter((r) => r['path'] === '/').length;
    assert.ok(served < 100, `${served} reset streams reached the handler`);
    const ok = await run('curl', ['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${tlsPort}/plain/after`]);
    assert.equal(ok.stdout, '200');
  });

  it('ends a SETTINGS flood and a PING flood', async () => {
    for (const type of [frameType.settings, frameType.ping]) {
      const raw = await openRawSession(tlsPort, true);
      const payload = type === frameType.ping ? Buffer.alloc(8) : Buffer.alloc(0);
      raw.write(Buffer.concat(Array.from({ length: 20_000 }, () => frame(type, 0, 0, payload))));
      // The server hangs up (a GOAWAY first where nghttp2 gets to send one): within seconds, not never.
      const { goaway } = await within(raw.closed, 5000);
      assert.notEqual(goaway, constants.NGHTTP2_NO_ERROR);
    }
  });

  it('refuses streams beyond SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const raw = await openRawSession(tlsPort, true);
    const block = getHeaderBlock('https', { ':authority': '127.0.0.1' });
    // 12 open streams (no END_STREAM: each still sending its body) against a limit of 8.
    raw.write(Buffer.concat(Array.from({ length: 12 }, (_, i) => headersFrame(2 * i + 1, block, false))));
    await eventually('four refused streams', () => raw.received.filter((f) => f.type === frameType.rstStream).length >= 4);
    const refused = raw.received.filter((f) => f.type === frameType.rstStream && f.payload.readUInt32BE(0) === constants.NGHTTP2_REFUSED_STREAM);
    assert.deepEqual(refused.map((f) => f.streamId).sort((a, b) => a - b), [17, 19, 21, 23]);
    raw.socket.destroy();
  });

  it('cancels a stream whose body is not complete within the request timeout, and closes an idle session', async () => {
    const session = await openSession(`https://127.0.0.1:${tlsPort}`);
    const stream = session.request({ ':method': 'POST', ':path': '/plain/never-ends' });
    stream.write('partial');
    stream.on('error', () => undefined);
    const started = Date.now();
    await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    assert.equal(stream.rstCode, constants.NGHTTP2_CANCEL);
    assert.ok(Date.now() - started < 3000);
    // No stream left: the session is closed by the server after the keep-alive timeout (600 ms).
    const goaway = await new Promise<number>((resolve) => session.once('goaway', resolve));
    assert.equal(goaway, constants.NGHTTP2_NO_ERROR);
    session.destroy();
    // Logged as the gateway's refusal, as HTTP/1.1's request timeout is, not as a client leaving.
    const record = await eventually('the timed-out request', () => accessRecords(gateway).find((r) => r['path'] === '/plain/never-ends'));
    assert.equal(record['reason'], 'request_timeout');
    assert.equal(record['status'], 408);
  });

  it('the cleartext http2 port: a preface sent in pieces is HTTP/2 still, and a client that sends nothing is dropped after the headers timeout', async () => {
    const plainPort = Number(new URL(gateway.httpUrl).port);
    const raw = await openRawSession(plainPort, false, { prefaceInPieces: true });
    raw.write(headersFrame(1, getHeaderBlock('http', { ':authority': '127.0.0.1' })));
    const answer = await eventually('the HEADERS of stream 1', () => raw.received.find((f) => f.type === frameType.headers && f.streamId === 1));
    assert.ok(answer.payload.length > 0);
    raw.socket.destroy();

    const silent = netConnect({ host: '127.0.0.1', port: plainPort });
    silent.on('error', () => undefined);
    const started = Date.now();
    await within(new Promise((resolve) => silent.once('close', resolve)), 5000);
    // --headers-timeout 500: neither HTTP/1.1 nor HTTP/2 has begun, the connection holds nothing.
    assert.ok(Date.now() - started >= 400, `closed after ${Date.now() - started} ms`);
  });
});

describe('HTTP/2 to https upstreams (--upstream-http2)', () => {
  let pki: TestPki;
  let upstream: Http2SecureServer;
  let port: number;

  before(async () => {
    pki = await makeTestPki();
    upstream = createSecureServer({ allowHTTP1: true, cert: pki.serverCert.certPem, key: pki.serverCert.keyPem }, (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.httpVersion);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
  });

  const versionSeen = async (args: string[]): Promise<string> => {
    const gateway = await startGatewayProcess({
      args: ['--trusted-certificate', pki.ca.certPath, ...args],
      config: `_format_version: "3.0"\nservices:\n  - name: s\n    url: https://localhost:${port}\n    routes: [{ name: r, paths: ["/"] }]\n`,
    });
    try {
      const { stdout } = await run('curl', ['-s', `${gateway.httpUrl}/version`]);
      return stdout;
    } finally {
      await gateway.stop();
    }
  };

  it('speaks HTTP/1.1 to an https service by default (Kong), HTTP/2 when the flag is on', async () => {
    assert.equal(await versionSeen([]), '1.1');
    assert.equal(await versionSeen(['--upstream-http2', 'on']), '2.0');
  });
});
