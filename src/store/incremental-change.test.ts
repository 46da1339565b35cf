/**
 * The incremental path gives the very configuration the whole-document path gives (same entities,
 * same order, same hash), and declines whatever it cannot decide alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportConfig } from '../config/export.js';
import { configHash, loadConfig, loadConfigObject } from '../config/index.js';
import type { Config } from '../config/types.js';
import { pluginSchemas } from '../plugins/index.js';
import type { EntityChanges } from './config-store.js';
import { withDocumentChanges } from './document-changes.js';
import { applyStoredChanges, CANONICAL, createLeafEntity } from './incremental-change.js';

const FILE = `_format_version: "3.0"
services:
  - name: orders
    url: http://orders.internal
    routes: [{ name: orders, paths: [/orders] }]
plugins:
  - name: key-auth
    config: { anonymous: guest }
consumers:
  - username: guest
  - username: alice
    custom_id: a-1
    keyauth_credentials: [{ key: alice-key }]
    acls: [{ group: gold }]
`;

function base(): Config {
  const loaded = loadConfig(FILE, { plugins: pluginSchemas, env: {} });
  assert.ok(loaded.ok);
  return loaded.config;
}

/** The whole-document path: the canonical document with `changes`, loaded as the config manager does. */
function whole(config: Config, changes: EntityChanges): Config {
  const loaded = loadConfigObject(withDocumentChanges(exportConfig(config, CANONICAL), [changes]), { plugins: pluginSchemas, entityAtATime: true });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  return loaded.config;
}

const alice = (config: Config): string => config.consumers.find((c) => c.username === 'alice')!.id;

describe('createLeafEntity', () => {
  it('creates a consumer and a credential as the whole-document path does', () => {
    let config = base();
    for (const [section, body] of [
      ['consumers', { username: 'bob', tags: ['new'] }],
      ['keyauth_credentials', { key: 'second-key', consumer: alice(config) }],
      ['acls', { group: 'silver', consumer: alice(config) }],
      ['basicauth_credentials', { username: 'alice-basic', password: 'secret', consumer: alice(config) }],
      ['jwt_secrets', { key: 'alice-iss', secret: 'alice-jwt-secret', consumer: alice(config) }],
    ] as const) {
      const created = createLeafEntity(config, section, { ...body }, pluginSchemas);
      assert.ok(created !== null, section);
      const expected = whole(config, created.changes);
      assert.deepEqual(created.config, expected, section);
      assert.equal(configHash(created.config), configHash(expected), section);
      config = created.config;
    }
  });

  it('declines what needs the whole configuration to decide: taken values, ids, a missing consumer, a malformed body', () => {
    const config = base();
    const cases: Array<[Parameters<typeof createLeafEntity>[1], Record<string, unknown>]> = [
      ['consumers', { username: 'alice' }],
      ['consumers', { custom_id: 'a-1' }],
      ['consumers', { id: alice(config), username: 'other' }],
      ['consumers', { username: 42 }],
      ['keyauth_credentials', { key: 'alice-key', consumer: alice(config) }],
      ['keyauth_credentials', { key: 'k', consumer: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a09' }],
      ['acls', { group: 'gold', consumer: alice(config) }],
    ];
    for (const [section, body] of cases) assert.equal(createLeafEntity(config, section, body, pluginSchemas), null, JSON.stringify(body));
    const guest = config.consumers.find((c) => c.username === 'guest')!.id;
    assert.ok(createLeafEntity(config, 'acls', { group: 'gold', consumer: guest }, pluginSchemas), 'the same group in another consumer');
  });
});

describe('applyStoredChanges', () => {
  it("makes another node's changes of consumers and credentials as a whole load does", () => {
    const config = base();
    const key = config.keyauth_credentials[0]!;
    const changes: EntityChanges = {
      upserts: [
        { section: 'keyauth_credentials', entity: { id: key.id, key: 'rotated', consumer: key.consumer, tags: [] } },
        { section: 'consumers', entity: { id: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a10', username: 'carol', tags: [] } },
      ],
      deletes: [{ section: 'acls', id: config.acls[0]!.id }],
    };
    const next = applyStoredChanges(config, changes, pluginSchemas);
    assert.ok(next !== null);
    assert.equal(configHash(next), configHash(whole(config, changes)));
  });

  it('declines changes of anything else', () => {
    const config = base();
    const route = exportConfig(config, CANONICAL).routes as Array<{ id: string }>;
    assert.equal(applyStoredChanges(config, { upserts: [{ section: 'routes', entity: { ...route[0]!, name: 'renamed' } }], deletes: [] }, pluginSchemas), null);
  });
});
