import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as http2Connect, constants as http2Constants } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { cliPath, startGatewayProcess } from '../helpers/gateway-process.js';
import { fetchText } from '../helpers/http.js';

const run = promisify(execFile);

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-cli-'));
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const badConfig = `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:1
    retries: many
routes:
  - name: r
    paths: ["/x"]
    service: missing
plugins:
  - name: no-such-plugin
`;

describe('the portcullis command', () => {
  it('prints its version and help', async () => {
    const version = await cli(['version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    const help = await cli(['start', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--proxy-listen/);
    assert.match(help.stdout, /PORTCULLIS_PROXY_LISTEN/);
    assert.equal((await cli(['bogus'])).code, 2);
  });

  it('validate accepts the tutorial block and rejects a bad file with every error and its path', async () => {
    const good = await tempFile(
      'good.yaml',
      `_format_version: "3.0"\nservices:\n  - name: example-service\n    url: http://httpbin.konghq.com/anything\n    routes:\n      - name: example-route\n        paths:\n          - "/anything"\n        service:\n          name: example-service\n`,
    );
    const ok = await cli(['validate', good]);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await cli(['validate', await tempFile('bad.yaml', badConfig)]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /services\[0\]\.retries/);
    assert.match(bad.stderr, /routes\[0\]\.service/);
    assert.match(bad.stderr, /plugins\[0\]\.name/);
  });

  it('validate renders decK templating from DECK_ variables', async () => {
    const file = await tempFile('tpl.yaml', `_format_version: "3.0"\nservices:\n  - name: s\n    url: \${{ env "DECK_UPSTREAM" }}\n    retries: \${{ env "DECK_RETRIES" | toInt }}\n`);
    assert.equal((await cli(['validate', file], { DECK_UPSTREAM: 'http://127.0.0.1:9', DECK_RETRIES: '2' })).code, 0);
    const unset = await cli(['validate', file], { DECK_UPSTREAM: 'http://127.0.0.1:9' });
    assert.equal(unset.code, 1);
    assert.match(unset.stderr, /DECK_RETRIES/);
  });

  it('start refuses an invalid configuration with exit code 1 and the field paths', async () => {
    const result = await cli(['start', '-c', await tempFile('bad.yaml', badConfig), '--proxy-listen', '127.0.0.1:0', '--admin-listen', 'off']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /services\[0\]\.retries/);
  });
});

describe('a running gateway', () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await echo.close();
  });

  it("serves HTTP/2 on Kong's default http2 ssl listener to clients that offer h2, HTTP/1.1 to the others; the admin API says it stays on HTTP/1.1", async () => {
    const gateway = await startGatewayProcess({
      config: `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${echo.url}\n    routes:\n      - name: r\n        paths: ["/"]\n`,
      args: ['--proxy-listen', '127.0.0.1:0, 127.0.0.1:0 http2 ssl', '--admin-listen', '127.0.0.1:0, 127.0.0.1:0 http2 ssl'],
    });
    try {
      const port = Number(new URL(gateway.httpsUrl).port);
      const alpn = (offer: string[]): Promise<string | false | null> =>
        new Promise((resolve, reject) => {
          const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: offer, rejectUnauthorized: false }, () => {
            resolve(socket.alpnProtocol);
            socket.end();
          });
          socket.once('error', reject);
        });
      assert.equal(await alpn(['h2', 'http/1.1']), 'h2');
      assert.equal(await alpn(['http/1.1']), 'http/1.1');
      assert.equal((await fetchText(`${gateway.httpsUrl}/anything`)).status, 200);
      const warning = await gateway.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('http2 is not served on the admin API'));
      assert.equal(warning.level, 40);
    } finally {
      assert.equal(await gateway.stop(), 0);
    }
  });

  it('drains HTTP/2 on SIGTERM: a GOAWAY to the client, and the stream in flight still completes', async () => {
    const gateway = await startGatewayProcess({
      config: `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${echo.url}\n    routes:\n      - name: r\n        paths: ["/"]\n`,
      args: ['--proxy-listen', '127.0.0.1:0 http2 ssl'],
    });
    const session = http2Connect(gateway.httpsUrl, { rejectUnauthorized: false });
    try {
      const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));
      const answer = new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/delay/1' });
        stream.on('response', (headers) => resolve(Number(headers[':status'])));
        stream.on('error', reject);
        stream.resume();
      });
      await gateway.waitForLog((l) => l['msg'] === 'portcullis ready');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const stopped = gateway.stop();
      assert.equal(await goaway, http2Constants.NGHTTP2_NO_ERROR);
      assert.equal(await answer, 200);
      assert.equal(await stopped, 0);
    } finally {
      session.destroy();
      await gateway.stop();
    }
  });

  it('reports readiness and the configuration hash on the admin /status endpoint', async () => {
    const gateway = await startGatewayProcess({
      config: `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${echo.url}\n    routes:\n      - name: r\n        paths: ["/"]\n`,
    });
    try {
      const res = await fetchText(`${gateway.adminUrl}/status`);
      assert.equal(res.status, 200);
      const status = res.json<{ ready: boolean; configuration_hash: string; counts: Record<string, number> }>();
      assert.equal(status.ready, true);
      assert.match(status.configuration_hash, /^[0-9a-f]{16,}$/);
      assert.equal(status.counts['services'], 1);
      assert.equal(status.counts['routes'], 1);
    } finally {
      assert.equal(await gateway.stop(), 0);
    }
  });

  it('finishes in-flight requests on SIGTERM, refuses new connections, and exits 0', async () => {
    const gateway = await startGatewayProcess({
      config: `_format_version: "3.0"\nservices:\n  - name: s\n    url: ${echo.url}\n    routes:\n      - name: r\n        paths: ["/"]\n`,
    });
    const inFlight = fetchText(`${gateway.httpUrl}/delay/1`);
    // Signal only once the gateway has the request (polled, with a deadline).
    const deadline = Date.now() + 5000;
    for (;;) {
      const status = (await fetchText(`${gateway.adminUrl}/status`)).json<{ server: { total_requests: number } }>();
      if (status.server.total_requests >= 1) break;
      assert.ok(Date.now() < deadline, 'the request never reached the gateway');
      await new Promise((r) => setTimeout(r, 20));
    }
    const exit = gateway.stop('SIGTERM');
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(await exit, 0);
    await assert.rejects(fetchText(`${gateway.httpUrl}/anything`));
  });
});
