// The HTTP part of the attack corpus. Every case is real bytes on a real socket to a real gateway
// process (`portcullis start --workers 1`), in front of an upstream that records every request its
// own parser sees. Each case checks what the client got, what reached the upstream (usually:
// nothing), and the reason code in the gateway's JSON access log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority, type IssuedCertificate } from '../../src/certs/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';
import {
  accessRecord,
  accessRecords,
  assertRefused,
  exchange,
  request,
  rfc3986Normalize,
  sleep,
  startCountingUpstream,
  type CountingUpstream,
  type RawResult,
} from './http-harness.js';

const headersTimeoutMs = 1500;
const requestTimeoutMs = 3000;
const maxHeaderSize = 16_384;
const caId = '7c1f5a7e-3d2b-4c55-9a43-2f0d6c1b8e91';

const indent = (pem: string, spaces: number): string =>
  pem
    .trim()
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n');

function config(upstream: string, ca: CertificateAuthority): string {
  return `_format_version: "3.0"
consumers:
  - username: anonymous-user
ca_certificates:
  - id: ${caId}
    cert: |
${indent(ca.certPem, 6)}
services:
  - name: public-service
    url: ${upstream}
    routes:
      - name: public
        paths: ["/public"]
        strip_path: false
  - name: admin-service
    url: ${upstream}
    routes:
      - name: admin
        paths: ["/admin"]
        strip_path: false
        plugins:
          - name: request-termination
            config: { status_code: 403, message: admin is closed }
  - name: hosted-service
    url: ${upstream}/hosted
    routes:
      - name: hosted
        hosts: ["api.good.test"]
        paths: ["/h"]
  - name: regex-service
    url: ${upstream}
    routes:
      - name: redos
        paths: ["~/redos/(a+)+$"]
        strip_path: false
      - name: redos-backtracking
        paths: ["~/slow/(?=a)(a+)+$"]
        strip_path: false
  - name: mtls-service
    url: ${upstream}
    routes:
      - name: mtls-anon
        paths: ["/mtls-anon"]
        strip_path: false
        plugins:
          - name: mtls-auth
            config: { ca_certificates: [${caId}], anonymous: anonymous-user, skip_consumer_lookup: true, revocation_check_mode: SKIP }
`;
}

let upstream: CountingUpstream;
/** A second upstream no route points to: an absolute-form or CONNECT target must never reach it. */
let decoy: CountingUpstream;
let gateway: GatewayProcess;
let port: number;
let tlsPort: number;
let client: IssuedCertificate;

before(async () => {
  upstream = await startCountingUpstream();
  decoy = await startCountingUpstream();
  const ca = await createCertificateAuthority({ subject: 'CN=Security Corpus CA', keyType: 'ec-p256' });
  client = await issueCertificate({ ca, subject: 'CN=real-client, O=Corpus', usage: 'client', keyType: 'ec-p256' });
  gateway = await startGatewayProcess({
    config: config(upstream.url, ca),
    args: ['--headers-timeout', String(headersTimeoutMs), '--request-timeout', String(requestTimeoutMs), '--max-header-size', String(maxHeaderSize)],
  });
  port = Number(new URL(gateway.httpUrl).port);
  tlsPort = Number(new URL(gateway.httpsUrl).port);
});

after(async () => {
  await gateway?.stop();
  await upstream?.close();
  await decoy?.close();
});

let counter = 0;
/** A request id the gateway keeps (plain characters), unique per case. */
const newId = (name: string): string => `${name}-${++counter}`;

/** Lets anything the gateway might still be sending upstream arrive before we count. */
const settle = (): Promise<void> => sleep(150);

/** The one response of an exchange that must have exactly one. */
function only(result: RawResult): NonNullable<RawResult['responses'][number]> {
  assert.equal(result.responses.length, 1, `exactly one response expected, got:\n${result.text}`);
  return result.responses[0]!;
}

describe('request smuggling shapes', () => {
  // A follow-up request pipelined behind each attack: if the gateway framed the attack request
  // differently from what it says, this (or part of the attack body) would become a request.
  const followUp = (id: string): string => request(['GET /public/follow-up HTTP/1.1', 'Host: x', `X-Request-Id: ${id}-follow-up`]);

  const refusedHeads: Array<[string, (id: string) => string, string?]> = [
    ['Content-Length then Transfer-Encoding (CL.TE)', (id) => request(['POST /public/cl-te HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: 6', 'Transfer-Encoding: chunked'], '0\r\n\r\nG')],
    ['Transfer-Encoding then Content-Length (TE.CL)', (id) => request(['POST /public/te-cl HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding: chunked', 'Content-Length: 4'], '5c\r\nGPOST /public/te-cl-inner HTTP/1.1\r\n\r\n0\r\n\r\n')],
    ['Content-Length: 0 with Transfer-Encoding: chunked', (id) => request(['POST /public/cl0-te HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: 0', 'Transfer-Encoding: chunked'], '0\r\n\r\n')],
    ['two Content-Length headers with different values', (id) => request(['POST /public/cl-cl HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: 5', 'Content-Length: 6'], 'hello!')],
    ['two Content-Length headers with equal values', (id) => request(['POST /public/cl-cl-equal HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: 5', 'Content-Length: 5'], 'hello')],
    ['a Content-Length list "5, 5"', (id) => request(['POST /public/cl-list HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: 5, 5'], 'hello')],
    ['Content-Length: +5', (id) => request(['POST /public/cl-plus HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: +5'], 'hello')],
    ['Content-Length: -1', (id) => request(['POST /public/cl-negative HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: -1'], 'hello')],
    ['Transfer-Encoding folded onto the next line (obs-fold)', (id) => request(['POST /public/te-fold HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding:', ' chunked'], '0\r\n\r\n')],
    ['Transfer-Encoding: xchunked', (id) => request(['POST /public/te-xchunked HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding: xchunked'], '0\r\n\r\n')],
    ['Transfer-Encoding: chunked, identity (chunked not last)', (id) => request(['POST /public/te-chunked-identity HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding: chunked, identity'], '0\r\n\r\n')],
    ['Transfer-Encoding: chunked twice', (id) => request(['POST /public/te-twice HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '0\r\n\r\n')],
    ['a space before the colon of Transfer-Encoding', (id) => request(['POST /public/te-space HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding : chunked'], '0\r\n\r\n')],
    ['obs-fold in an ordinary header', (id) => request(['GET /public/fold HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'X-Folded: first', ' second'])],
    ['bare LF line endings throughout', (id) => `GET /public/lf HTTP/1.1\nHost: x\nX-Request-Id: ${id}\n\n`],
    ['one header ended by a bare LF', (id) => `GET /public/lf-one HTTP/1.1\r\nHost: x\nX-Request-Id: ${id}\r\n\r\n`],
    ['a bare CR inside a header value', (id) => request(['GET /public/cr HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'X-Note: a\rX-Consumer-ID: evil'])],
    ['a NUL inside a header value', (id) => request(['GET /public/nul HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'X-Note: a\u0000b'])],
    ['a header line without a colon', (id) => request(['GET /public/no-colon HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'NoColonHere'])],
    ['a NUL in the request target', (id) => request(['GET /public/\u0000admin HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`])],
    ['HTTP/1.0 with Transfer-Encoding: chunked', (id) => request(['POST /public/http10-te HTTP/1.0', 'Host: x', `X-Request-Id: ${id}`, 'Connection: keep-alive', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), 'http10_transfer_encoding'],
  ];

  for (const [name, build, reason] of refusedHeads) {
    it(`refuses ${name}: 400 ${reason ?? 'bad_request'}, nothing upstream, no second request`, async () => {
      const id = newId('smuggle');
      const mark = upstream.requests.length;
      const result = await exchange(port, build(id) + followUp(id));
      await assertRefused(gateway, result, 400, reason ?? 'bad_request');
      await settle();
      assert.deepEqual(upstream.since(mark), [], 'nothing reached the upstream');
      assert.equal(accessRecords(gateway, `${id}-follow-up`).length, 0, 'the pipelined follow-up was never handled');
    });
  }

  // Chunk framing errors show up after the head was handed on, so the upstream may have seen the
  // head of a request whose body then broke off: never a complete request, never a second one.
  const brokenChunks: Array<[string, string]> = [
    ['a chunk size with a leading space', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['a chunk size written 0x5', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['a chunk size ended by a bare LF', '5\nhello\r\n0\r\n\r\n'],
    ['chunk data longer than its size', '5\r\nhelloGET /admin HTTP/1.1\r\n\r\n0\r\n\r\n'],
    ['a chunk size that overflows', 'ffffffffffffffffff\r\nhello\r\n0\r\n\r\n'],
  ];
  for (const [name, body] of brokenChunks) {
    it(`refuses ${name}: 400 bad_request, the upstream never gets a complete request`, async () => {
      const id = newId('chunk');
      const mark = upstream.requests.length;
      const result = await exchange(port, request(['POST /public/chunks HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding: chunked'], body) + followUp(id));
      await assertRefused(gateway, result, 400, 'bad_request');
      await settle();
      const seen = upstream.since(mark);
      assert.ok(seen.length <= 1, `at most the broken request itself: ${JSON.stringify(seen.map((r) => r.url))}`);
      for (const r of seen) {
        assert.equal(r.url, '/public/chunks');
        assert.equal(r.requestId, id);
        await upstream.waitFor((x) => x === r);
        assert.equal(r.complete, false, 'the upstream never received the broken request as complete');
      }
      assert.ok(accessRecords(gateway, id).every((r) => r.status !== 200));
      assert.equal(accessRecords(gateway, `${id}-follow-up`).length, 0);
    });
  }

  it('answers pipelined requests one by one (so a missing second answer above means something)', async () => {
    const id = newId('pipelined');
    const result = await exchange(
      port,
      request(['GET /public/one HTTP/1.1', 'Host: x', `X-Request-Id: ${id}-1`]) + request(['GET /public/two HTTP/1.1', 'Host: x', `X-Request-Id: ${id}-2`, 'Connection: close']),
    );
    assert.deepEqual(result.responses.map((r) => r.status), [200, 200]);
    assert.equal(upstream.withId(`${id}-1`).length, 1);
    assert.equal(upstream.withId(`${id}-2`).length, 1);
    assert.equal((await accessRecord(gateway, `${id}-2`)).route, 'public');
  });

  it('a request hidden in a Content-Length body reaches the upstream only as body bytes', async () => {
    const id = newId('hidden-cl');
    const hidden = request(['GET /admin/hidden HTTP/1.1', 'Host: x', `X-Request-Id: ${id}-hidden`]);
    const mark = upstream.requests.length;
    const result = await exchange(
      port,
      request(['POST /public/carrier HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, `Content-Length: ${hidden.length}`], hidden) +
        request(['GET /public/after HTTP/1.1', 'Host: x', `X-Request-Id: ${id}-after`, 'Connection: close']),
    );
    assert.deepEqual(result.responses.map((r) => r.status), [200, 200], 'one answer per request the client sent');
    await settle();
    const seen = upstream.since(mark);
    assert.deepEqual(seen.map((r) => `${r.method} ${r.url}`), ['POST /public/carrier', 'GET /public/after']);
    assert.equal(seen[0]!.body.toString('latin1'), hidden);
    assert.equal(upstream.withId(`${id}-hidden`).length, 0);
    assert.equal(accessRecords(gateway, `${id}-hidden`).length, 0);
    assert.equal((await accessRecord(gateway, id)).status, 200);
  });

  it('a request hidden in a chunked body reaches the upstream only as body bytes', async () => {
    const id = newId('hidden-chunked');
    const hidden = request(['GET /admin/hidden HTTP/1.1', 'Host: x', `X-Request-Id: ${id}-hidden`]);
    const mark = upstream.requests.length;
    const result = await exchange(
      port,
      request(['POST /public/carrier HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding: chunked'], `${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`) +
        request(['GET /public/after HTTP/1.1', 'Host: x', `X-Request-Id: ${id}-after`, 'Connection: close']),
    );
    assert.deepEqual(result.responses.map((r) => r.status), [200, 200]);
    await settle();
    const seen = upstream.since(mark);
    assert.deepEqual(seen.map((r) => `${r.method} ${r.url}`), ['POST /public/carrier', 'GET /public/after']);
    assert.equal(seen[0]!.body.toString('latin1'), hidden);
    assert.equal(upstream.withId(`${id}-hidden`).length, 0);
  });

  it('Transfer-Encoding: identity, chunked is read as chunked (its final coding), one request', async () => {
    const id = newId('identity-chunked');
    const mark = upstream.requests.length;
    const result = await exchange(
      port,
      request(['POST /public/identity-chunked HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Transfer-Encoding: identity, chunked'], '5\r\nhello\r\n0\r\n\r\n') +
        request(['GET /public/after HTTP/1.1', 'Host: x', `X-Request-Id: ${id}-after`, 'Connection: close']),
    );
    assert.deepEqual(result.responses.map((r) => r.status), [200, 200]);
    await settle();
    const seen = upstream.since(mark);
    assert.deepEqual(seen.map((r) => r.url), ['/public/identity-chunked', '/public/after']);
    assert.equal(seen[0]!.body.toString(), 'hello');
  });
});

describe('header injection into identity headers', () => {
  const spoofed = [
    'X-Consumer-ID: 00000000-0000-0000-0000-000000000000',
    'X-Consumer-Username: root',
    'X-Consumer-Custom-ID: root-custom',
    'X-Credential-Identifier: stolen-credential',
    'X-Anonymous-Consumer: false',
    'X-Authenticated-Groups: admins',
  ];

  it('removes every Kong identity header a client sends before the upstream sees the request', async () => {
    const id = newId('identity');
    const result = await exchange(port, request(['GET /public/identity HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Connection: close', ...spoofed, 'X-Custom: kept']));
    assert.equal(only(result).status, 200);
    const [seen] = upstream.withId(id);
    assert.ok(seen !== undefined);
    for (const name of ['x-consumer-id', 'x-consumer-username', 'x-consumer-custom-id', 'x-credential-identifier', 'x-anonymous-consumer', 'x-authenticated-groups']) {
      assert.equal(seen.headers[name], undefined, `${name} reached the upstream`);
    }
    assert.equal(seen.headers['x-custom'], 'kept', 'ordinary headers pass (the removal is targeted)');
    assert.equal((await accessRecord(gateway, id)).route, 'public');
  });

  it('an authentication plugin’s identity replaces the spoofed one (mtls-auth, anonymous fallback)', async () => {
    const id = newId('identity-anon');
    const result = await exchange(port, request(['GET /mtls-anon/x HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Connection: close', ...spoofed]));
    assert.equal(only(result).status, 200);
    const [seen] = upstream.withId(id);
    assert.ok(seen !== undefined);
    assert.equal(seen.headers['x-consumer-username'], 'anonymous-user');
    assert.equal(seen.headers['x-anonymous-consumer'], 'true');
    assert.notEqual(seen.headers['x-consumer-id'], '00000000-0000-0000-0000-000000000000');
    assert.equal(seen.headers['x-credential-identifier'], undefined);
    assert.equal(seen.headers['x-authenticated-groups'], undefined);
    assert.equal(seen.headers['x-consumer-custom-id'], undefined);
    const record = await accessRecord(gateway, id);
    assert.equal(record.route, 'mtls-anon');
    assert.deepEqual(record['auth'], { plugin: 'mtls-auth', outcome: 'anonymous', reason: 'no_client_certificate' });
  });

  // With mtls-auth `skip_consumer_lookup`, X-Client-Cert-DN/SAN ARE the verified identity the
  // upstream reads; were client-sent ones forwarded, the anonymous fallback would let forged values
  // through as if a certificate had said so. They are removed from every request like X-Consumer-*.
  it('never forwards a client-sent X-Client-Cert-DN / X-Client-Cert-SAN (plain route; mtls-auth anonymous fallback)', async () => {
    for (const path of ['/public/dn', '/mtls-anon/dn']) {
      const id = newId('cert-dn');
      const result = await exchange(port, request([`GET ${path} HTTP/1.1`, 'Host: x', `X-Request-Id: ${id}`, 'Connection: close', 'X-Client-Cert-DN: CN=admin, O=Corpus', 'X-Client-Cert-SAN: admin.corpus.test']));
      assert.equal(only(result).status, 200);
      const [seen] = upstream.withId(id);
      assert.ok(seen !== undefined);
      assert.equal(seen.headers['x-client-cert-dn'], undefined, `${path}: a forged certificate DN reached the upstream`);
      assert.equal(seen.headers['x-client-cert-san'], undefined, `${path}: forged certificate SANs reached the upstream`);
    }
  });

  it('with a real client certificate, the verified DN replaces the client-sent one', async () => {
    const id = newId('cert-dn-real');
    const result = await exchange(tlsPort, request(['GET /mtls-anon/real HTTP/1.1', 'Host: localhost', `X-Request-Id: ${id}`, 'Connection: close', 'X-Client-Cert-DN: CN=admin, O=Corpus']), {
      tls: { servername: 'localhost', rejectUnauthorized: false, cert: client.certPem, key: client.keyPem },
    });
    assert.equal(only(result).status, 200);
    const [seen] = upstream.withId(id);
    assert.ok(seen !== undefined);
    assert.equal(seen.headers['x-client-cert-dn'], 'CN=real-client, O=Corpus');
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    assert.equal((await accessRecord(gateway, id)).status, 200);
  });

  it('a percent-encoded CRLF in a header value stays text in one header', async () => {
    const id = newId('encoded-crlf');
    const result = await exchange(port, request(['GET /public/encoded-crlf HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Connection: close', 'X-Note: a%0d%0aX-Consumer-ID: evil']));
    assert.equal(only(result).status, 200);
    const [seen] = upstream.withId(id);
    assert.equal(seen?.headers['x-note'], 'a%0d%0aX-Consumer-ID: evil');
    assert.equal(seen?.headers['x-consumer-id'], undefined);
  });

  it('a CRLF encoded in the path stays encoded in the one request line sent upstream', async () => {
    const id = newId('path-crlf');
    const mark = upstream.requests.length;
    const result = await exchange(port, request(['GET /public/%0d%0aX-Consumer-ID:%20evil%0d%0a HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Connection: close']));
    assert.equal(only(result).status, 200);
    await settle();
    const seen = upstream.since(mark);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.url, '/public/%0D%0AX-Consumer-ID:%20evil%0D%0A');
    assert.equal(seen[0]!.headers['x-consumer-id'], undefined);
  });
});

describe('oversized request heads', () => {
  it(`passes a head under --max-header-size (${maxHeaderSize})`, async () => {
    const id = newId('big-ok');
    const result = await exchange(port, request(['GET /public/big-ok HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Connection: close', `X-Big: ${'a'.repeat(10_000)}`]));
    assert.equal(only(result).status, 200);
    assert.equal(upstream.withId(id)[0]?.headers['x-big']?.length, 10_000);
  });

  const oversized: Array<[string, string]> = [
    ['one 20 KiB header', request(['GET /public/big HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(20_480)}`])],
    ['many small headers over the limit in total', request(['GET /public/many HTTP/1.1', 'Host: x', ...Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'b'.repeat(40)}`)])],
    ['a 64 KiB request line', request([`GET /public/${'u'.repeat(65_536)} HTTP/1.1`, 'Host: x'])],
  ];
  for (const [name, bytes] of oversized) {
    it(`refuses ${name}: 431 request_header_fields_too_large, nothing upstream`, async () => {
      const mark = upstream.requests.length;
      const result = await exchange(port, bytes);
      await assertRefused(gateway, result, 431, 'request_header_fields_too_large');
      await settle();
      assert.deepEqual(upstream.since(mark), []);
    });
  }
});

describe('slow clients (slowloris)', () => {
  /** A normal client's statuses, one request every 200 ms until `until` settles. */
  async function normalTraffic(until: Promise<unknown>): Promise<number[]> {
    let done = false;
    void until.finally(() => (done = true));
    const statuses: number[] = [];
    while (!done) {
      const res = await fetchText(`${gateway.httpUrl}/public/alongside`, { headers: { 'x-request-id': newId('alongside') } });
      statuses.push(res.status);
      await sleep(200);
    }
    return statuses;
  }

  it(`closes a connection whose head arrives one byte a second after --headers-timeout (${headersTimeoutMs} ms), while others are served`, async () => {
    const mark = upstream.requests.length;
    const head = `GET /public/slow-head HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(20)}`;
    const slow = exchange(port, '', { chunks: [...head], gapMs: 1000, timeoutMs: 15_000 });
    const [result, statuses] = await Promise.all([slow, normalTraffic(slow)]);
    assert.ok(result.closedByServer, 'the gateway closed the slow connection');
    assert.ok(result.elapsedMs >= headersTimeoutMs - 100 && result.elapsedMs < headersTimeoutMs + 2000, `closed after ${Math.round(result.elapsedMs)} ms`);
    const record = await assertRefused(gateway, result, 408, 'request_timeout');
    assert.equal(record.method, '');
    assert.ok(statuses.length >= 3 && statuses.every((s) => s === 200), `normal traffic: ${statuses.join(',')}`);
    await settle();
    assert.deepEqual(upstream.since(mark).filter((r) => r.url === '/public/slow-head'), []);
  });

  it(`closes a connection that dribbles its body after --request-timeout (${requestTimeoutMs} ms): 408, the upstream request cut off`, async () => {
    const id = newId('slow-body');
    const head = request(['POST /public/slow-body HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: 100']);
    const slow = exchange(port, '', { chunks: [head, ...'b'.repeat(30)], gapMs: 500, timeoutMs: 20_000 });
    const [result, statuses] = await Promise.all([slow, normalTraffic(slow)]);
    assert.ok(result.elapsedMs >= requestTimeoutMs - 100 && result.elapsedMs < requestTimeoutMs + 2500, `closed after ${Math.round(result.elapsedMs)} ms`);
    const record = await assertRefused(gateway, result, 408, 'request_timeout');
    assert.equal(record.method, 'POST');
    assert.equal(record.path, '/public/slow-body');
    assert.ok(statuses.length >= 5 && statuses.every((s) => s === 200), `normal traffic: ${statuses.join(',')}`);
    // The body was being streamed: the upstream saw the head and part of the body, then the cut.
    const [seen] = upstream.withId(id);
    assert.ok(seen !== undefined);
    await upstream.waitFor((r) => r === seen);
    assert.equal(seen.complete, false);
    assert.ok(seen.body.length < 100);
    const proxied = await accessRecord(gateway, id);
    assert.equal(proxied.route, 'public');
    assert.equal(proxied.reason, 'client_aborted');
  });

  it('after answering early, a request timeout closes the connection without a stray second status line', async () => {
    const id = newId('slow-early');
    const head = request(['POST /public/early HTTP/1.1', 'Host: x', `X-Request-Id: ${id}`, 'Content-Length: 100']);
    const result = await exchange(port, '', { chunks: [head, ...'b'.repeat(30)], gapMs: 500, timeoutMs: 20_000 });
    assert.ok(result.closedByServer);
    assert.ok(result.elapsedMs >= requestTimeoutMs - 100, `closed after ${Math.round(result.elapsedMs)} ms`);
    assert.equal(only(result).status, 200);
    assert.equal(result.text.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, `one status line only:\n${result.text}`);
  });
});

describe('Host header and request targets', () => {
  it('HTTP/1.0 without Host: routes without hosts still match, host-bound routes do not', async () => {
    const id = newId('http10');
    const result = await exchange(port, request(['GET /public/http10 HTTP/1.0', `X-Request-Id: ${id}`]));
    assert.equal(only(result).status, 200);
    assert.equal(upstream.withId(id).length, 1);
    const record = await accessRecord(gateway, id);
    assert.equal(record.route, 'public');
    assert.equal(record['host'], '');

    const hostedId = newId('http10-hosted');
    const mark = upstream.requests.length;
    const hosted = await exchange(port, request(['GET /h/x HTTP/1.0', `X-Request-Id: ${hostedId}`]));
    assert.equal(only(hosted).status, 404);
    assert.equal((await accessRecord(gateway, hostedId)).reason, 'no_route');
    await settle();
    assert.deepEqual(upstream.since(mark), []);
  });

  it('HTTP/1.1 without Host: 400 host_header_missing, nothing upstream', async () => {
    const mark = upstream.requests.length;
    const result = await exchange(port, request(['GET /public/no-host HTTP/1.1', 'Connection: keep-alive']) + request(['GET /public/after HTTP/1.1', 'Host: x']));
    const record = await assertRefused(gateway, result, 400, 'host_header_missing');
    assert.equal(record.method, 'GET');
    assert.equal(record.path, '/public/no-host');
    await settle();
    assert.deepEqual(upstream.since(mark), []);
  });

  it('two Host headers: 400 host_header_duplicated, nothing upstream', async () => {
    const mark = upstream.requests.length;
    const result = await exchange(port, request(['GET /h/dup HTTP/1.1', 'Host: api.good.test', 'Host: evil.example']));
    const record = await assertRefused(gateway, result, 400, 'host_header_duplicated');
    assert.equal(record['host'], 'api.good.test');
    await settle();
    assert.deepEqual(upstream.since(mark), []);
  });

  it('an absolute-form target naming another server is routed by the gateway’s rules, never proxied there', async () => {
    const id = newId('absolute');
    const decoyHost = `127.0.0.1:${decoy.port}`;
    const result = await exchange(port, request([`GET http://${decoyHost}/public/absolute HTTP/1.1`, `Host: ${decoyHost}`, `X-Request-Id: ${id}`, 'Connection: close']));
    assert.equal(only(result).status, 200);
    const [seen] = upstream.withId(id);
    assert.equal(seen?.url, '/public/absolute', 'the configured upstream got the origin-form path');
    assert.equal(seen?.headers.host, `127.0.0.1:${upstream.port}`, 'with the service’s Host');
    assert.equal(decoy.connections(), 0, 'nothing ever connected to the server the target named');
    assert.equal((await accessRecord(gateway, id)).route, 'public');
  });

  it('the authority of an absolute-form target is the host routed on (RFC 9112 §3.2.2), either way round', async () => {
    const good = newId('absolute-good');
    const toGood = await exchange(port, request(['GET http://api.good.test/h/x HTTP/1.1', 'Host: evil.example', `X-Request-Id: ${good}`, 'Connection: close']));
    assert.equal(only(toGood).status, 200);
    assert.equal(upstream.withId(good)[0]?.url, '/hosted/x');
    assert.equal((await accessRecord(gateway, good)).route, 'hosted');

    const evil = newId('absolute-evil');
    const mark = upstream.requests.length;
    const toEvil = await exchange(port, request(['GET http://evil.example/h/x HTTP/1.1', 'Host: api.good.test', `X-Request-Id: ${evil}`, 'Connection: close']));
    assert.equal(only(toEvil).status, 404);
    assert.equal((await accessRecord(gateway, evil)).reason, 'no_route');
    await settle();
    assert.deepEqual(upstream.since(mark), []);
    assert.equal(decoy.connections(), 0);
  });

  it('CONNECT opens no tunnel: 405 method_not_allowed, nothing reaches the named server', async () => {
    const decoyHost = `127.0.0.1:${decoy.port}`;
    const mark = upstream.requests.length;
    const result = await exchange(port, request([`CONNECT ${decoyHost} HTTP/1.1`, `Host: ${decoyHost}`]) + request(['GET /admin/through-tunnel HTTP/1.1', 'Host: x']));
    const record = await assertRefused(gateway, result, 405, 'method_not_allowed');
    assert.equal(record.method, 'CONNECT');
    await settle();
    assert.equal(decoy.connections(), 0);
    assert.deepEqual(upstream.since(mark), []);
  });
});

describe('path traversal and encoding tricks against route prefixes', () => {
  // route: which route must match (null: none, 404); upstream: the exact path the upstream gets.
  const cases: Array<{ path: string; route: 'public' | 'admin' | null; upstream?: string }> = [
    { path: '/public/../admin', route: 'admin' },
    { path: '/public/%2e%2e/admin', route: 'admin' },
    { path: '/public/%2E%2E/admin', route: 'admin' },
    { path: '/public/.%2e/admin', route: 'admin' },
    { path: '/public/%2e/../admin', route: 'admin' },
    { path: '/public/../../admin', route: 'admin' },
    { path: '//admin', route: 'admin' },
    { path: '/./admin', route: 'admin' },
    { path: '/%2e%2e/admin', route: 'admin' },
    { path: '/%00/../admin', route: 'admin' },
    { path: '/admin%2f..%2fpublic', route: 'admin' },
    { path: '/public/..%2fadmin', route: 'public', upstream: '/public/..%2Fadmin' },
    { path: '/public/%2e%2e%2fadmin', route: 'public', upstream: '/public/..%2Fadmin' },
    { path: '/public%2fadmin', route: 'public', upstream: '/public%2Fadmin' },
    { path: '/public%2f..%2fadmin', route: 'public', upstream: '/public%2F..%2Fadmin' },
    { path: '/public/%00/../admin', route: 'public', upstream: '/public/admin' },
    { path: '/public/%00admin', route: 'public', upstream: '/public/%00admin' },
    { path: '/public/%c0%ae%c0%ae/admin', route: 'public', upstream: '/public/%C0%AE%C0%AE/admin' },
    { path: '/public/%252e%252e/admin', route: 'public', upstream: '/public/%252e%252e/admin' },
    { path: '/public/..;/admin', route: 'public', upstream: '/public/..;/admin' },
    { path: '/public\\..\\admin', route: 'public', upstream: '/public%5C..%5Cadmin' },
    { path: '/public/.../admin', route: 'public', upstream: '/public/.../admin' },
    { path: '/%2fadmin', route: null },
    { path: '/ADMIN', route: null },
  ];

  for (const { path, route, upstream: expected } of cases) {
    it(`${path} → ${route ?? 'no route'}${expected === undefined ? '' : `, upstream ${expected}`}`, async () => {
      const id = newId('traversal');
      const mark = upstream.requests.length;
      const result = await exchange(port, request([`GET ${path} HTTP/1.1`, 'Host: x', `X-Request-Id: ${id}`, 'Connection: close']));
      const response = only(result);
      const record = await accessRecord(gateway, id);
      await settle();
      const seen = upstream.since(mark);
      // Whatever the case: nothing the /admin route guards reaches the upstream, and a request
      // the /public route let through stays under /public for a standards-following upstream.
      for (const r of seen) {
        assert.ok(!rfc3986Normalize(r.url).startsWith('/admin'), `the upstream got ${r.url}`);
        assert.ok(!/(^|\/)\.\.?(\/|$)/.test(r.url), `a dot segment reached the upstream: ${r.url}`);
      }
      if (route === 'admin') {
        assert.equal(response.status, 403);
        assert.equal(record.route, 'admin');
        assert.equal(record.reason, 'request_terminated');
        assert.deepEqual(seen, []);
      } else if (route === 'public') {
        assert.equal(response.status, 200);
        assert.equal(record.route, 'public');
        assert.deepEqual(seen.map((r) => r.url), [expected]);
        assert.ok(rfc3986Normalize(seen[0]!.url).startsWith('/public'), `matched /public but the upstream got ${seen[0]!.url}`);
      } else {
        assert.equal(response.status, 404);
        assert.equal(record.reason, 'no_route');
        assert.deepEqual(seen, []);
      }
    });
  }
});

describe('route regexes that could backtrack catastrophically', () => {
  const attack = `a${'a'.repeat(32)}!`;

  for (const [prefix, route] of [
    ['/redos/', 'redos'],
    ['/slow/', 'redos-backtracking'],
  ] as const) {
    it(`${prefix}${attack} is answered in well under 2 s while other requests are served (${route})`, async () => {
      const id = newId('redos');
      const ok = newId('redos-ok');
      const mark = upstream.requests.length;
      const started = performance.now();
      const [attacked, normal] = await Promise.all([
        exchange(port, request([`GET ${prefix}${attack} HTTP/1.1`, 'Host: x', `X-Request-Id: ${id}`, 'Connection: close']), { timeoutMs: 10_000 }),
        (async () => {
          await sleep(20);
          return fetchText(`${gateway.httpUrl}/public/during-redos`, { headers: { 'x-request-id': ok } });
        })(),
      ]);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 2000, `took ${Math.round(elapsed)} ms`);
      assert.equal(only(attacked).status, 404);
      assert.equal((await accessRecord(gateway, id)).reason, 'no_route');
      assert.equal(normal.status, 200);
      assert.deepEqual(upstream.since(mark).map((r) => r.requestId), [ok]);

      // The route itself works.
      const matchId = newId('redos-match');
      const matching = await exchange(port, request([`GET ${prefix}aaaa HTTP/1.1`, 'Host: x', `X-Request-Id: ${matchId}`, 'Connection: close']));
      assert.equal(only(matching).status, 200);
      assert.equal((await accessRecord(gateway, matchId)).route, route);
    });
  }
});
