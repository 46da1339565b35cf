// Upstream faults through a real gateway process: nothing listening, a connection reset before or
// in the middle of a response, a head or a body later than the service's read_timeout, connections
// closed after each response or silently while idle (a stale keep-alive connection), 100 KB of
// response headers, and bytes that are not HTTP. For each: what the client sees (docs: 502/504
// before the status line; after it, the connection is cut), the access log's reason code, how many
// times the upstream was tried, and that a steady client on a healthy route saw only 200s meanwhile.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { FaultyUpstream, type Behaviour } from './faulty-upstream.js';
import { accessLine, assertRunning, sleep, timedRequest, unusedPort, whileHealthyRouteServes, type TimedResponse } from './harness.js';

/** The services' read_timeout (ms). */
const READ_TIMEOUT_MS = 800;
/** The services' retries. */
const RETRIES = 2;
const BODY_SIZE = 4_000;

const badGateway = 'An invalid response was received from the upstream server';
const timingOut = 'The upstream server is timing out';

describe('upstream faults', () => {
  let echo: EchoServer;
  let gateway: GatewayProcess;
  const upstreams: Record<string, FaultyUpstream> = {};
  const url = (route: string): string => `${gateway.httpUrl}/${route}`;
  const healthy = (): string => url('healthy');

  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const body = Buffer.alloc(BODY_SIZE, 'x');
    const behaviours: Record<string, Behaviour> = {
      // Head and half of a Content-Length body, then the connection is destroyed.
      'reset-mid-body': (_req, res, { upstream }) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY_SIZE) });
        res.write(body.subarray(0, BODY_SIZE / 2));
        upstream.later(50, () => res.socket?.destroy());
      },
      // The same with chunked framing.
      'reset-mid-chunked': (_req, res, { upstream }) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(body.subarray(0, BODY_SIZE / 2));
        upstream.later(50, () => res.socket?.destroy());
      },
      // The request arrives, the connection dies: no response byte at all.
      'reset-before-head': (req, _res, { upstream }) => upstream.kill(req),
      // No head within read_timeout.
      'slow-head': (_req, res, { upstream }) => upstream.later(10 * READ_TIMEOUT_MS, () => res.end('too late')),
      // Head and half the body at once, then nothing for longer than read_timeout.
      'slow-body': (_req, res, { upstream }) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BODY_SIZE) });
        res.write(body.subarray(0, BODY_SIZE / 2));
        upstream.later(10 * READ_TIMEOUT_MS, () => res.end(body.subarray(BODY_SIZE / 2)));
      },
      // Every response closes its connection (Connection: close).
      'conn-close': (_req, res) => res.writeHead(200, { connection: 'close', 'content-type': 'text/plain' }).end('ok'),
      // Kept alive, but an idle connection is closed 100 ms after its response without notice
      // (the response still advertises keep-alive).
      'idle-close': (req, res, { upstream, requestOnSocket }) => {
        res.on('finish', () =>
          upstream.later(100, () => {
            if (upstream.requestsOn(req.socket) === requestOnSocket) req.socket.destroy();
          }),
        );
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      },
      // A connection that already served a request is dead when the next request arrives on it: a
      // stale keep-alive connection (closed by the server, the close not yet seen by the gateway).
      stale: (req, res, { upstream, requestOnSocket }) => {
        if (requestOnSocket > 1) return upstream.kill(req);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      },
      // About 100 KB of response headers.
      'huge-headers': (_req, res) => {
        for (let i = 0; i < 25; i++) res.setHeader(`x-filler-${i}`, 'h'.repeat(4_000));
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      },
      // A good head, one good chunk, then a chunk size that is not hex: broken framing mid-body.
      'bad-chunk': (req, _res, { upstream }) => {
        req.socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n${(BODY_SIZE / 2).toString(16)}\r\n${'y'.repeat(BODY_SIZE / 2)}\r\n`);
        upstream.later(50, () => req.socket.end('zz-not-a-size\r\n\r\n'));
      },
      // Bytes that are not an HTTP response.
      'not-http': (req) => {
        req.socket.end('SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n');
      },
    };
    for (const [name, behaviour] of Object.entries(behaviours)) upstreams[name] = await FaultyUpstream.start(behaviour);
    const refusedPort = await unusedPort();
    const service = (name: string, upstreamUrl: string, extra: Record<string, unknown> = {}) => ({
      name,
      url: upstreamUrl,
      retries: RETRIES,
      read_timeout: READ_TIMEOUT_MS,
      connect_timeout: 2_000,
      routes: [{ name, paths: [`/${name}`] }],
      ...extra,
    });
    const config = {
      _format_version: '3.0',
      services: [
        { name: 'healthy', url: `${echo.url}/anything`, routes: [{ name: 'healthy', paths: ['/healthy'] }] },
        service('refused', `http://127.0.0.1:${refusedPort}`),
        ...Object.entries(upstreams).map(([name, upstream]) => service(name, upstream.url)),
      ],
    };
    gateway = await startGatewayProcess({ config: JSON.stringify(config) });
  });

  after(async () => {
    await gateway?.stop('SIGKILL');
    if (gateway !== undefined) await rm(gateway.prefix, { recursive: true, force: true });
    await Promise.all(Object.values(upstreams).map((u) => u.close()));
    await echo?.close();
  });

  /** The gateway's own error response: Kong's body, and the reason in the access log. */
  async function assertRefused(res: TimedResponse, status: number, message: string, reason: string): Promise<void> {
    assert.equal(res.status, status, res.text);
    assert.deepEqual(res.json(), { message, request_id: res.requestId });
    const line = await accessLine(gateway, res.requestId);
    assert.equal(line.status, status);
    assert.equal(line.reason, reason);
  }

  /** The status line went out, then the upstream failed: the client's connection is cut mid-body. */
  async function assertCutMidBody(res: TimedResponse, reason: string): Promise<void> {
    assert.equal(res.status, 200);
    assert.ok(res.bodyError !== null, `the body completed (${res.text.length} bytes): the client cannot tell it was cut short`);
    assert.ok(res.text.length < BODY_SIZE);
    const line = await accessLine(gateway, res.requestId);
    assert.equal(line.status, 200, 'the status that was sent');
    assert.equal(line.reason, reason);
  }

  it('connection refused: 502 upstream_connect_failed, for GET and for a POST with a body', async () => {
    await whileHealthyRouteServes(healthy(), async () => {
      for (const method of ['GET', 'POST'] as const) {
        const res = await timedRequest(url('refused'), { method, body: method === 'POST' ? '{"a":1}' : undefined, headers: { 'content-type': 'application/json' } });
        await assertRefused(res, 502, badGateway, 'upstream_connect_failed');
        assert.ok(res.ms < 2_000, `${method}: ${Math.round(res.ms)} ms to report a refused connection`);
      }
    });
    assertRunning(gateway);
  });

  it('reset mid-response: the status line is out, so the client connection is cut; the access log says upstream_reset', async () => {
    await whileHealthyRouteServes(healthy(), async () => {
      for (const name of ['reset-mid-body', 'reset-mid-chunked']) {
        const upstream = upstreams[name]!;
        const before = upstream.requests;
        const res = await timedRequest(url(name));
        await assertCutMidBody(res, 'upstream_reset');
        assert.equal(upstream.requests - before, 1, `${name}: never retried once a response has begun`);
      }
    });
    assertRunning(gateway);
  });

  it('reset before any response byte: GET is retried (1 + retries attempts) then 502; a POST with a body is not replayed', async () => {
    const upstream = upstreams['reset-before-head']!;
    await whileHealthyRouteServes(healthy(), async () => {
      let before = upstream.requests;
      const get = await timedRequest(url('reset-before-head'));
      await assertRefused(get, 502, badGateway, 'upstream_reset');
      assert.equal(upstream.requests - before, 1 + RETRIES, 'an idempotent request without a body is retried');

      before = upstream.requests;
      const post = await timedRequest(url('reset-before-head'), { method: 'POST', body: 'a=1', headers: { 'content-type': 'text/plain' } });
      await assertRefused(post, 502, badGateway, 'upstream_reset');
      assert.equal(upstream.requests - before, 1, 'a POST may have had effects: it is never replayed');
    });
    assertRunning(gateway);
  });

  it('slow head (beyond read_timeout): 504 upstream_timeout after about read_timeout, not retried', async () => {
    const upstream = upstreams['slow-head']!;
    await whileHealthyRouteServes(healthy(), async () => {
      const before = upstream.requests;
      const results = await Promise.all([0, 1, 2].map(() => timedRequest(url('slow-head'))));
      for (const res of results) {
        await assertRefused(res, 504, timingOut, 'upstream_timeout');
        assert.ok(res.ms >= 0.8 * READ_TIMEOUT_MS, `answered after ${Math.round(res.ms)} ms, before read_timeout`);
        assert.ok(res.ms <= 3 * READ_TIMEOUT_MS, `answered after ${Math.round(res.ms)} ms (read_timeout ${READ_TIMEOUT_MS})`);
      }
      assert.equal(upstream.requests - before, results.length, 'a read timeout is not retried');
    });
    assertRunning(gateway);
  });

  it('slow body (stalls mid-body beyond read_timeout): the client connection is cut after about read_timeout; upstream_timeout', async () => {
    await whileHealthyRouteServes(healthy(), async () => {
      const res = await timedRequest(url('slow-body'));
      await assertCutMidBody(res, 'upstream_timeout');
      assert.ok(res.ms >= 0.8 * READ_TIMEOUT_MS && res.ms <= 3 * READ_TIMEOUT_MS, `cut after ${Math.round(res.ms)} ms (read_timeout ${READ_TIMEOUT_MS})`);
    });
    assertRunning(gateway);
  });

  it('an upstream that closes every connection after its response (Connection: close): every request gets 200', async () => {
    const upstream = upstreams['conn-close']!;
    await whileHealthyRouteServes(healthy(), async () => {
      const before = upstream.connections;
      for (let i = 0; i < 10; i++) {
        const res = await timedRequest(url('conn-close'));
        assert.equal(res.status, 200, res.text);
        assert.equal((await accessLine(gateway, res.requestId)).reason, null);
      }
      assert.equal(upstream.connections - before, 10, 'one connection per request: none was reused after Connection: close');
    });
  });

  it('an upstream that silently closes idle keep-alive connections: every request gets 200 on a new connection', async () => {
    const upstream = upstreams['idle-close']!;
    await whileHealthyRouteServes(healthy(), async () => {
      const before = { connections: upstream.connections, requests: upstream.requests };
      for (let i = 0; i < 8; i++) {
        const res = await timedRequest(url('idle-close'));
        assert.equal(res.status, 200, res.text);
        await sleep(250);
      }
      assert.equal(upstream.requests - before.requests, 8, 'no request needed a retry');
      assert.equal(upstream.connections - before.connections, 8, 'each request found its previous connection closed');
    });
  });

  it('a stale keep-alive connection: an idempotent request is retried on a new connection (200); a POST with a body is not (502)', async () => {
    const upstream = upstreams['stale']!;
    await whileHealthyRouteServes(healthy(), async () => {
      const before = upstream.killed;
      // (undici does not reuse a connection after a HEAD, so the request after it starts afresh.)
      for (const method of ['GET', 'GET', 'DELETE', 'OPTIONS', 'HEAD', 'GET', 'GET']) {
        const res = await timedRequest(url('stale'), { method: method as 'GET' });
        assert.equal(res.status, 200, `${method}: ${res.text}`);
        const line = await accessLine(gateway, res.requestId);
        assert.equal(line.status, 200);
        assert.equal(line.reason, null);
      }
      assert.ok(upstream.killed - before >= 5, `only ${upstream.killed - before} requests met a stale connection: the case was not exercised`);

      // The pool now holds a connection that served one request: the POST goes out on it and dies.
      const killed = upstream.killed;
      const post = await timedRequest(url('stale'), { method: 'POST', body: 'x=1', headers: { 'content-type': 'text/plain' } });
      assert.equal(upstream.killed - killed, 1, 'the POST met the stale connection');
      await assertRefused(post, 502, badGateway, 'upstream_reset');
    });
    assertRunning(gateway);
  });

  it('100 KB of response headers: 502 upstream_invalid_response, not retried', async () => {
    const upstream = upstreams['huge-headers']!;
    await whileHealthyRouteServes(healthy(), async () => {
      const before = upstream.requests;
      const res = await timedRequest(url('huge-headers'));
      await assertRefused(res, 502, badGateway, 'upstream_invalid_response');
      assert.equal(upstream.requests - before, 1);
    });
    assertRunning(gateway);
  });

  it('an upstream that does not speak HTTP: 502 upstream_invalid_response', async () => {
    await whileHealthyRouteServes(healthy(), async () => {
      const res = await timedRequest(url('not-http'));
      await assertRefused(res, 502, badGateway, 'upstream_invalid_response');
    });
    assertRunning(gateway);
  });

  it('broken chunked framing mid-body: the client connection is cut; upstream_invalid_response', async () => {
    await whileHealthyRouteServes(healthy(), async () => {
      const res = await timedRequest(url('bad-chunk'));
      await assertCutMidBody(res, 'upstream_invalid_response');
    });
    assertRunning(gateway);
  });
});
