/**
 * response-transformer against a real gateway and an upstream that answers chosen bodies: Kong's
 * header edits (presence tested against the upstream's headers), JSON edits with json_types in
 * Kong's order and truthiness, Content-Length recomputed, what is left as it was (not JSON, JSON
 * that does not parse or is no object, compressed, HEAD), a body over the buffer limit refused with
 * 502, streamed responses that need no change still streamed, the gateway's own refusals
 * transformed too, and the schema messages.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { loadConfig } from '../../src/config/index.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

const object = { keep: 1, secret: 's', old: 'o', swap: 'x', off: false, list: ['a'], nul: null };
const BUFFER_LIMIT = 65536;

/** Answers by path; /stream sends one chunk and ends only once /release was called. */
async function startJsonUpstream(): Promise<{ server: Server; url: string }> {
  let release: (() => void) | null = null;
  const server = createServer((req, res) => {
    req.resume();
    const json = (body: string, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    switch (new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/[^/]+/, '')) {
      case '/object':
        return json(JSON.stringify(object), { 'x-remove': '1', 'x-old': 'moved', 'x-replace': 'before', 'x-keep': 'mine', 'x-append': 'first' });
      case '/array':
        return json('[1,2]');
      case '/broken':
        return json('{"secret":');
      case '/text':
        res.writeHead(200, { 'content-type': 'text/plain', 'x-remove': '1' });
        return res.end('{"secret":"s"}');
      case '/gzip': {
        const gz = gzipSync(JSON.stringify(object));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(gz.length) });
        return res.end(gz);
      }
      case '/big':
        return json(JSON.stringify({ secret: 's', pad: 'x'.repeat(BUFFER_LIMIT) }));
      case '/stream':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first;');
        release = () => res.end('last');
        return;
      case '/release':
        release?.();
        res.writeHead(204);
        return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('response-transformer', () => {
  let gateway: GatewayProcess;
  let upstream: Awaited<ReturnType<typeof startJsonUpstream>>;
  const get = (path: string, method: 'GET' | 'HEAD' = 'GET', headers: Record<string, string> = {}) => fetchText(`${gateway.httpUrl}${path}`, { method, headers });

  before(async () => {
    upstream = await startJsonUpstream();
    gateway = await startGatewayProcess({
      args: ['--max-buffered-body-size', String(BUFFER_LIMIT)],
      config: `_format_version: "3.0"
consumers:
  - username: app
    keyauth_credentials: [{ key: app-key }]
services:
  - name: json
    url: ${upstream.url}
    routes:
      - name: t
        paths: [/t]
        strip_path: false
        plugins:
          - name: response-transformer
            config:
              remove: { json: [secret], headers: [x-remove] }
              rename: { json: ["old:new"], headers: ["x-old:x-new"] }
              replace: { json: ["swap:42", "off:no", "missing:no"], json_types: [number, string, string], headers: ["x-replace:replaced", "x-absent:no"] }
              add: { json: ["added:true", "keep:no", "off:filled"], json_types: [boolean], headers: ["x-add:added", "x-keep:no"] }
              append: { json: ["list:b", "fresh:one", "path:a/b\\"c"], headers: ["x-append:second"] }
      - name: headers-only
        paths: [/h]
        strip_path: false
        plugins:
          - name: response-transformer
            config:
              add: { headers: ["x-add:added"] }
      - name: refused
        paths: [/refused]
        strip_path: false
        plugins:
          - name: key-auth
          - name: response-transformer
            config:
              add: { json: ["hint:send an apikey"] }
      - name: terminated
        paths: [/terminated]
        strip_path: false
        plugins:
          - name: response-transformer
            config:
              add: { json: ["hint:come back later"] }
          - name: request-termination
            config: { status_code: 503, message: closed }
`,
    });
  });
  after(async () => {
    await gateway.stop();
    upstream.server.close();
  });

  it('edits headers in Kong’s order, testing presence against what the upstream sent', async () => {
    const response = await get('/t/object');
    assert.equal(response.headers['x-remove'], undefined);
    assert.equal(response.headers['x-old'], undefined);
    assert.equal(response.headers['x-new'], 'moved');
    assert.equal(response.headers['x-replace'], 'replaced');
    assert.equal(response.headers['x-absent'], undefined);
    assert.equal(response.headers['x-add'], 'added');
    assert.equal(response.headers['x-keep'], 'mine');
    assert.deepEqual(response.headers['x-append'], ['first', 'second']);
  });

  it('edits a JSON object body with json_types and Kong’s truthiness; Content-Length recomputed', async () => {
    const response = await get('/t/object');
    assert.deepEqual(response.json(), { keep: 1, new: 'o', swap: 42, off: 'filled', list: ['a', 'b'], nul: null, added: true, fresh: ['one'], path: ['a/b"c'] });
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.text)));
    assert.equal(response.headers['transfer-encoding'], undefined);
  });

  it('sends JSON that does not parse, or is no object, as it was; a HEAD as it was', async () => {
    assert.equal((await get('/t/broken')).text, '{"secret":');
    assert.equal((await get('/t/array')).text, '[1,2]');
    const head = await get('/t/object', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  it('leaves other media types and compressed JSON bodies untouched (headers still edited)', async () => {
    const text = await get('/t/text');
    assert.equal(text.text, '{"secret":"s"}');
    assert.equal(text.headers['x-remove'], undefined);
    const gz = await fetchText(`${gateway.httpUrl}/t/gzip`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    const raw = await new Promise<Buffer>((resolve, reject) => {
      request(`${gateway.httpUrl}/t/gzip`, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      })
        .on('error', reject)
        .end();
    });
    assert.deepEqual(JSON.parse(gunzipSync(raw).toString('utf8')), object);
  });

  it('answers 502 rather than pass on, untransformed, a JSON body larger than the buffer limit', async () => {
    const response = await get('/t/big');
    assert.equal(response.status, 502);
    assert.doesNotMatch(response.text, /secret/);
    await gateway.waitForLog((line) => (line['access'] as Record<string, unknown> | undefined)?.['reason'] === 'response_body_too_large');
  });

  it('streams a response it does not change: the first chunk arrives before the upstream ends it', async () => {
    const first = await new Promise<{ chunk: string; rest: Promise<string> }>((resolve, reject) => {
      request(`${gateway.httpUrl}/h/stream`, (res) => {
        assert.equal(res.headers['x-add'], 'added');
        res.setEncoding('utf8');
        let rest = '';
        const ended = new Promise<string>((done) => res.on('end', () => done(rest)));
        res.once('data', (chunk: string) => {
          res.on('data', (more: string) => (rest += more));
          resolve({ chunk, rest: ended });
        });
      })
        .on('error', reject)
        .end();
    });
    assert.equal(first.chunk, 'first;');
    assert.equal((await get('/h/release')).status, 204);
    assert.equal(await first.rest, 'last');
  });

  it("transforms the gateway's own JSON answer from a plugin that runs after it (request-termination), as Kong's body_filter does", async () => {
    const response = await get('/terminated');
    assert.equal(response.status, 503);
    assert.deepEqual(response.json(), { message: 'closed', hint: 'come back later' });
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.text)));
  });

  it('transforms a refusal by a plugin that runs before it (key-auth) too: Kong collects the plugins past a kong.response.exit for header_filter and body_filter', async () => {
    const response = await get('/refused');
    assert.equal(response.status, 401);
    assert.equal(response.json()['message'], 'No API key found in request');
    assert.equal(response.json()['hint'], 'send an apikey');
  });

  it('refuses entries as Kong’s schema does, with their paths', () => {
    const result = loadConfig(
      `_format_version: "3.0"
plugins:
  - name: response-transformer
    config:
      rename: { headers: ["x-a:bad value"] }
      add: { json: ["no-colon"], json_types: [integer] }
`,
      { env: {}, plugins: pluginSchemas },
    );
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.errors.map((e) => `${e.path}: ${e.message}`), ['plugins[0].config.add.json_types[0]: must be one of boolean, number, string']);
    const second = loadConfig('_format_version: "3.0"\nplugins: [{ name: response-transformer, config: { rename: { headers: ["x-a:bad value"] }, add: { json: [no-colon] } } }]\n', { env: {}, plugins: pluginSchemas });
    assert.deepEqual(!second.ok && second.errors.map((e) => `${e.path}: ${e.message}`), [
      "plugins[0].config.rename.headers[0]: 'bad value' is not a valid header",
      'plugins[0].config.add.json[0]: invalid value: no-colon',
    ]);
  });
});
