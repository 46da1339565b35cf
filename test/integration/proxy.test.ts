import { closedPort as findClosedPort } from '../helpers/ports.js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { echoedHeader, fetchText, insecureAgent, rawExchange, rawJsonBody } from '../helpers/http.js';
import { request } from 'undici';

interface Echo {
  method: string;
  path: string;
  url: string;
  args: Record<string, string | string[]>;
  headers: Record<string, string>;
}

describe('proxying over HTTP and HTTPS', () => {
  let echo: EchoServer;
  let gateway: GatewayProcess;
  let closedPort: number;
  let bigServer: Server;
  // 32 MiB with a non-repeating-per-chunk pattern, served in 64 KiB writes that honour backpressure.
  const bigBody = Buffer.alloc(32 * 1024 * 1024);
  for (let i = 0; i < bigBody.length; i += 4) bigBody.writeUInt32LE(i, i);

  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    closedPort = await findClosedPort();

    bigServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bigBody.length });
      let offset = 0;
      const pump = (): void => {
        while (offset < bigBody.length) {
          const chunk = bigBody.subarray(offset, offset + 65536);
          offset += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => bigServer.listen(0, '127.0.0.1', r));
    const bigPort = (bigServer.address() as AddressInfo).port;

    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
services:
  - name: example-service
    url: ${echo.url}/anything
    routes:
      - name: example-route
        paths: ["/anything"]
  - name: api
    url: ${echo.url}/anything/base
    routes:
      - name: api-strip
        paths: ["/api"]
      - name: api-keep
        paths: ["/keep"]
        strip_path: false
      - name: preserved
        paths: ["/preserve"]
        preserve_host: true
      - name: tls-only
        paths: ["/secure"]
        protocols: [https]
      - name: by-host
        hosts: ["*.example.test"]
        paths: ["/hosted"]
  - name: slow
    url: ${echo.url}/delay/3
    read_timeout: 300
    retries: 0
    routes:
      - name: slow-route
        paths: ["/slow"]
  - name: big
    url: http://127.0.0.1:${bigPort}
    routes:
      - name: big-route
        paths: ["/big"]
  - name: dead
    url: http://127.0.0.1:${closedPort}
    retries: 2
    routes:
      - name: dead-route
        paths: ["/dead"]
plugins:
  - name: request-termination
    route: api-keep
    config:
      status_code: 418
      message: teapot
      trigger: X-Terminate
`,
    });
  });

  after(async () => {
    await gateway?.stop();
    await echo?.close();
    await new Promise<void>((r) => bigServer.close(() => r()));
  });

  it('proxies the tutorial route over HTTP to the upstream path', async () => {
    const res = await fetchText(`${gateway.httpUrl}/anything?x=1`);
    assert.equal(res.status, 200);
    const body = res.json<Echo>();
    assert.equal(body.method, 'GET');
    assert.equal(body.path, '/anything');
    assert.deepEqual(body.args, { x: '1' });
  });

  it('proxies over HTTPS with the self-signed default certificate', async () => {
    const res = await fetchText(`${gateway.httpsUrl}/anything`);
    assert.equal(res.status, 200);
    assert.equal(echoedHeader(res.json<Echo>(), 'x-forwarded-proto'), 'https');
  });

  it('strips the matched prefix and joins the service path (strip_path true)', async () => {
    const body = (await fetchText(`${gateway.httpUrl}/api/users/7`)).json<Echo>();
    assert.equal(body.path, '/anything/base/users/7');
    assert.equal(echoedHeader(body, 'x-forwarded-prefix'), '/api');
  });

  it('keeps the prefix with strip_path false', async () => {
    const body = (await fetchText(`${gateway.httpUrl}/keep/x`)).json<Echo>();
    assert.equal(body.path, '/anything/base/keep/x');
  });

  it('sends the service host upstream, or the client host with preserve_host', async () => {
    const echoHost = new URL(echo.url).host;
    const plain = (await fetchText(`${gateway.httpUrl}/api`, { headers: { host: 'client.test' } })).json<Echo>();
    assert.equal(echoedHeader(plain, 'host'), echoHost);
    assert.equal(echoedHeader(plain, 'x-forwarded-host'), 'client.test');
    const preserved = (await fetchText(`${gateway.httpUrl}/preserve`, { headers: { host: 'client.test' } })).json<Echo>();
    assert.equal(echoedHeader(preserved, 'host'), 'client.test');
  });

  it('matches wildcard hosts', async () => {
    assert.equal((await fetchText(`${gateway.httpUrl}/hosted`, { headers: { host: 'a.example.test' } })).status, 200);
    assert.equal((await fetchText(`${gateway.httpUrl}/hosted`, { headers: { host: 'example.test' } })).status, 404);
  });

  it('adds forwarding headers and a request id, and returns the id to the client', async () => {
    const res = await fetchText(`${gateway.httpUrl}/anything`);
    const body = res.json<Echo>();
    const id = res.headers['x-request-id'];
    assert.equal(typeof id, 'string');
    assert.equal(echoedHeader(body, 'x-request-id'), id);
    assert.equal(echoedHeader(body, 'x-forwarded-for'), '127.0.0.1');
    assert.equal(echoedHeader(body, 'x-real-ip'), '127.0.0.1');
    assert.equal(echoedHeader(body, 'x-forwarded-proto'), 'http');
    assert.match(echoedHeader(body, 'via') ?? '', /portcullis/);
    assert.match(String(res.headers['via']), /portcullis/);
  });

  it('keeps a well-formed client request id', async () => {
    const res = await fetchText(`${gateway.httpUrl}/anything`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers['x-request-id'], 'abc-123');
    assert.equal(echoedHeader(res.json<Echo>(), 'x-request-id'), 'abc-123');
  });

  it('removes hop-by-hop headers and headers named by Connection', async () => {
    const port = Number(new URL(gateway.httpUrl).port);
    const response = await rawExchange(
      port,
      'GET /anything HTTP/1.1\r\nHost: x\r\nConnection: close, x-secret-hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: gzip\r\nProxy-Connection: keep-alive\r\n\r\n',
    );
    assert.match(response, /^HTTP\/1\.1 200/);
    const body = rawJsonBody<Echo>(response);
    assert.equal(echoedHeader(body, 'proxy-connection'), undefined);
    assert.equal(echoedHeader(body, 'x-secret-hop'), undefined);
    assert.equal(echoedHeader(body, 'keep-alive'), undefined);
    assert.equal(echoedHeader(body, 'te'), undefined);
  });

  it('never lets a client set identity headers upstream', async () => {
    const body = (
      await fetchText(`${gateway.httpUrl}/anything`, { headers: { 'x-consumer-id': 'admin', 'x-consumer-username': 'root', 'x-anonymous-consumer': 'false', 'x-credential-identifier': 'x' } })
    ).json<Echo>();
    for (const h of ['x-consumer-id', 'x-consumer-username', 'x-anonymous-consumer', 'x-credential-identifier']) {
      assert.equal(echoedHeader(body, h), undefined, h);
    }
  });

  it("answers 404 with Kong's body when no route matches", async () => {
    const res = await fetchText(`${gateway.httpUrl}/nowhere`);
    assert.equal(res.status, 404);
    const body = res.json<{ message: string; request_id: string }>();
    assert.equal(body.message, 'no Route matched with those values');
    assert.equal(body.request_id, res.headers['x-request-id']);
  });

  it('answers 426 for an https-only route requested over http', async () => {
    const res = await fetchText(`${gateway.httpUrl}/secure`);
    assert.equal(res.status, 426);
    assert.equal(res.json<{ message: string }>().message, 'Please use HTTPS protocol');
    assert.equal((await fetchText(`${gateway.httpsUrl}/secure`)).status, 200);
  });

  it('answers 502 when the upstream refuses connections, after retrying', async () => {
    const res = await fetchText(`${gateway.httpUrl}/dead`);
    assert.equal(res.status, 502);
    assert.equal(res.json<{ message: string }>().message, 'An invalid response was received from the upstream server');
    const record = await gateway.waitForLog((l) => (l['access'] as Record<string, unknown> | undefined)?.['route'] === 'dead-route');
    assert.equal((record['access'] as Record<string, unknown>)['status'], 502);
  });

  it('answers 504 when the upstream is slower than read_timeout', async () => {
    const res = await fetchText(`${gateway.httpUrl}/slow`);
    assert.equal(res.status, 504);
    assert.equal(res.json<{ message: string }>().message, 'The upstream server is timing out');
  });

  it('runs a plugin scoped to one route only on that route', async () => {
    const terminated = await fetchText(`${gateway.httpUrl}/keep`, { headers: { 'x-terminate': '1' } });
    assert.equal(terminated.status, 418);
    assert.deepEqual(terminated.json(), { message: 'teapot' });
    assert.equal((await fetchText(`${gateway.httpUrl}/keep`)).status, 200);
    assert.equal((await fetchText(`${gateway.httpUrl}/anything`, { headers: { 'x-terminate': '1' } })).status, 200);
  });

  it('streams a large request body upstream and a large response back intact', async () => {
    const size = 24 * 1024 * 1024;
    const payload = Buffer.alloc(size, 7);
    const res = await request(`${gateway.httpUrl}/anything/upload`, { method: 'POST', body: payload, dispatcher: insecureAgent, headers: { 'content-type': 'application/octet-stream' } });
    const body = (await res.body.json()) as Record<string, unknown>;
    assert.equal(res.statusCode, 200);
    assert.equal(body['data_length'], size);
    assert.equal(body['data_sha256'], createHash('sha256').update(payload).digest('hex'));

    const big = await request(`${gateway.httpsUrl}/big`, { dispatcher: insecureAgent });
    assert.equal(big.statusCode, 200);
    const digest = createHash('sha256');
    let received = 0;
    for await (const chunk of big.body) {
      digest.update(chunk as Buffer);
      received += (chunk as Buffer).length;
    }
    assert.equal(received, bigBody.length);
    assert.equal(digest.digest('hex'), createHash('sha256').update(bigBody).digest('hex'));
  });

  it('writes one access-log line per request with route, service, status and latencies', async () => {
    await fetchText(`${gateway.httpUrl}/anything`, { headers: { 'x-request-id': 'log-check-1', authorization: 'Bearer secret-token-value' } });
    const line = await gateway.waitForLog((l) => (l['access'] as Record<string, unknown> | undefined)?.['request_id'] === 'log-check-1');
    const access = line['access'] as Record<string, unknown>;
    assert.equal(access['route'], 'example-route');
    assert.equal(access['service'], 'example-service');
    assert.equal(access['status'], 200);
    assert.equal(typeof (access['latency_ms'] as Record<string, unknown>)['upstream'], 'number');
    assert.ok(!JSON.stringify(gateway.logs).includes('secret-token-value'), 'a token reached the log');
    assert.ok(accessRecords(gateway).length > 0);
  });
});
