import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { loadConfig, formatConfigErrors } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { GatewayError } from '../../src/pipeline/gateway-error.js';
import type { PluginDefinition, PluginSchema } from '../../src/pipeline/plugin.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import { defaultSettings } from '../../src/server/settings.js';
import { createLogger } from '../../src/util/logger.js';
import { echoedHeader, fetchText } from '../helpers/http.js';

function schema(name: string): PluginSchema {
  return {
    name,
    configSchema: Type.Object({ header: Type.String({ default: 'x-test' }) }, { additionalProperties: false }),
    scopes: { global: true, service: true, route: true, consumer: true },
    defaultProtocols: ['http', 'https'],
  };
}

let builds = 0;
const loggedStatuses: number[] = [];

// Plugins that exist only in this test, to drive each part of the pipeline through real HTTP.
const testPlugins: ReadonlyMap<string, PluginDefinition> = new Map<string, PluginDefinition>([
  ['explode', { schema: schema('explode'), priority: 100, create: () => ({ access: () => { throw new Error('secret internal detail'); } }) }],
  [
    'authenticate',
    {
      schema: schema('authenticate'),
      priority: 1000,
      create: (_config, _entity, env) => ({
        access(ctx) {
          const name = ctx.request.headers['x-user'];
          if (typeof name !== 'string') {
            throw new GatewayError({ status: 401, code: 'no_credentials', message: 'Unauthorized', challenge: { scheme: 'Bearer', params: { realm: 'test' } } });
          }
          const consumer = env.config.consumers.find((c) => c.username === name) ?? null;
          ctx.identity = { consumer, credentialId: `cred-${name}`, groups: ['readers', 'writers'], anonymous: false };
          ctx.auth = { plugin: 'authenticate', outcome: 'success', reason: 'ok' };
        },
      }),
    },
  ],
  [
    'record',
    { schema: schema('record'), priority: 2000, create: () => ({ log: (_ctx, entry) => void loggedStatuses.push(entry.response.status) }) },
  ],
  [
    'stamp',
    {
      schema: schema('stamp'),
      priority: 10,
      create: (config) => {
        builds++;
        return {
          headerFilter(_ctx, response) {
            response.headers[String(config['header'])] = 'stamped';
          },
        };
      },
    },
  ],
]);

function load(text: string): Config {
  const result = loadConfig(text, { env: {}, plugins: new Map([...testPlugins].map(([n, d]) => [n, d.schema])) });
  if (!result.ok) throw new Error(formatConfigErrors(result.errors));
  return result.config;
}

describe('the plugin pipeline through real HTTP', () => {
  let echo: EchoServer;
  let gateway: Gateway;
  let url: string;
  const configText = (upstream: string): string => `_format_version: "3.0"
consumers:
  - username: alice
    custom_id: A-1
services:
  - name: s
    url: ${upstream}/anything
    routes:
      - name: explodes
        paths: ["/explode"]
        plugins:
          - name: explode
      - name: protected
        paths: ["/protected"]
        plugins:
          - name: authenticate
          - name: record
plugins:
  - name: stamp
    config:
      header: x-stamp
`;

  before(async () => {
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const prefix = await mkdtemp(join(tmpdir(), 'portcullis-pipeline-'));
    gateway = await startGateway(
      { ...defaultSettings, prefix, proxyListen: '127.0.0.1:0', adminListen: 'off', accessLog: false, logLevel: 'silent' },
      { logger: createLogger({ level: 'silent' }), config: load(configText(echo.url)), plugins: testPlugins },
    );
    url = `http://127.0.0.1:${gateway.proxyListeners[0]!.address.port}`;
  });

  after(async () => {
    await gateway?.close();
    await echo?.close();
  });

  it('turns an unexpected plugin exception into a 500 with the request id and no detail', async () => {
    const res = await fetchText(`${url}/explode`);
    assert.equal(res.status, 500);
    assert.deepEqual(res.json(), { message: 'An unexpected error occurred', request_id: res.headers['x-request-id'] });
    assert.ok(!res.text.includes('secret internal detail'));
  });

  it('sends a refusal with its RFC 6750 challenge and passes nothing upstream', async () => {
    const res = await fetchText(`${url}/protected`);
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="test"');
    assert.equal(res.json<{ message: string }>().message, 'Unauthorized');
  });

  it('runs the log phase for a refused request too', async () => {
    loggedStatuses.length = 0;
    assert.equal((await fetchText(`${url}/protected`)).status, 401);
    assert.equal((await fetchText(`${url}/protected`, { headers: { 'x-user': 'alice' } })).status, 200);
    assert.deepEqual(loggedStatuses, [401, 200]);
  });

  it("sends the identity an auth plugin established upstream in Kong's headers", async () => {
    const res = await fetchText(`${url}/protected`, { headers: { 'x-user': 'alice', 'x-consumer-username': 'mallory' } });
    assert.equal(res.status, 200);
    const echoed = res.json<{ headers: Record<string, string> }>();
    assert.equal(echoedHeader(echoed, 'x-consumer-username'), 'alice');
    assert.equal(echoedHeader(echoed, 'x-consumer-custom-id'), 'A-1');
    assert.match(echoedHeader(echoed, 'x-consumer-id') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(echoedHeader(echoed, 'x-credential-identifier'), 'cred-alice');
    assert.equal(echoedHeader(echoed, 'x-authenticated-groups'), 'readers, writers');
  });

  it('runs header_filter on the upstream response', async () => {
    const res = await fetchText(`${url}/protected`, { headers: { 'x-user': 'alice' } });
    assert.equal(res.headers['x-stamp'], 'stamped');
  });

  it('rebuilds a plugin instance when an entity it looked up (a consumer) changed', async () => {
    gateway.applyConfig(load(configText(echo.url).replace('custom_id: A-1', 'custom_id: A-2')));
    const res = await fetchText(`${url}/protected`, { headers: { 'x-user': 'alice' } });
    assert.equal(echoedHeader(res.json<{ headers: Record<string, string> }>(), 'x-consumer-custom-id'), 'A-2');
    gateway.applyConfig(load(configText(echo.url)));
  });

  it('keeps plugin instances across a reload when their config is unchanged, and rebuilds changed ones', async () => {
    const before = builds;
    gateway.applyConfig(load(configText(echo.url)));
    assert.equal(builds, before, 'an unchanged plugin was rebuilt');
    gateway.applyConfig(load(configText(echo.url).replace('header: x-stamp', 'header: x-stamp-2')));
    assert.equal(builds, before + 1);
    const res = await fetchText(`${url}/protected`, { headers: { 'x-user': 'alice' } });
    assert.equal(res.headers['x-stamp-2'], 'stamped');
  });
});
