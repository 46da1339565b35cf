/**
 * correlation-id against a real gateway and the echo upstream: Kong's three generators and their
 * formats, an incoming value kept as it is (an empty one replaced), echo_downstream on proxied
 * responses and on the gateway's own refusals, and the id being separate from X-Request-ID.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import { useEchoGateway } from '../helpers/gateway-process.js';
import { echoedHeader, fetchText } from '../helpers/http.js';

interface Echo {
  headers: Record<string, string>;
}

const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('correlation-id', () => {
  const suite = useEchoGateway(
    ({ echoUrl }) => `_format_version: "3.0"
consumers:
  - username: app
    keyauth_credentials: [{ key: app-key }]
services:
  - name: echo
    url: ${echoUrl}/anything
    routes:
      - name: counter
        paths: [/counter]
        plugins:
          - name: correlation-id
      - name: uuid
        paths: [/uuid]
        plugins:
          - name: correlation-id
            config: { generator: uuid, header_name: X-Correlation-ID, echo_downstream: true }
      - name: tracker
        paths: [/tracker]
        plugins:
          - name: correlation-id
            config: { generator: tracker, echo_downstream: true }
      - name: refused
        paths: [/refused]
        plugins:
          - name: correlation-id
            config: { echo_downstream: true }
          - name: key-auth
`,
  );
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetchText(`${suite.gateway.httpUrl}${path}`, { headers });
    return { response, echo: response.status === 200 ? response.json<Echo>() : null };
  };

  it('sends Kong-Request-ID upstream as <worker uuid>#<counter> by default, counting up, and does not echo it', async () => {
    const first = await get('/counter');
    const second = await get('/counter');
    const a = echoedHeader(first.echo!, 'kong-request-id');
    const b = echoedHeader(second.echo!, 'kong-request-id');
    const pattern = new RegExp(`^(${uuid})#(\\d+)$`);
    const ma = pattern.exec(a ?? '');
    const mb = pattern.exec(b ?? '');
    assert.ok(ma !== null && mb !== null, `${a} / ${b}`);
    assert.equal(ma[1], mb[1], 'one uuid per worker');
    assert.ok(Number(mb[2]) > Number(ma[2]), 'the counter goes up');
    assert.equal(first.response.headers['kong-request-id'], undefined);
  });

  it('keeps an incoming value as it is, and replaces an empty one', async () => {
    const kept = await get('/counter', { 'kong-request-id': 'from the client' });
    assert.equal(echoedHeader(kept.echo!, 'kong-request-id'), 'from the client');
    const empty = await get('/counter', { 'kong-request-id': '' });
    assert.match(echoedHeader(empty.echo!, 'kong-request-id') ?? '', new RegExp(`^${uuid}#\\d+$`));
  });

  it('uuid: a fresh UUID in the configured header, echoed to the client; X-Request-ID stays the gateway’s own', async () => {
    const { response, echo } = await get('/uuid');
    const sent = echoedHeader(echo!, 'x-correlation-id');
    assert.match(sent ?? '', new RegExp(`^${uuid}$`));
    assert.equal(response.headers['x-correlation-id'], sent);
    assert.notEqual(response.headers['x-request-id'], sent);
    const incoming = await get('/uuid', { 'x-correlation-id': 'abc-123' });
    assert.equal(incoming.response.headers['x-correlation-id'], 'abc-123');
    assert.equal(echoedHeader(incoming.echo!, 'x-correlation-id'), 'abc-123');
  });

  it('tracker: server address, port, pid, connection serial, requests on the connection, time in seconds', async () => {
    const { response, echo } = await get('/tracker');
    const sent = echoedHeader(echo!, 'kong-request-id') ?? '';
    const port = new URL(suite.gateway.httpUrl).port;
    const match = new RegExp(`^127\\.0\\.0\\.1-${port}-(\\d+)-(\\d+)-(\\d+)-(\\d+\\.\\d{3})$`).exec(sent);
    assert.ok(match !== null, sent);
    assert.equal(Number(match[1]), suite.gateway.child.pid);
    assert.ok(Math.abs(Number(match[4]) - Date.now() / 1000) < 60);
    assert.equal(response.headers['kong-request-id'], sent);
  });

  it("echoes the id on the gateway's own refusal (a key-auth 401)", async () => {
    const { response } = await get('/refused', { 'kong-request-id': 'trace-me' });
    assert.equal(response.status, 401);
    assert.equal(response.headers['kong-request-id'], 'trace-me');
    const generated = await get('/refused');
    assert.match(String(generated.response.headers['kong-request-id']), new RegExp(`^${uuid}#\\d+$`));
  });

  it('refuses an unknown generator with its path', () => {
    const result = loadConfig('_format_version: "3.0"\nplugins: [{ name: correlation-id, config: { generator: random } }]\n', { env: {}, plugins: pluginSchemas });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.errors.map((e) => `${e.path}: ${e.message}`), ['plugins[0].config.generator: must be one of uuid, uuid#counter, tracker']);
  });
});
