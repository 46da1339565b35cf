import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportConfig } from '../config/export.js';
import { formatConfigErrors, loadConfig, loadConfigObject } from '../config/index.js';
import type { Config } from '../config/types.js';
import { pluginSchemas } from '../plugins/index.js';
import { diffConfigs } from './config-diff.js';
import { adoptIds, keepRouteOrder, mergeForApply, relabelErrors } from './document-merge.js';

function load(text: string): Config {
  const result = loadConfig(text, { env: {}, plugins: pluginSchemas });
  if (!result.ok) assert.fail(formatConfigErrors(result.errors));
  return result.config;
}

const gateway = load(`_format_version: "3.0"
services:
  - name: example-service
    id: 11111111-1111-4111-8111-111111111111
    url: http://upstream/anything
    routes:
      - { name: first, paths: [/first] }
      - { name: example-route, paths: [/anything] }
plugins:
  - name: request-termination
    id: 22222222-2222-4222-8222-222222222222
    route: first
    config: { status_code: 500 }
`);

function apply(file: Record<string, unknown>) {
  const merged = mergeForApply(adoptIds(file, gateway) as Record<string, unknown>, exportConfig(gateway, { references: 'id' }));
  const loaded = loadConfigObject(merged.document, { plugins: pluginSchemas });
  return { merged, loaded };
}

describe('apply merge', () => {
  it("resolves the tutorial's plugins-only file against the gateway's routes", () => {
    const { loaded } = apply({ _format_version: '3.0', plugins: [{ name: 'request-termination', route: 'example-route', config: { status_code: 418 } }] });
    assert.ok(loaded.ok);
    const added = loaded.config.plugins.find((p) => p.config.status_code === 418);
    assert.equal(added?.route, gateway.routes[1]?.id);
    assert.equal(loaded.config.plugins.length, 2, 'the existing plugin stays');
  });

  it('updates a plugin in place when name and scope match, keeping its id', () => {
    const { loaded } = apply({ plugins: [{ name: 'request-termination', route: 'first', config: { status_code: 503 } }] });
    assert.ok(loaded.ok);
    assert.deepEqual(loaded.config.plugins.map((p) => [p.id, p.config.status_code]), [['22222222-2222-4222-8222-222222222222', 503]]);
  });

  it('updates a service matched by name without changing its id or dropping its routes', () => {
    const { loaded } = apply({ services: [{ name: 'example-service', url: 'http://elsewhere/x', retries: 1 }] });
    assert.ok(loaded.ok);
    const diff = diffConfigs(gateway, keepRouteOrder(loaded.config, gateway));
    assert.deepEqual(diff.changes.map((c) => `${c.action} ${c.label} ${c.fields.join(',')}`), ['update service example-service host,path,retries']);
  });

  it("keeps the gateway's route order, adding new routes last", () => {
    const { loaded } = apply({ routes: [{ name: 'new', service: 'example-service', paths: ['/new'] }, { name: 'example-route', service: 'example-service', paths: ['/changed'] }] });
    assert.ok(loaded.ok);
    assert.deepEqual(keepRouteOrder(loaded.config, gateway).routes.map((r) => r.name), ['first', 'example-route', 'new']);
  });

  it("reports errors at the file's own paths", () => {
    const { merged, loaded } = apply({ plugins: [{ name: 'request-termination', route: 'nope', config: { status_code: 42 } }] });
    assert.ok(!loaded.ok);
    assert.deepEqual(relabelErrors(loaded.errors, merged).map((e) => e.path).sort(), ['plugins[0].config.status_code', 'plugins[0].route']);
  });

  it("names the gateway's entity when the conflict is on its side", () => {
    const { merged, loaded } = apply({ routes: [{ name: 'clash', id: '33333333-3333-4333-8333-333333333333', paths: ['/x'] }, { name: 'clash', paths: ['/y'] }] });
    assert.ok(!loaded.ok);
    assert.match(formatConfigErrors(relabelErrors(loaded.errors, merged)), /routes\[1\]\.name: duplicate name 'clash'/);
  });
});

const balanced = load(`_format_version: "3.0"
upstreams:
  - name: backend.internal
    id: 44444444-4444-4444-8444-444444444444
    targets:
      - { target: 10.0.0.1:8000, id: 55555555-5555-4555-8555-555555555555 }
      - { target: 10.0.0.2, weight: 50, id: 66666666-6666-4666-8666-666666666666 }
`);

function changes(before: Config, file: Record<string, unknown>, mode: 'apply' | 'sync'): string[] {
  const adopted = adoptIds({ _format_version: '3.0', ...file }, before) as Record<string, unknown>;
  const document = mode === 'apply' ? mergeForApply(adopted, exportConfig(before, { references: 'id' })).document : adopted;
  const loaded = loadConfigObject(document, { plugins: pluginSchemas });
  if (!loaded.ok) assert.fail(formatConfigErrors(loaded.errors));
  return diffConfigs(before, loaded.config).changes.map((c) => `${c.action} ${c.label}${c.fields.length > 0 ? ` (${c.fields.join(', ')})` : ''}`);
}

describe('apply and sync of upstreams and targets', () => {
  it('matches upstreams by name and targets by upstream and address (as stored), nested or top level', () => {
    const file = {
      upstreams: [{ name: 'backend.internal', slots: 100, targets: [{ target: '10.0.0.1' }, { target: '10.0.0.2:8000', weight: 60 }] }],
      targets: [{ target: '10.0.0.3:9000', upstream: 'backend.internal' }],
    };
    const adopted = adoptIds(file, balanced) as { upstreams: Array<{ id: string; targets: Array<{ id?: string }> }>; targets: Array<{ id?: string }> };
    assert.equal(adopted.upstreams[0]?.id, '44444444-4444-4444-8444-444444444444');
    assert.deepEqual(adopted.upstreams[0]?.targets.map((t) => t.id), ['55555555-5555-4555-8555-555555555555', '66666666-6666-4666-8666-666666666666']);
    assert.equal(adopted.targets[0]?.id, undefined, 'a new address is a new target');
    assert.deepEqual(changes(balanced, file, 'sync'), [
      'update upstream backend.internal (slots)',
      'update target 10.0.0.2:8000 of upstream backend.internal (weight)',
      'create target 10.0.0.3:9000 of upstream backend.internal',
    ]);
  });

  it("apply adds a target to the gateway's upstream and keeps the others; sync deletes what the file omits", () => {
    const file = { targets: [{ target: '10.0.0.9:8000', upstream: 'backend.internal' }] };
    assert.deepEqual(changes(balanced, file, 'apply'), ['create target 10.0.0.9:8000 of upstream backend.internal']);
    assert.deepEqual(changes(balanced, { upstreams: [{ name: 'backend.internal', targets: [{ target: '10.0.0.1:8000' }] }] }, 'sync'), [
      'delete target 10.0.0.2:8000 of upstream backend.internal',
    ]);
    assert.deepEqual(changes(balanced, { upstreams: [] }, 'sync'), [
      'delete upstream backend.internal',
      'delete target 10.0.0.1:8000 of upstream backend.internal',
      'delete target 10.0.0.2:8000 of upstream backend.internal',
    ]);
  });

  it("re-applying the gateway's own export changes nothing, and errors in a nested target keep the file's path", () => {
    assert.deepEqual(changes(balanced, exportConfig(balanced), 'sync'), []);
    assert.deepEqual(changes(balanced, exportConfig(balanced), 'apply'), []);
    const merged = mergeForApply(adoptIds({ upstreams: [{ name: 'backend.internal', targets: [{ target: '10.0.0.1', weight: -1 }] }] }, balanced) as Record<string, unknown>, exportConfig(balanced, { references: 'id' }));
    const loaded = loadConfigObject(merged.document, { plugins: pluginSchemas });
    assert.ok(!loaded.ok);
    assert.deepEqual(relabelErrors(loaded.errors, merged).map((e) => e.path), ['upstreams[0].targets[0].weight']);
  });
});

const grouped = load(`_format_version: "3.0"
consumers:
  - { username: alice, groups: [{ name: gold }] }
  - { username: bob }
consumer_groups:
  - name: gold
    consumers: [{ username: bob }]
    plugins:
      - { name: rate-limiting, config: { minute: 10 } }
`);

describe('apply and sync of consumer groups', () => {
  it('matches a group by name and its plugin by name and group; a changed limit is one plugin update', () => {
    const file = { consumer_groups: [{ name: 'gold', plugins: [{ name: 'rate-limiting', config: { minute: 20 } }] }] };
    const adopted = adoptIds(file, grouped) as { consumer_groups: Array<{ id: string; plugins: Array<{ id: string }> }> };
    assert.equal(adopted.consumer_groups[0]?.id, grouped.consumer_groups[0]?.id);
    assert.equal(adopted.consumer_groups[0]?.plugins[0]?.id, grouped.plugins[0]?.id);
    assert.deepEqual(changes(grouped, file, 'apply'), ['update plugin rate-limiting on consumer group gold (config)']);
  });

  it("apply keeps the gateway's memberships of a consumer or group the file rewrites (an apply deletes nothing); sync takes the file's", () => {
    const file = { consumers: [{ username: 'alice', tags: ['t'] }, { username: 'bob', groups: ['gold'] }], consumer_groups: [{ name: 'gold' }] };
    assert.deepEqual(changes(grouped, file, 'apply'), ['update consumer alice (tags)']);
    assert.deepEqual(changes(grouped, file, 'sync'), ['update consumer alice (tags)', 'update consumer_group gold (consumers)', 'delete plugin rate-limiting on consumer group gold']);
  });

  it("re-applying or syncing the gateway's own export changes nothing", () => {
    assert.deepEqual(changes(grouped, exportConfig(grouped), 'sync'), []);
    assert.deepEqual(changes(grouped, exportConfig(grouped), 'apply'), []);
  });
});
