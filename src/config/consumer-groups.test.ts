import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pluginSchemas } from '../plugins/index.js';
import { exportConfig } from './export.js';
import { loadConfig, loadConfigObject } from './index.js';
import { lines, loaded, loadErrors } from './test-fixtures.js';

const load = (text: string) => loaded(loadConfig(text, { env: {}, plugins: pluginSchemas }));
const errorsOf = (text: string) => lines(loadErrors(text, pluginSchemas));

const GROUPS = `
_format_version: "3.0"
consumers:
  - username: alice
    groups:
      - name: gold
  - username: bob
  - username: carol
    groups: [silver, { name: gold }]
consumer_groups:
  - name: gold
    tags: [tier]
    plugins:
      - name: rate-limiting
        config: { minute: 10 }
  - name: silver
    consumers:
      - username: bob
      - username: carol
plugins:
  - name: rate-limiting
    consumer_group: silver
    config: { minute: 5 }
`;

describe('consumer groups in a decK file', () => {
  it('load with their members from both decK shapes, in consumer order, and plugins scoped to them', () => {
    const config = load(GROUPS);
    const [alice, bob, carol] = config.consumers;
    const [gold, silver] = config.consumer_groups;
    assert.equal(gold?.name, 'gold');
    assert.deepEqual(gold?.tags, ['tier']);
    assert.deepEqual(gold?.consumers, [alice?.id, carol?.id]);
    assert.deepEqual(silver?.consumers, [bob?.id, carol?.id], 'carol stated twice (under silver and under carol) is one membership');
    assert.deepEqual(
      config.plugins.map((p) => [p.consumer_group, p.config.minute]),
      [[gold?.id, 10], [silver?.id, 5]],
    );
    assert.match(gold?.id ?? '', /^[0-9a-f-]{36}$/);
  });

  it('a plugin id derived without a group is what it was before groups existed', () => {
    const plain = load('_format_version: "3.0"\nplugins:\n  - name: rate-limiting\n    config: { minute: 1 }\n');
    const grouped = load('_format_version: "3.0"\nconsumer_groups: [{ name: g }]\nplugins:\n  - name: rate-limiting\n    config: { minute: 1 }\n  - name: rate-limiting\n    consumer_group: g\n    config: { minute: 1 }\n');
    assert.equal(grouped.plugins[0]?.id, plain.plugins[0]?.id);
    assert.notEqual(grouped.plugins[1]?.id, plain.plugins[0]?.id);
  });

  it('refuses unknown groups and consumers, a duplicate name, and a second instance on the same group, at their paths', () => {
    const errors = errorsOf(`
_format_version: "3.0"
consumers:
  - username: alice
    groups: [{ name: platinum }]
consumer_groups:
  - name: gold
    consumers: [{ username: zed }]
    plugins:
      - name: rate-limiting
        config: { minute: 1 }
  - name: gold
plugins:
  - name: rate-limiting
    consumer_group: gold
    config: { minute: 2 }
  - name: rate-limiting
    consumer_group: bronze
    config: { minute: 2 }
`);
    assert.deepEqual(errors, [
      "consumers[0].groups[0]: consumer group 'platinum' not found",
      "consumer_groups[0].consumers[0]: consumer 'zed' not found",
      "consumer_groups[1].name: duplicate name 'gold' (also used by consumer_groups[0])",
      "plugins[0]: plugin 'rate-limiting' is already configured on the same service, route, consumer and consumer group (at consumer_groups[0].plugins[0])",
      "plugins[1].consumer_group: consumer group 'bronze' not found",
    ]);
  });

  it('refuses a plugin Kong cannot scope to a group, and one scoped to both a consumer and a group', () => {
    const errors = errorsOf(`
_format_version: "3.0"
consumers: [{ username: alice }]
consumer_groups:
  - name: gold
    plugins:
      - name: key-auth
plugins:
  - name: rate-limiting
    consumer: alice
    consumer_group: gold
    config: { minute: 1 }
  - name: acl
    consumer_group: gold
    config: { allow: [x] }
`);
    assert.deepEqual(errors, [
      "consumer_groups[0].plugins[0]: plugin 'key-auth' cannot be attached to a consumer group",
      "plugins[0]: plugin 'rate-limiting' cannot be scoped to both a consumer and a consumer group",
      "plugins[1]: plugin 'acl' cannot be attached to a consumer group",
    ]);
  });

  it('a nested plugin naming another group than its enclosing one is refused', () => {
    const errors = errorsOf(`
_format_version: "3.0"
consumer_groups:
  - name: gold
    plugins:
      - { name: rate-limiting, consumer_group: silver, config: { minute: 1 } }
  - name: silver
`);
    assert.deepEqual(errors, ["consumer_groups[0].plugins[0].consumer_group: must be the enclosing consumer group 'gold' or be omitted"]);
  });

  it("dumps membership once, as decK's dump does (groups under each consumer), and the dump loads back to the same config", () => {
    const config = load(GROUPS);
    const dumped = exportConfig(config);
    const consumers = dumped.consumers as Array<Record<string, unknown>>;
    assert.deepEqual(consumers.map((c) => c.groups), [[{ name: 'gold' }], [{ name: 'silver' }], [{ name: 'gold' }, { name: 'silver' }]]);
    assert.deepEqual(dumped.consumer_groups, config.consumer_groups.map((g) => ({ id: g.id, name: g.name, tags: [...g.tags] })));
    const plugins = dumped.plugins as Array<Record<string, unknown>>;
    assert.deepEqual(plugins.map((p) => p.consumer_group), ['gold', 'silver']);
    for (const options of [{}, { references: 'id' as const }, { references: 'id' as const, children: 'flat' as const }]) {
      const again = loadConfigObject(exportConfig(config, options), { plugins: pluginSchemas });
      assert.ok(again.ok, JSON.stringify(again));
      assert.deepEqual(again.config, config, JSON.stringify(options));
    }
  });

  it('the store form keeps membership on the group, by consumer id', () => {
    const config = load(GROUPS);
    const flat = exportConfig(config, { references: 'id', children: 'flat' });
    const [alice, , carol] = config.consumers;
    assert.deepEqual((flat.consumer_groups as Array<Record<string, unknown>>)[0]?.consumers, [{ id: alice?.id }, { id: carol?.id }]);
    assert.equal((flat.consumers as Array<Record<string, unknown>>)[0]?.groups, undefined);
  });
});
