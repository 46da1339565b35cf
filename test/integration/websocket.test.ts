// WebSockets through the gateway with the `ws` package on both ends: routed and authenticated like
// any request (a certificate-bound token over wss with its client certificate), then tunnelled both
// ways; refusals by plugins and by the upstream, idle and lifetime limits, and other Upgrade tokens.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { eventually } from '../helpers/eventually.js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';

const run = promisify(execFile);

interface EchoUpstream {
  server: Server;
  port: number;
  /** The head of each upgrade request the upstream accepted. */
  upgrades: IncomingHttpHeaders[];
}

/** An HTTP server whose WebSocket endpoint echoes every message; `/refuse` paths are refused with 403. */
async function startEchoUpstream(): Promise<EchoUpstream> {
  const upgrades: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ plain: true, upgrade: req.headers.upgrade ?? null }));
  });
  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
    verifyClient: (info: { req: IncomingMessage }, callback: (ok: boolean, code?: number, message?: string) => void) => {
      if (info.req.url?.includes('/refuse') === true) callback(false, 403, 'Forbidden');
      else {
        upgrades.push(info.req.headers);
        callback(true);
      }
    },
  });
  wss.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, upgrades };
}

type Opened = { socket: WebSocket; protocol: string } | { refused: number; headers: IncomingHttpHeaders; body: string };

function open(url: string, options: WebSocket.ClientOptions = {}, protocols: string[] = []): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { rejectUnauthorized: false, ...options });
    socket.once('open', () => resolve({ socket, protocol: socket.protocol }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ refused: res.statusCode ?? 0, headers: res.headers, body }));
    });
    socket.once('error', reject);
  });
}

function opened(result: Opened): { socket: WebSocket; protocol: string } {
  if ('refused' in result) throw new Error(`upgrade refused with ${result.refused}: ${result.body}`);
  return result;
}

function echo(socket: WebSocket, message: string | Buffer): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) => {
    socket.once('message', (data: Buffer, binary: boolean) => resolve({ data, binary }));
    socket.send(message);
  });
}

function closed(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code: number) => resolve(code)));
}

describe('WebSockets through the gateway', () => {
  let upstream: EchoUpstream;
  let idp: TestIdp;
  let gateway: GatewayProcess;
  let wsOrigin: string;
  let wssOrigin: string;

  before(async () => {
    upstream = await startEchoUpstream();
    idp = await startTestIdp();
    gateway = await startGatewayProcess({
      args: ['--trusted-certificate', idp.caPath],
      config: `_format_version: "3.0"
services:
  - name: chat
    url: http://127.0.0.1:${upstream.port}/chat
    routes: [{ name: chat, paths: ["/chat"] }]
  - name: bound
    url: http://127.0.0.1:${upstream.port}/bound
    routes: [{ name: bound, paths: ["/bound"], protocols: [https] }]
  - name: live
    url: ws://127.0.0.1:${upstream.port}/live
    routes: [{ name: live, paths: ["/live"], protocols: [ws, wss] }]
plugins:
  - name: openid-connect
    route: live
    config:
      issuer: ${idp.issuer}
      auth_methods: [bearer]
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
    wsOrigin = gateway.httpUrl.replace(/^http/, 'ws');
    wssOrigin = gateway.httpsUrl.replace(/^https/, 'wss');
  });

  after(async () => {
    await gateway?.stop();
    await idp?.close();
    await new Promise<void>((resolve) => upstream?.server.close(() => resolve()));
  });

  it('tunnels ws both ways: text and binary echoes, the subprotocol, the proxy headers, a 101 access record at close', async () => {
    const { socket, protocol } = opened(await open(`${wsOrigin}/chat/room?x=1`, {}, ['chat.v1', 'chat.v2']));
    assert.equal(protocol, 'chat.v2');
    const text = await echo(socket, 'hello through the gateway');
    assert.equal(text.data.toString(), 'hello through the gateway');
    assert.equal(text.binary, false);
    const bytes = Buffer.alloc(200_000, 7);
    const binary = await echo(socket, bytes);
    assert.equal(binary.binary, true);
    assert.ok(binary.data.equals(bytes));
    const seen = upstream.upgrades.at(-1)!;
    assert.equal(seen['upgrade'], 'websocket');
    assert.match(String(seen['connection']), /upgrade/i);
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['host'], `127.0.0.1:${upstream.port}`);
    assert.ok(seen['sec-websocket-key'] !== undefined);
    socket.close(1000, 'done');
    assert.equal(await closed(socket), 1000);
    const record = await eventually('its access record', () => accessRecords(gateway).find((r) => r['path'] === '/chat/room' && r['status'] === 101));
    assert.equal(record['route'], 'chat');
    const tunnel = record['tunnel'] as { end: string; bytes_up: number; bytes_down: number };
    assert.equal(tunnel.end, 'closed');
    assert.ok(tunnel.bytes_up > 200_000 && tunnel.bytes_down > 200_000, JSON.stringify(tunnel));
  });

  it('wss with a certificate-bound token: open with its certificate, the plugin refusal (401 and its challenge) with another', async () => {
    const token = (await idp.requestToken()).access_token!;
    const withCertificate = async (credential: { certPath: string; keyPath: string }): Promise<Opened> =>
      open(`${wssOrigin}/bound/feed`, { cert: await readFile(credential.certPath), key: await readFile(credential.keyPath), headers: { authorization: `Bearer ${token}` } });
    const good = opened(await withCertificate(idp.pki.client));
    assert.equal((await echo(good.socket, 'bound')).data.toString(), 'bound');
    good.socket.close();
    await closed(good.socket);
    assert.equal(upstream.upgrades.at(-1)!['authorization'], `Bearer ${token}`);

    const wrong = await withCertificate(idp.pki.otherClient);
    assert.ok('refused' in wrong);
    assert.equal(wrong.refused, 401);
    assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
    assert.equal(wrong.headers['connection'], 'close');
    const record = await eventually('its access record', () => accessRecords(gateway).find((r) => r['request_id'] === wrong.headers['x-request-id']));
    assert.equal(record['reason'], 'pop_certificate_mismatch');
    assert.equal(record['status'], 401);
  });

  it("a ws/wss route (Kong Enterprise's): WebSocket handshakes only (426 otherwise), with the route's plugins (default protocols) applied", async () => {
    const plain = await fetch(`${gateway.httpUrl}/live`);
    assert.equal(plain.status, 426);
    assert.equal(plain.headers.get('upgrade'), 'websocket');
    const anonymous = await open(`${wsOrigin}/live`);
    assert.ok('refused' in anonymous);
    assert.equal(anonymous.refused, 401);
    const token = await idp.mintToken({}, { boundTo: null });
    const { socket } = opened(await open(`${wsOrigin}/live/feed`, { headers: { authorization: `Bearer ${token}` } }));
    assert.equal((await echo(socket, 'live')).data.toString(), 'live');
    socket.close();
    await closed(socket);
    assert.equal(upstream.upgrades.at(-1)!['x-forwarded-path'], '/live/feed');
  });

  it("relays the upstream's own refusal of the upgrade", async () => {
    const refused = await open(`${wsOrigin}/chat/refuse`);
    assert.ok('refused' in refused);
    assert.equal(refused.refused, 403);
    assert.equal(refused.headers['via'], '1.1 portcullis');
  });

  it('answers 404 to an upgrade no route matches, and serves an h2c Upgrade as plain HTTP/1.1', async () => {
    const missing = await open(`${wsOrigin}/nowhere`);
    assert.ok('refused' in missing);
    assert.equal(missing.refused, 404);
    const { stdout } = await run('curl', ['-s', '--http2', '-w', '\n%{http_version}', `${gateway.httpUrl}/chat/plain`]);
    const [body, version] = stdout.split('\n');
    assert.equal(version, '1.1');
    assert.deepEqual(JSON.parse(body!), { plain: true, upgrade: null });
  });

  it('502 when the upstream cannot be reached', async () => {
    const down = await startGatewayProcess({
      config: `_format_version: "3.0"\nservices:\n  - name: gone\n    url: http://127.0.0.1:1/\n    routes: [{ name: gone, paths: ["/gone"] }]\n`,
    });
    try {
      const answer = await open(`${down.httpUrl.replace(/^http/, 'ws')}/gone`);
      assert.ok('refused' in answer);
      assert.equal(answer.refused, 502);
      const record = await eventually('its access record', () => accessRecords(down).find((r) => r['path'] === '/gone'));
      assert.equal(record['reason'], 'upstream_connect_failed');
    } finally {
      await down.stop();
    }
  });
});

describe('WebSocket tunnel limits', () => {
  let upstream: EchoUpstream;
  /** Accepts connections and never answers: an upgrade sent there waits for read_timeout. */
  let mute: NetServer;
  let gateway: GatewayProcess;

  before(async () => {
    upstream = await startEchoUpstream();
    mute = createNetServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    gateway = await startGatewayProcess({
      args: ['--websocket-idle-timeout', '400', '--websocket-max-duration', '1500'],
      config: `_format_version: "3.0"
services:
  - name: chat
    url: http://127.0.0.1:${upstream.port}/chat
    routes: [{ name: chat, paths: ["/chat"] }]
  - name: mute
    url: http://127.0.0.1:${(mute.address() as AddressInfo).port}
    read_timeout: 300
    routes: [{ name: mute, paths: ["/mute"] }]
`,
    });
  });

  after(async () => {
    await gateway?.stop();
    await new Promise<void>((resolve) => upstream?.server.close(() => resolve()));
    mute?.close();
  });

  it("answers 504 when the upstream says nothing to the upgrade within the service's read_timeout", async () => {
    const answer = await open(`${gateway.httpUrl.replace(/^http/, 'ws')}/mute`);
    assert.ok('refused' in answer);
    assert.equal(answer.refused, 504);
    const record = await eventually('its access record', () => accessRecords(gateway).find((r) => r['path'] === '/mute'));
    assert.equal(record['reason'], 'upstream_timeout');
  });

  it('ends a silent tunnel after the idle timeout', async () => {
    const { socket } = opened(await open(`${gateway.httpUrl.replace(/^http/, 'ws')}/chat/idle`));
    const started = Date.now();
    assert.equal(await closed(socket), 1006);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 350 && elapsed < 1400, `closed after ${elapsed} ms`);
    const record = await eventually('its access record', () => accessRecords(gateway).find((r) => r['path'] === '/chat/idle'));
    assert.equal((record['tunnel'] as { end: string }).end, 'idle_timeout');
  });

  it('ends a busy tunnel at its longest life', async () => {
    const { socket } = opened(await open(`${gateway.httpUrl.replace(/^http/, 'ws')}/chat/busy`));
    const started = Date.now();
    const chatter = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send('tick'), 100);
    try {
      assert.equal(await closed(socket), 1006);
    } finally {
      clearInterval(chatter);
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400 && elapsed < 3000, `closed after ${elapsed} ms`);
    const record = await eventually('its access record', () => accessRecords(gateway).find((r) => r['path'] === '/chat/busy'));
    assert.equal((record['tunnel'] as { end: string }).end, 'max_duration');
  });
});
