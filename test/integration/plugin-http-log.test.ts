/**
 * http-log against a real gateway and a real collector (node:http) started here: one object per
 * request with Basic auth from the endpoint's user info and the configured headers; batches as
 * JSON arrays (the deprecated queue_size/flush_timeout shorthands); retries after 500s; a
 * collector that is down fills the bounded queue, which drops (counted in /metrics); no credential
 * in any record; the queue flushed when the gateway stops; Kong's schema errors.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { admin } from '../helpers/admin.js';
import { startCountingUpstream, type CountingUpstream } from '../helpers/counting-upstream.js';
import { eventually } from '../helpers/eventually.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import { closedPort } from '../helpers/ports.js';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

/** A log collector: records every request; `failures[path]` requests to a path are answered 500 first. */
interface Collector {
  readonly server: Server;
  readonly url: string;
  readonly received: Received[];
  readonly failures: Map<string, number>;
  at(path: string): Received[];
}

async function startCollector(): Promise<Collector> {
  const received: Received[] = [];
  const failures = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const failing = failures.get(path) ?? 0;
      const status = failing > 0 ? 500 : 200;
      if (failing > 0) failures.set(path, failing - 1);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, received, failures, at: (path) => received.filter((r) => r.url.split('?')[0] === path) };
}

/** A parsed record. */
type Entry = unknown;

/** The value at a dotted path of a parsed record (undefined where it is absent). */
function field(value: Entry, path: string): unknown {
  let at: unknown = value;
  for (const key of path.split('.')) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}


describe('http-log', () => {
  let gateway: GatewayProcess;
  let upstream: CountingUpstream;
  let collector: Collector;

  before(async () => {
    upstream = await startCountingUpstream();
    collector = await startCollector();
    collector.failures.set('/retry', 2);
    const down = await closedPort();
    const host = new URL(collector.url).host;
    gateway = await startGatewayProcess({
      config: `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-secret-key }]
services:
  - name: api
    url: ${upstream.url}
    routes:
      - name: single
        paths: [/single]
        plugins:
          - name: key-auth
          - name: http-log
            config:
              http_endpoint: http://collector:s3cret@${host}/single?tenant=t1
              headers: { x-collector-token: abc }
      - name: batched
        paths: [/batched]
        plugins:
          - name: http-log
            config: { http_endpoint: "${collector.url}/batched", method: PUT, queue_size: 3, flush_timeout: 30 }
      - name: retry
        paths: [/retry]
        plugins:
          - name: http-log
            config: { http_endpoint: "${collector.url}/retry", queue: { initial_retry_delay: 0.01 } }
      - name: down
        paths: [/down]
        plugins:
          - name: http-log
            config: { http_endpoint: "http://127.0.0.1:${down}/down", queue: { max_entries: 2, initial_retry_delay: 5, max_retry_time: 60 } }
`,
    });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
    collector.server.close();
  });

  it('sends one record per request as a JSON object, with Basic auth from the user info and the configured headers', async () => {
    const answer = await fetchText(`${gateway.httpUrl}/single/a?apikey=alice-secret-key`, { headers: { authorization: 'Bearer other-secret', cookie: 'sid=secret-cookie' } });
    assert.equal(answer.status, 200);
    const [sent] = await eventually('the record at the collector', () => (collector.at('/single').length >= 1 ? collector.at('/single') : undefined));
    assert.ok(sent !== undefined);
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, '/single?tenant=t1');
    assert.equal(sent.headers['authorization'], `Basic ${Buffer.from('collector:s3cret').toString('base64')}`);
    assert.equal(sent.headers['x-collector-token'], 'abc');
    assert.equal(sent.headers['content-type'], 'application/json');
    const entry = JSON.parse(sent.body) as Entry;
    assert.ok(!Array.isArray(entry));
    assert.equal(field(entry, 'request.uri'), '/single/a?apikey=REDACTED');
    assert.equal(field(entry, 'request.headers.authorization'), 'REDACTED');
    assert.equal(field(entry, 'response.status'), 200);
    assert.equal(field(entry, 'consumer.username'), 'alice');
    for (const secret of ['alice-secret-key', 'other-secret', 'secret-cookie']) assert.ok(!sent.body.includes(secret), secret);
  });

  it('sends a 401 as well, without the wrong key', async () => {
    assert.equal((await fetchText(`${gateway.httpUrl}/single/b`, { headers: { apikey: 'guessed-secret' } })).status, 401);
    const refused = await eventually('the 401 record', () => collector.at('/single').map((r) => JSON.parse(r.body) as Entry).find((e) => field(e, 'response.status') === 401));
    assert.equal(field(refused, 'source'), 'kong');
    assert.equal(field(refused, 'request.headers.apikey'), 'REDACTED');
    assert.ok(!collector.at('/single').some((r) => r.body.includes('guessed-secret')));
  });

  it('batches as a JSON array with max_batch_size > 1 (the deprecated queue_size), by the configured method', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await fetchText(`${gateway.httpUrl}/batched/${i}`)).status, 200);
    const [batch] = await eventually('one batch of three', () => (collector.at('/batched').length >= 1 ? collector.at('/batched') : undefined));
    assert.ok(batch !== undefined);
    assert.equal(batch.method, 'PUT');
    const entries = JSON.parse(batch.body) as Entry[];
    assert.ok(Array.isArray(entries));
    assert.deepEqual(entries.map((e) => text(field(e, 'request.uri'))).sort(), ['/batched/0', '/batched/1', '/batched/2']);
    assert.equal(collector.at('/batched').length, 1, 'three entries, one request');
  });

  it('retries a batch the collector answered 500, with backoff, until it is taken', async () => {
    assert.equal((await fetchText(`${gateway.httpUrl}/retry/x`)).status, 200);
    await eventually('the record delivered at the third attempt', () => collector.at('/retry').some((r) => r.status === 200), 10_000);
    assert.deepEqual(collector.at('/retry').map((r) => r.status), [500, 500, 200]);
    const bodies = new Set(collector.at('/retry').map((r) => r.body));
    assert.equal(bodies.size, 1, 'the same record each time');
  });

  it('with the collector down, keeps at most max_entries waiting and counts the dropped ones; requests are not held up', async () => {
    for (let i = 0; i < 8; i++) assert.equal((await fetchText(`${gateway.httpUrl}/down/${i}`)).status, 200);
    const dropped = await eventually('drops counted in /metrics', async () => {
      const text = (await admin(gateway.adminUrl, 'GET', '/metrics')).text;
      const match = /portcullis_log_entries_dropped_total\{plugin="http-log",reason="queue_full"\} (\d+)/.exec(text);
      return match !== null && Number(match[1]) >= 5 ? Number(match[1]) : undefined;
    });
    // One entry is being retried and two wait: every other one was dropped.
    assert.equal(dropped, 5);
    await gateway.waitForLog((l) => text(l['msg']).includes('http-log: log entries for 127.0.0.1'));
  });

  it("refuses Kong's schema errors at their paths", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ http_endpoint: 'http://u:p@example.com/', headers: { Authorization: 'Bearer x' } }, /specifying both an 'Authorization' header and user info/],
      [{ http_endpoint: 'http://example.com/', headers: { Host: 'x' } }, /cannot contain 'Host' header/],
      [{ http_endpoint: 'http://example.com/', headers: { 'content-type': 'x' } }, /cannot contain 'Content-Type' header/],
      [{ http_endpoint: 'example.com/logs' }, /missing scheme in url/],
      [{ http_endpoint: 'http://example.com/', method: 'GET' }, /method/],
      [{ http_endpoint: 'http://example.com/', queue: { concurrency_limit: 2 } }, /concurrency_limit/],
      [{ http_endpoint: 'http://example.com/', custom_fields_by_lua: { a: 'return 1' } }, /runs no Lua/],
      [{}, /http_endpoint/],
    ];
    for (const [config, message] of cases) {
      const answer = await admin(gateway.adminUrl, 'POST', '/plugins', { name: 'http-log', config });
      assert.equal(answer.status, 400, JSON.stringify(config));
      assert.match(answer.text, message);
    }
  });

  it('sends what is still queued when the gateway stops', async () => {
    const own = await startCollector();
    const stopping = await startGatewayProcess({
      config: `_format_version: "3.0"
services:
  - name: api
    url: ${upstream.url}
    routes:
      - name: slow
        paths: [/slow]
        plugins:
          - name: http-log
            config: { http_endpoint: "${own.url}/flush", queue: { max_batch_size: 100, max_coalescing_delay: 3600 } }
`,
    });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await fetchText(`${stopping.httpUrl}/slow/${i}`)).status, 200);
      assert.equal(own.received.length, 0, 'still coalescing');
    } finally {
      await stopping.stop();
      own.server.close();
    }
    assert.equal(own.received.length, 1);
    assert.equal((JSON.parse(own.received[0]!.body) as Entry[]).length, 2);
  });
});
