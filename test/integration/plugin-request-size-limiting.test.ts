/**
 * request-size-limiting against a real gateway: Kong's 1024-based units, a Content-Length over the
 * limit refused (413, 417 to Expect: 100-continue) before anything reaches the upstream, 411 when a
 * length is required, and streamed bodies (HTTP/1.1 chunked, HTTP/2 without Content-Length) counted
 * as they flow: the upstream never receives a complete over-limit body, the client gets 413. A body
 * an earlier plugin buffered (key-auth's key_in_body) is measured too.
 */
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText, rawExchange } from '../helpers/http.js';

/** What the upstream got of one request body: the bytes, and whether the body reached its end. */
interface Received {
  readonly path: string;
  bytes: number;
  complete: boolean;
  closed: boolean;
}

/** An upstream that counts the body bytes of every request it gets, answering 200 once a body ends. */
async function startByteCountingUpstream(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const entry: Received = { path: req.url ?? '', bytes: 0, complete: false, closed: false };
    received.push(entry);
    req.on('data', (chunk: Buffer) => (entry.bytes += chunk.length));
    req.on('end', () => {
      entry.complete = true;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bytes: entry.bytes }));
    });
    req.on('close', () => (entry.closed = true));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/**
 * A chunked HTTP/1.1 upload of `chunks` chunks of `size` bytes, each written once the previous one
 * was flushed; `finish`: whether the body is then ended (its last chunk). Resolves with the answer.
 * An over-limit upload stops at the chunk that crosses the limit and waits, body unfinished: the
 * gateway has then read everything sent, so its closing the connection cannot reset the answer.
 */
function chunkedUpload(url: string, chunks: number, size: number, finish = true, contentType = 'application/octet-stream'): Promise<{ status: number; body: string; sent: number }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let sent = 0;
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked', 'content-type': contentType } }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body, sent });
      });
      res.on('error', reject);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const writeNext = (): void => {
      if (answered) return;
      if (sent === chunks) {
        if (finish) req.end();
        return;
      }
      sent += 1;
      req.write(Buffer.alloc(size, 0x61), () => setImmediate(writeNext));
    };
    writeNext();
  });
}

/** The same over HTTP/2 (TLS, ALPN h2), with no Content-Length: DATA frames, then END_STREAM when `finish`. */
function http2Upload(origin: string, path: string, chunks: number, size: number, finish = true): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = connect(origin, { rejectUnauthorized: false });
    session.on('error', (error: Error) => reject(error));
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/octet-stream' });
    let status = 0;
    let body = '';
    let answered = false;
    const done = (): void => {
      session.destroy();
      resolve({ status, body });
    };
    stream.on('response', (head) => {
      answered = true;
      status = Number(head[':status']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', done);
    stream.on('error', (error: Error) => {
      if (answered) done();
      else {
        session.destroy();
        reject(error);
      }
    });
    let sent = 0;
    const writeNext = (): void => {
      if (answered || stream.destroyed) return;
      if (sent === chunks) {
        if (finish) stream.end();
        return;
      }
      sent += 1;
      stream.write(Buffer.alloc(size, 0x62), () => setImmediate(writeNext));
    };
    writeNext();
  });
}

describe('request-size-limiting', () => {
  let gateway: GatewayProcess;
  let upstream: Awaited<ReturnType<typeof startByteCountingUpstream>>;
  const receivedAt = (path: string) => upstream.received.filter((r) => r.path === path);
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetchText(`${gateway.httpUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', ...headers } });

  before(async () => {
    upstream = await startByteCountingUpstream();
    gateway = await startGatewayProcess({
      args: ['--proxy-listen', '127.0.0.1:0, 127.0.0.1:0 http2 ssl'],
      config: `_format_version: "3.0"
consumers:
  - username: app
    keyauth_credentials: [{ key: app-key }]
services:
  - name: counted
    url: ${upstream.url}
    routes:
      - name: bytes
        paths: [/bytes]
        strip_path: false
        plugins:
          - name: request-size-limiting
            config: { allowed_payload_size: 100000, size_unit: bytes }
      - name: kilobytes
        paths: [/kilobytes]
        strip_path: false
        plugins:
          - name: request-size-limiting
            config: { allowed_payload_size: 1, size_unit: kilobytes }
      - name: default
        paths: [/default]
        strip_path: false
        plugins:
          - name: request-size-limiting
      - name: required
        paths: [/required]
        strip_path: false
        plugins:
          - name: request-size-limiting
            config: { require_content_length: true }
      - name: transformed
        paths: [/transformed]
        strip_path: false
        plugins:
          - name: request-size-limiting
            config: { allowed_payload_size: 100, size_unit: bytes }
          - name: request-transformer
            config: { add: { body: ["added:yes"] } }
      - name: keyed
        paths: [/keyed]
        strip_path: false
        plugins:
          - name: key-auth
            config: { key_in_body: true }
          - name: request-size-limiting
            config: { allowed_payload_size: 100, size_unit: bytes }
`,
    });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it('counts in 1024-byte kilobytes: 1024 bytes pass, 1025 are refused with 413 and never reach the upstream', async () => {
    const ok = await post('/kilobytes', Buffer.alloc(1024));
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { bytes: 1024 });
    const before = receivedAt('/kilobytes').length;
    const refused = await post('/kilobytes', Buffer.alloc(1025));
    assert.equal(refused.status, 413);
    assert.equal(refused.json()['message'], 'Request size limit exceeded');
    assert.equal(refused.headers['connection'], 'close');
    assert.equal(receivedAt('/kilobytes').length, before);
  });

  it('answers 417 to an over-limit Content-Length that expects 100-continue', async () => {
    const answer = await rawExchange(Number(new URL(gateway.httpUrl).port), 'POST /kilobytes HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    assert.match(answer, /HTTP\/1\.1 417 /);
    assert.match(answer, /Request size limit exceeded/);
  });

  it('defaults to 128 megabytes (134217728 bytes) by the declared length', async () => {
    const answer = await rawExchange(Number(new URL(gateway.httpUrl).port), 'POST /default HTTP/1.1\r\nHost: x\r\nContent-Length: 134217729\r\nConnection: close\r\n\r\n');
    assert.match(answer, /HTTP\/1\.1 413 /);
    assert.equal((await post('/default', 'small')).status, 200);
  });

  it('require_content_length: 411 without a length, a chunked body is accepted', async () => {
    const none = await fetchText(`${gateway.httpUrl}/required`);
    assert.equal(none.status, 411);
    assert.equal(none.json()['message'], 'A valid Content-Length header is required');
    const invalid = await rawExchange(Number(new URL(gateway.httpUrl).port), 'POST /required HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\nConnection: close\r\n\r\n');
    assert.doesNotMatch(invalid, /HTTP\/1\.1 200 /);
    const chunked = await chunkedUpload(`${gateway.httpUrl}/required`, 3, 10);
    assert.equal(chunked.status, 200);
    assert.equal((JSON.parse(chunked.body) as Record<string, unknown>)['bytes'], 30);
    assert.equal((await post('/required', 'sized')).status, 200);
  });

  it('passes a chunked body under the limit whole', async () => {
    const answer = await chunkedUpload(`${gateway.httpUrl}/bytes`, 20, 4096);
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { bytes: 20 * 4096 });
  });

  it('counts a chunked body as it flows: 413 while the client is still sending, the upstream request aborted before the whole body', async () => {
    const before = receivedAt('/bytes').length;
    const answer = await chunkedUpload(`${gateway.httpUrl}/bytes`, 25, 4096, false);
    assert.equal(answer.status, 413);
    assert.equal((JSON.parse(answer.body) as Record<string, unknown>)['message'], 'Request size limit exceeded');
    const entry = await eventually('the upstream request closed', () => receivedAt('/bytes').slice(before).find((r) => r.closed));
    assert.equal(entry.complete, false);
    assert.ok(entry.bytes <= 100000, `the upstream got ${entry.bytes} bytes, more than the limit`);
  });

  it('counts an HTTP/2 body without Content-Length the same way', async () => {
    const under = await http2Upload(gateway.httpsUrl, '/bytes', 10, 4096);
    assert.equal(under.status, 200);
    assert.deepEqual(JSON.parse(under.body), { bytes: 40960 });
    const before = receivedAt('/bytes').length;
    const over = await http2Upload(gateway.httpsUrl, '/bytes', 25, 4096, false);
    assert.equal(over.status, 413);
    assert.equal((JSON.parse(over.body) as Record<string, unknown>)['message'], 'Request size limit exceeded');
    const entry = await eventually('the upstream request closed', () => receivedAt('/bytes').slice(before).find((r) => r.closed));
    assert.equal(entry.complete, false);
    assert.ok(entry.bytes <= 100000, `the upstream got ${entry.bytes} bytes`);
  });

  it('HTTP/2 without Content-Length is refused with 411 when a length is required', async () => {
    const answer = await http2Upload(gateway.httpsUrl, '/required', 1, 10);
    assert.equal(answer.status, 411);
  });

  it('measures a body an earlier plugin already buffered (key-auth key_in_body), with its own 413', async () => {
    const small = await post('/keyed', 'apikey=app-key', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(small.status, 200);
    const before = receivedAt('/keyed').length;
    const big = await chunkedUpload(`${gateway.httpUrl}/keyed?apikey=app-key`, 3, 100);
    assert.equal(big.status, 413);
    assert.equal((JSON.parse(big.body) as Record<string, unknown>)['message'], 'Request size limit exceeded');
    assert.equal(receivedAt('/keyed').length, before);
  });

  it('bounds a later plugin that reads the body (request-transformer) with its own 413', async () => {
    const small = await post('/transformed', '{"a":1}', { 'content-type': 'application/json' });
    assert.equal(small.status, 200);
    assert.ok(small.json<{ bytes: number }>().bytes > 7, 'the transformer rewrote the body');
    const before = receivedAt('/transformed').length;
    const big = await chunkedUpload(`${gateway.httpUrl}/transformed`, 3, 100, true, 'application/json');
    assert.equal(big.status, 413);
    assert.equal((JSON.parse(big.body) as Record<string, unknown>)['message'], 'Request size limit exceeded');
    assert.equal(receivedAt('/transformed').length, before);
  });

  it('refuses an unknown unit and a non-integer size with their paths', () => {
    const result = loadConfig('_format_version: "3.0"\nplugins: [{ name: request-size-limiting, config: { size_unit: gigabytes, allowed_payload_size: 1.5 } }]\n', { env: {}, plugins: pluginSchemas });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.errors.map((e) => `${e.path}: ${e.message}`).sort(), [
      'plugins[0].config.allowed_payload_size: must be an integer',
      'plugins[0].config.size_unit: must be one of megabytes, kilobytes, bytes',
    ]);
  });
});
