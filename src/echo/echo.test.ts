import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Agent, request, type Dispatcher } from 'undici';
import { createSelfSignedCertificate } from '../certs/index.js';
import { seededBytes, startEchoServer, type EchoServer } from './index.js';

interface Echo {
  method: string;
  url: string;
  path: string;
  args: Record<string, string | string[]>;
  headers: Record<string, string>;
  origin: string;
  data: string | null;
  data_length: number;
  data_sha256: string;
  json: unknown;
  form: Record<string, string | string[]>;
  files: Record<string, never>;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

describe('the echo upstream', () => {
  let echo: EchoServer;
  const agent = new Agent();

  before(async () => {
    echo = await startEchoServer({});
  });

  after(async () => {
    await agent.close();
    await echo.close();
  });

  const call = (path: string, opts: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> = { method: 'GET' }) =>
    request(`${echo.url}${path}`, { dispatcher: agent, ...opts });
  const echoOf = async (path: string, opts?: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<Echo> => {
    const res = await call(path, opts);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    return (await res.body.json()) as Echo;
  };

  it('listens on 127.0.0.1 on an ephemeral port and says where', () => {
    assert.match(echo.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(new URL(echo.url).port, String(echo.port));
  });

  it('/anything describes a GET: method, full URL, path, repeated args as arrays, headers, origin', async () => {
    const body = await echoOf('/anything/a/b?x=1&y=2&y=3&z=a+b', {
      method: 'GET',
      headers: ['X-Custom-Header', 'Value', 'x-repeated', 'one', 'X-Repeated', 'two'],
    });
    assert.equal(body.method, 'GET');
    assert.equal(body.url, `${echo.url}/anything/a/b?x=1&y=2&y=3&z=a+b`);
    assert.equal(body.path, '/anything/a/b');
    assert.deepEqual(body.args, { x: '1', y: ['2', '3'], z: 'a b' });
    assert.equal(body.headers['X-Custom-Header'], 'Value', 'original spelling is kept');
    assert.equal(body.headers['x-repeated'], 'one,two', 'repeated headers are joined as httpbin does');
    assert.equal(body.headers['host'], new URL(echo.url).host);
    assert.equal(body.origin, '127.0.0.1');
    assert.equal(body.data, '');
    assert.equal(body.data_length, 0);
    assert.equal(body.data_sha256, sha256(''));
    assert.equal(body.json, null);
    assert.deepEqual(body.form, {});
    assert.deepEqual(body.files, {});
  });

  it('/anything keeps the raw path, percent-encoding and double slashes included', async () => {
    const body = await echoOf('/anything//x/%2F..%20y?q=%41');
    assert.equal(body.path, '/anything//x/%2F..%20y');
    assert.deepEqual(body.args, { q: 'A' });
  });

  it('echoes a JSON body as data and json', async () => {
    const payload = JSON.stringify({ hello: 'world', n: [1, 2] });
    const body = await echoOf('/anything', { method: 'POST', body: payload, headers: { 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(body.method, 'POST');
    assert.equal(body.data, payload);
    assert.deepEqual(body.json, { hello: 'world', n: [1, 2] });
    assert.equal(body.data_length, Buffer.byteLength(payload));
    assert.equal(body.data_sha256, sha256(payload));
  });

  it('parses a urlencoded body into form, and leaves json null for invalid JSON', async () => {
    const form = await echoOf('/anything', { method: 'PUT', body: 'a=1&a=2&b=x+y', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.deepEqual(form.form, { a: ['1', '2'], b: 'x y' });
    const broken = await echoOf('/anything', { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
    assert.equal(broken.json, null);
    assert.equal(broken.data, '{nope');
  });

  it('shows a binary body as a base64 data URL', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x10]);
    const body = await echoOf('/anything', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(body.data, `data:application/octet-stream;base64,${bytes.toString('base64')}`);
    assert.equal(body.data_sha256, sha256(bytes));
  });

  it('counts and hashes a large streamed body without echoing it', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const body = await echoOf('/anything/upload', { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(body.data, null);
    assert.equal(body.data_length, big.length);
    assert.equal(body.data_sha256, sha256(big));
  });

  it('/status/{code} answers that status with an empty body, and picks among a list', async () => {
    for (const code of [200, 204, 302, 401, 418, 503]) {
      const res = await call(`/status/${code}`, { method: code === 503 ? 'POST' : 'GET', body: code === 503 ? 'ignored' : null });
      assert.equal(res.statusCode, code);
      assert.equal(await res.body.text(), '');
    }
    const res = await call('/status/201,202');
    assert.ok([201, 202].includes(res.statusCode));
    await res.body.dump();
    const bad = await call('/status/abc');
    assert.equal(bad.statusCode, 400);
    assert.match(((await bad.body.json()) as { error: string }).error, /status/);
  });

  it('/delay/{seconds} answers like /anything after the delay', async () => {
    const body = await echoOf('/delay/0.05?k=v', { method: 'POST', body: 'late' });
    assert.equal(body.path, '/delay/0.05');
    assert.deepEqual(body.args, { k: 'v' });
    assert.equal(body.data, 'late');
    assert.equal((await call('/delay/soon')).statusCode, 400);
  });

  it('/delay gives up cleanly when the client goes away, and the server keeps serving', async () => {
    const gone = new AbortController();
    const pending = call('/delay/10', { method: 'GET', signal: gone.signal });
    setTimeout(() => gone.abort(), 50);
    await assert.rejects(pending);
    assert.equal((await echoOf('/anything')).method, 'GET');
  });

  it('/bytes/{n} sends n bytes with a content-length, reproducible with a seed', async () => {
    const res = await call('/bytes/100000?seed=42');
    assert.equal(res.headers['content-length'], '100000');
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    const got = Buffer.from(await res.body.arrayBuffer());
    assert.deepEqual(got, seededBytes(42, 100000));
    const random = Buffer.from(await (await call('/bytes/64')).body.arrayBuffer());
    assert.equal(random.length, 64);
    assert.equal((await call(`/bytes/${100 * 1024 * 1024 + 1}`)).statusCode, 400);
  });

  it('/stream-bytes/{n} sends n bytes chunked, the same bytes however they are chunked', async () => {
    const res = await call('/stream-bytes/50001?seed=7&chunk_size=999');
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.headers['content-length'], undefined);
    const got = Buffer.from(await res.body.arrayBuffer());
    assert.deepEqual(got, seededBytes(7, 50001));
  });

  it('HEAD /bytes/{n} sends the length and no body', async () => {
    const res = await call('/bytes/1234', { method: 'HEAD' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], '1234');
    assert.equal((await res.body.arrayBuffer()).byteLength, 0);
  });

  it('/headers, /get and /ip answer their httpbin subsets', async () => {
    const headers = await echoOf('/headers', { method: 'GET', headers: { 'X-Probe': 'p' } });
    assert.deepEqual(Object.keys(headers), ['headers']);
    assert.equal(headers.headers['X-Probe'], 'p');
    const get = await echoOf('/get?a=1');
    assert.deepEqual(Object.keys(get).sort(), ['args', 'headers', 'origin', 'url']);
    assert.deepEqual(get.args, { a: '1' });
    assert.deepEqual(await echoOf('/ip'), { origin: '127.0.0.1' });
    assert.equal((await call('/get', { method: 'POST', body: 'x' })).statusCode, 405);
  });

  it('answers an unknown path with a 404 JSON error', async () => {
    const res = await call('/nowhere');
    assert.equal(res.statusCode, 404);
    assert.deepEqual(await res.body.json(), { error: 'no echo endpoint at /nowhere' });
  });

  it('keeps connections alive across requests', async () => {
    const res = await call('/anything');
    assert.equal(res.headers['connection'], 'keep-alive');
    await res.body.dump();
  });

  it('refuses a body over maxBodyBytes with 413', async () => {
    const small = await startEchoServer({ maxBodyBytes: 10, maxEchoBodyBytes: 4 });
    try {
      const res = await request(`${small.url}/anything`, { method: 'POST', body: 'x'.repeat(11) });
      assert.equal(res.statusCode, 413);
      await res.body.dump();
      const truncated = await request(`${small.url}/anything`, { method: 'POST', body: 'hello' });
      const body = (await truncated.body.json()) as Echo;
      assert.equal(body.data, null, 'over maxEchoBodyBytes: counted, not echoed');
      assert.equal(body.data_length, 5);
    } finally {
      await small.close();
    }
  });

  it('serves HTTPS when given a certificate, and reports https URLs', async () => {
    const cert = await createSelfSignedCertificate({ subject: 'CN=localhost', ipAddresses: ['127.0.0.1'], keyType: 'ec-p256' });
    const secure = await startEchoServer({ tls: cert });
    const trusting = new Agent({ connect: { ca: cert.certPem } });
    try {
      assert.match(secure.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await request(`${secure.url}/anything?s=1`, { dispatcher: trusting });
      const body = (await res.body.json()) as Echo;
      assert.equal(body.url, `${secure.url}/anything?s=1`);
    } finally {
      await trusting.close();
      await secure.close();
      await secure.close();
    }
  });

  it('refuses bad options with a TypeError naming the option', async () => {
    await assert.rejects(startEchoServer({ port: 70000 }), /port/);
    await assert.rejects(startEchoServer({ maxBytes: -1 }), /maxBytes/);
  });
});
