import { SingleEndpoint } from './service-endpoints.js';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { buildConnector, Pool } from 'undici';
import type { Service } from '../config/types.js';
import { sendUpstream, UpstreamError, type UpstreamRequest } from './send.js';
import { refusedPort, serviceFor, testResources, until } from './fixtures.js';

const { upstream, poolsFor, defer } = testResources();

function requestFor(service: Service, overrides: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return {
    endpoints: poolsFor(service).endpointsFor(service), defaultHost: null,
    service,
    method: 'GET',
    path: '/',
    headers: { host: `${service.host}:${service.port}` },
    body: null,
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected an UpstreamError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the request to fail');
}

describe('sendUpstream', () => {
  it('returns the upstream response with hop-by-hop headers removed', async () => {
    const { port } = await upstream((req, res) => {
      res.writeHead(201, { connection: 'x-hop', 'x-hop': '1', 'x-kept': 'yes', 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.url}`);
    });
    const response = await sendUpstream(requestFor(serviceFor({ port }), { method: 'PUT', path: '/a?b=c' }));
    assert.equal(response.status, 201);
    assert.equal(response.headers['x-kept'], 'yes');
    assert.equal(response.headers['x-hop'], undefined);
    assert.equal(response.headers['connection'], undefined);
    assert.equal(response.attempts, 1);
    assert.ok(response.headersLatencyMs >= 0);
    assert.equal((await response.body.toBuffer()).toString(), 'PUT /a?b=c');
  });

  it('answers 502 upstream_connect_failed on a refused port, after retries + 1 attempts', async () => {
    const service = serviceFor({ port: await refusedPort(), retries: 3 });
    const error = await failureOf(sendUpstream(requestFor(service)));
    assert.equal(error.status, 502);
    assert.equal(error.code, 'upstream_connect_failed');
    assert.equal(error.message, 'An invalid response was received from the upstream server');
    assert.equal(error.attempts, 4);
  });

  it('retries a refused POST too, because its body was never read', async () => {
    const service = serviceFor({ port: await refusedPort(), retries: 2 });
    const body = Readable.from([Buffer.from('payload')]);
    const error = await failureOf(sendUpstream(requestFor(service, { method: 'POST', body, headers: { 'content-length': '7' } })));
    assert.equal(error.attempts, 3);
    assert.equal(body.readableEnded, false, 'the client body is left unread');
  });

  it('retries a failed connection and then delivers the whole body on the next attempt', async () => {
    let seen = '';
    const { port } = await upstream((req, res) => {
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (seen += chunk));
      req.on('end', () => res.end('ok'));
    });
    const base = buildConnector({});
    let refusals = 1;
    const pool = new Pool(`http://127.0.0.1:${port}`, {
      connect: (opts, callback) => {
        if (refusals-- > 0) callback(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), null);
        else base(opts, callback);
      },
    });
    defer(() => pool.destroy());
    const service = serviceFor({ port, retries: 1 });
    const response = await sendUpstream({
      ...requestFor(service, { method: 'POST', headers: { 'content-length': '11' }, body: Readable.from([Buffer.from('hello '), Buffer.from('world')]) }),
      endpoints: new SingleEndpoint({ dispatcher: pool, servername: service.host, hostHeader: service.host, target: null, health: null }),
    });
    await response.body.toBuffer();
    assert.equal(response.attempts, 2);
    assert.equal(seen, 'hello world');
  });

  it('answers 504 upstream_timeout when the upstream never answers within read_timeout, without retrying', async () => {
    let requests = 0;
    const { port } = await upstream(() => {
      requests += 1;
    });
    const error = await failureOf(sendUpstream(requestFor(serviceFor({ port, read_timeout: 200, retries: 3 }))));
    assert.equal(error.status, 504);
    assert.equal(error.code, 'upstream_timeout');
    assert.equal(error.message, 'The upstream server is timing out');
    assert.equal(error.failure, 'read_timeout');
    assert.equal(error.attempts, 1);
    assert.equal(requests, 1);
  });

  it('retries a bodiless GET whose connection is reset before any response byte', async () => {
    let requests = 0;
    const { port } = await upstream((req) => {
      requests += 1;
      req.socket.destroy();
    });
    const error = await failureOf(sendUpstream(requestFor(serviceFor({ port, retries: 2 }))));
    assert.equal(error.status, 502);
    assert.equal(error.code, 'upstream_reset');
    assert.equal(error.attempts, 3);
    assert.equal(requests, 3);
  });

  it('does not retry a POST whose body was sent before the connection was reset', async () => {
    let requests = 0;
    const { port } = await upstream((req) => {
      requests += 1;
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    const service = serviceFor({ port, retries: 3 });
    const body = Readable.from([Buffer.from('x'.repeat(1000))]);
    const error = await failureOf(sendUpstream(requestFor(service, { method: 'POST', body, headers: { 'content-length': '1000' } })));
    assert.equal(error.code, 'upstream_reset');
    assert.equal(error.attempts, 1);
    assert.equal(requests, 1);
  });

  it('sends a buffered body with its length and replays it when an idempotent request is reset', async () => {
    const seen: string[] = [];
    const { port } = await upstream((req, res) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        seen.push(`${req.headers['content-length']}:${text}`);
        if (seen.length === 1) req.socket.destroy();
        else res.end('ok');
      });
    });
    const body = Buffer.from('{"a":1}');
    const response = await sendUpstream(requestFor(serviceFor({ port, retries: 1 }), { method: 'PUT', body, headers: { 'content-length': String(body.length) } }));
    await response.body.toBuffer();
    assert.equal(response.attempts, 2);
    assert.deepEqual(seen, ['7:{"a":1}', '7:{"a":1}']);
  });

  it('does not replay a buffered POST after a reset', async () => {
    let requests = 0;
    const { port } = await upstream((req) => {
      requests += 1;
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    const error = await failureOf(sendUpstream(requestFor(serviceFor({ port, retries: 3 }), { method: 'POST', body: Buffer.from('x'), headers: { 'content-length': '1' } })));
    assert.equal(error.code, 'upstream_reset');
    assert.equal(requests, 1);
  });

  it('answers 504 when the upstream stops reading the request body for write_timeout', async () => {
    const { port } = await upstream((req) => {
      req.pause();
    });
    function* endless(): Generator<Buffer> {
      const chunk = Buffer.alloc(64 * 1024);
      for (;;) yield chunk;
    }
    const service = serviceFor({ port, write_timeout: 300, read_timeout: 60_000 });
    const error = await failureOf(sendUpstream(requestFor(service, { method: 'POST', body: Readable.from(endless()) })));
    assert.equal(error.status, 504);
    assert.equal(error.failure, 'write_timeout');
  });

  it('aborts the upstream request when the client goes away', async () => {
    let upstreamClosed = false;
    let arrived = false;
    const { port } = await upstream((req) => {
      arrived = true;
      req.socket.on('close', () => (upstreamClosed = true));
    });
    const client = new AbortController();
    const sending = sendUpstream(requestFor(serviceFor({ port }), { signal: client.signal }));
    await until(() => arrived);
    client.abort();
    const error = await failureOf(sending);
    assert.equal(error.status, 499);
    assert.equal(error.code, 'client_aborted');
    await until(() => upstreamClosed);
  });
});
