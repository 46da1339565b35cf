import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportConfig } from './export.js';
import { loadConfig, loadConfigObject } from './index.js';
import { catalog, lines, loaded, loadErrors } from './test-fixtures.js';
import type { Config } from './types.js';

const load = (text: string): Config => loaded(loadConfig(text, { env: {}, plugins: catalog }));
const doc = (body: string): string => `_format_version: "3.0"\n${body}`;

const file = doc(`consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-key-1
      - key: alice-key-2
        tags: [ci]
    acls:
      - group: gold
  - username: bob
keyauth_credentials:
  - key: bob-key
    consumer: bob
acls:
  - group: silver
    consumer: { username: bob }
  - group: gold
    consumer: bob
`);

describe('consumer credentials (keyauth_credentials, acls)', () => {
  it('reads them nested under consumers and at the top level, with ids from the consumer', () => {
    const config = load(file);
    const [alice, bob] = config.consumers;
    assert.deepEqual(
      config.keyauth_credentials.map((k) => [k.consumer === alice?.id ? 'alice' : k.consumer === bob?.id ? 'bob' : '?', k.key, k.tags]),
      [['alice', 'alice-key-1', []], ['alice', 'alice-key-2', ['ci']], ['bob', 'bob-key', []]],
    );
    assert.deepEqual(config.acls.map((a) => [a.consumer === alice?.id ? 'alice' : 'bob', a.group]), [['alice', 'gold'], ['bob', 'silver'], ['bob', 'gold']]);
    // Ids are stable across loads and unique; a key's id does not depend on the key.
    assert.deepEqual(load(file).keyauth_credentials.map((k) => k.id), config.keyauth_credentials.map((k) => k.id));
    assert.equal(new Set([...config.keyauth_credentials, ...config.acls].map((c) => c.id)).size, 6);
    const renamedKey = load(file.replace('alice-key-1', 'another-key'));
    assert.equal(renamedKey.keyauth_credentials[0]?.id, config.keyauth_credentials[0]?.id);
  });

  it('refuses a key used twice without printing it, a group twice for one consumer, a missing consumer, and ttl', () => {
    const errors = lines(loadErrors(doc(`consumers:
  - username: alice
    keyauth_credentials:
      - key: s3cret-key
      - key: other
        ttl: 60
    acls:
      - group: gold
      - group: gold
keyauth_credentials:
  - key: s3cret-key
    consumer: alice
acls:
  - group: x
    consumer: nobody
`)));
    assert.ok(errors.some((e) => e.startsWith('keyauth_credentials[0].key: duplicate key')), errors.join('\n'));
    assert.ok(errors.every((e) => !e.includes('s3cret-key')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith("consumers[0].acls[1].group: duplicate group 'gold' in the same consumer")), errors.join('\n'));
    assert.ok(errors.includes("acls[0].consumer: consumer 'nobody' not found"), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('consumers[0].keyauth_credentials[1].ttl')), errors.join('\n'));
  });

  it('dumps them nested under their consumer (decK), or flat with consumer ids (the store), and both load back equal', () => {
    const config = load(file);
    const nested = exportConfig(config);
    const consumers = nested.consumers as Array<Record<string, unknown>>;
    assert.deepEqual((consumers[0]?.keyauth_credentials as Array<{ key: string }>).map((k) => k.key), ['alice-key-1', 'alice-key-2']);
    assert.equal(consumers[0]?.keyauth_credentials && (consumers[0].keyauth_credentials as Array<Record<string, unknown>>)[0]?.consumer, undefined);
    assert.equal(nested.keyauth_credentials, undefined);
    const flat = exportConfig(config, { references: 'id', children: 'flat' });
    assert.equal((flat.keyauth_credentials as unknown[]).length, 3);
    for (const form of [nested, flat]) {
      const again = loaded(loadConfigObject(form, { plugins: catalog }));
      assert.deepEqual(again.keyauth_credentials, config.keyauth_credentials);
      assert.deepEqual(again.acls, config.acls);
    }
  });
});
