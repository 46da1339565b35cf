// The core facilities plugins use to change what goes upstream: a bounded, buffered copy of the
// request body (`ctx.readBody`, then `ctx.upstreamBody`) and the upstream query (`ctx.upstreamQuery`).
// A test-only plugin drives them through the real listener, handler and Runtime; requests that do
// not ask for the body must keep streaming.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Type, type Static } from '@sinclair/typebox';
import { Agent, request } from 'undici';
import { formatConfigErrors, loadConfig } from '../../src/config/index.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import type { PluginDefinition, PluginSchema } from '../../src/pipeline/plugin.js';
import { pluginDefinitions, pluginSchemas } from '../../src/plugins/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { RuntimeHolder } from '../../src/runtime/runtime-holder.js';
import { drain, listen, type Listener } from '../../src/server/listeners.js';
import { createProxyHandler } from '../../src/server/proxy-handler.js';
import { defaultSettings } from '../../src/server/settings.js';
import { createLogger } from '../../src/util/logger.js';
import { localNodeServices } from '../../src/state/node-services.js';
import { makeTestPki } from '../helpers/pki.js';

const probeConfig = Type.Object({
  read: Type.Boolean({ default: false }),
  limit: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { default: null }),
  append: Type.Union([Type.String(), Type.Null()], { default: null }),
  set_query: Type.Union([Type.String(), Type.Null()], { default: null }),
});
type ProbeConfig = Static<typeof probeConfig>;

const probeSchema: PluginSchema = {
  name: 'body-probe',
  configSchema: probeConfig,
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['http', 'https'],
};

/** Reads the body (reporting its size upstream), optionally appends to it, optionally replaces the query. */
const probe: PluginDefinition<ProbeConfig> = {
  schema: probeSchema,
  priority: 1000,
  create(config) {
    return {
      async access(ctx) {
        if (config.read) {
          const body = await ctx.readBody(config.limit === null ? undefined : { limit: config.limit });
          // A second read shares the first one's bytes.
          assert.equal(await ctx.readBody(), body);
          ctx.upstreamHeaders['x-probe-read'] = String(body.length);
          if (config.append !== null) ctx.upstreamBody = Buffer.concat([body, Buffer.from(config.append)]);
        }
        if (config.set_query !== null) ctx.upstreamQuery = config.set_query;
      },
    };
  },
};

interface Echo {
  args: Record<string, string | string[]>;
  headers: Record<string, string>;
  data_length: number;
  data_sha256: string;
  url: string;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const limit = 64 * 1024;

describe('buffered request bodies and the upstream query', () => {
  let echo: EchoServer;
  let holder: RuntimeHolder;
  let listener: Listener;
  let base: string;
  let watcher: Server;
  // What the watching upstream has received of the request in progress.
  let watched = { bytes: 0, digest: createHash('sha256') };
  const agent = new Agent({ pipelining: 0 });

  before(async () => {
    const pki = await makeTestPki();
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    watcher = createServer((req, res) => {
      watched = { bytes: 0, digest: createHash('sha256') };
      req.on('data', (chunk: Buffer) => {
        watched.bytes += chunk.length;
        watched.digest.update(chunk);
      });
      req.on('end', () => res.end(JSON.stringify({ bytes: watched.bytes, sha256: watched.digest.digest('hex'), length: req.headers['content-length'] ?? null })));
    });
    await new Promise<void>((resolve) => watcher.listen(0, '127.0.0.1', resolve));
    const watcherUrl = `http://127.0.0.1:${(watcher.address() as AddressInfo).port}`;

    const route = (name: string, config: string | null): string =>
      `      - name: ${name}\n        paths: ["/${name}"]\n${config === null ? '' : `        plugins:\n          - name: body-probe\n            config: ${config}\n`}`;
    const schemas = new Map([...pluginSchemas, ['body-probe', probeSchema]]);
    const loaded = loadConfig(
      `_format_version: "3.0"
services:
  - name: echo
    url: ${echo.url}/anything
    routes:
${route('read', '{ read: true }')}${route('read-small', '{ read: true, limit: 16 }')}${route('append', '{ read: true, append: "&added=1" }')}${route('query', '{ set_query: "replaced=1&x=%20" }')}${route('plain', null)}  - name: watcher
    url: ${watcherUrl}
    routes:
${route('stream', '{ read: false }')}${route('buffered', '{ read: true, limit: 33554432 }')}`,
      { env: {}, plugins: schemas },
    );
    if (!loaded.ok) throw new Error(formatConfigErrors(loaded.errors));
    const logger = createLogger({ level: 'silent' });
    const plugins = new Map<string, PluginDefinition>([...pluginDefinitions, ['body-probe', probe]]);
    holder = new RuntimeHolder(
      Runtime.compile(loaded.config, { plugins, logger, defaultCertificate: { certPem: pki.serverCert.certPem, keyPem: pki.serverCert.keyPem }, trustedCaPems: [], node: localNodeServices() }, null),
      () => undefined,
    );
    const handler = createProxyHandler({ holder, logger, accessLog: false, observer: {}, maxBufferedBodyBytes: limit });
    listener = await listen({ host: '127.0.0.1', port: 0, ssl: false, http2: false, backlog: 511 }, handler, defaultSettings.limits, { tls: null });
    base = `http://127.0.0.1:${listener.address.port}`;
  });

  after(async () => {
    await agent.close();
    await drain([listener], 0);
    await holder?.closeAll();
    await echo?.close();
    await new Promise<void>((resolve) => watcher.close(() => resolve()));
  });

  async function send(path: string, body: Buffer | PassThrough | null, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
    const res = await request(`${base}${path}`, { method: body === null ? 'GET' : 'POST', body: body ?? undefined, headers, dispatcher: agent });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  }

  it('forwards a buffered body intact, with a Content-Length, even when the client sent it chunked', async () => {
    const payload = Buffer.alloc(limit);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const sized = await send('/read', payload, { 'content-type': 'application/octet-stream' });
    assert.equal(sized.status, 200, sized.text);
    const echoed = JSON.parse(sized.text) as Echo;
    assert.equal(echoed.data_length, payload.length);
    assert.equal(echoed.data_sha256, sha256(payload));
    assert.equal(echoed.headers['X-Probe-Read'] ?? echoed.headers['x-probe-read'], String(payload.length));

    const chunked = new PassThrough();
    const sending = send('/read', chunked, { 'content-type': 'application/octet-stream' });
    chunked.write(payload.subarray(0, 1000));
    chunked.end(payload.subarray(1000));
    const res = await sending;
    assert.equal(res.status, 200, res.text);
    const fromChunked = JSON.parse(res.text) as Echo;
    assert.equal(fromChunked.data_sha256, sha256(payload));
    const length = Object.entries(fromChunked.headers).find(([k]) => k.toLowerCase() === 'content-length')?.[1];
    assert.equal(length, String(payload.length));
  });

  it('sends the body a plugin replaced, with its new length, and a bodiless request stays bodiless', async () => {
    const res = await send('/append', Buffer.from('a=1'), { 'content-type': 'application/x-www-form-urlencoded' });
    const echoed = JSON.parse(res.text) as Echo & { form: Record<string, string> };
    assert.deepEqual(echoed.form, { a: '1', added: '1' });
    assert.equal(echoed.data_length, 'a=1&added=1'.length);
    const get = JSON.parse((await send('/read', null)).text) as Echo;
    assert.equal(get.data_length, 0);
    assert.equal(get.headers['X-Probe-Read'] ?? get.headers['x-probe-read'], '0');
    assert.equal(Object.keys(get.headers).find((k) => k.toLowerCase() === 'content-length'), undefined);
  });

  it('refuses a body beyond the limit with 413 and closes the connection: by Content-Length, or while reading', async () => {
    const declared = await send('/read', Buffer.alloc(limit + 1), { 'content-type': 'application/octet-stream' });
    assert.equal(declared.status, 413);
    assert.equal((JSON.parse(declared.text) as { message: string }).message, 'Request size limit exceeded');
    assert.equal(declared.headers['connection'], 'close');
    const small = await send('/read-small', Buffer.alloc(17));
    assert.equal(small.status, 413, 'a plugin may ask for a smaller limit');
    assert.equal((await send('/read-small', Buffer.alloc(16))).status, 200);

    const chunked = new PassThrough();
    const sending = send('/read', chunked, { 'content-type': 'application/octet-stream' });
    chunked.end(Buffer.alloc(limit + 4096));
    assert.equal((await sending).status, 413);
  });

  it('streams every body no plugin asked for, whatever its size: the upstream sees bytes before the client is done', async () => {
    const first = Buffer.alloc(256 * 1024, 1);
    const rest = Buffer.alloc(4 * 1024 * 1024, 2);
    const client = new PassThrough();
    watched = { bytes: 0, digest: createHash('sha256') };
    const sending = send('/stream', client, { 'content-type': 'application/octet-stream' });
    client.write(first);
    const deadline = Date.now() + 5000;
    while (watched.bytes === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(watched.bytes > 0, 'the upstream received nothing before the end of the body: it was buffered');
    client.end(rest);
    const res = await sending;
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.text) as { bytes: number; sha256: string; length: string | null };
    assert.equal(seen.bytes, first.length + rest.length);
    assert.equal(seen.sha256, sha256(Buffer.concat([first, rest])));
    assert.equal(seen.length, null, 'a chunked body stays chunked');
  });

  it('holds a body back while a plugin reads it, then sends it whole', async () => {
    const client = new PassThrough();
    const sending = send('/buffered', client, { 'content-type': 'application/octet-stream' });
    watched = { bytes: 0, digest: createHash('sha256') };
    client.write(Buffer.alloc(1024, 3));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(watched.bytes, 0);
    client.end(Buffer.alloc(1024, 4));
    const seen = JSON.parse((await sending).text) as { bytes: number; length: string | null };
    assert.deepEqual([seen.bytes, seen.length], [2048, '2048']);
  });

  it('sends the query a plugin set, and the client query untouched otherwise', async () => {
    const replaced = JSON.parse((await send('/query/x?access_token=abc&keep=1', null)).text) as Echo;
    assert.deepEqual(replaced.args, { replaced: '1', x: ' ' });
    assert.match(replaced.url, /\/anything\/x\?replaced=1&x=%20$/);
    const plain = JSON.parse((await send('/plain/y?a=%20b+c&a=2', null)).text) as Echo;
    assert.match(plain.url, /\/anything\/y\?a=%20b\+c&a=2$/);
  });
});
