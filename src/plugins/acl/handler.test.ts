import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigObject } from '../../config/index.js';
import type { Config } from '../../config/types.js';
import { isGatewayError } from '../../pipeline/gateway-error.js';
import type { PluginInstance } from '../../pipeline/plugin.js';
import { pluginSchemas } from '../index.js';
import { fakeContext, silentLogger, testNodeServices } from '../openid-connect/test-fixtures.js';
import { acl } from './handler.js';
import type { AclConfig } from './schema.js';

function build(config: Record<string, unknown>): { instance: PluginInstance; loaded: Config } {
  const result = loadConfigObject(
    {
      _format_version: '3.0',
      consumers: [{ username: 'alice', acls: [{ group: 'gold' }] }, { username: 'dave' }],
      plugins: [{ name: 'acl', config }],
    },
    { plugins: pluginSchemas },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  const entity = result.config.plugins[0]!;
  return { instance: acl.create(entity.config as unknown as AclConfig, entity, { config: result.config, logger: silentLogger, trustedCaPems: [], node: testNodeServices }), loaded: result.config };
}

/** The status the acl answers (200: passed) and the groups header it sent upstream. */
function outcome(instance: PluginInstance, given: { set?: (ctx: ReturnType<typeof fakeContext>) => void }): { status: number; headers: Record<string, unknown> } {
  const ctx = fakeContext();
  given.set?.(ctx);
  try {
    void instance.access?.(ctx);
    return { status: 200, headers: { consumer: ctx.upstreamHeaders['x-consumer-groups'], authenticated: ctx.upstreamHeaders['x-authenticated-groups'] } };
  } catch (error) {
    if (isGatewayError(error)) return { status: error.status, headers: {} };
    throw error;
  }
}

describe('acl with groups authenticated by another plugin', () => {
  it('uses the authenticated groups when there is no consumer, and the consumer groups otherwise', () => {
    const { instance, loaded } = build({ allow: ['gold', 'partners'] });
    const alice = loaded.consumers[0]!;
    // mtls-auth with skip_consumer_lookup / openid-connect groups: no consumer, groups only.
    assert.deepEqual(outcome(instance, { set: (ctx) => (ctx.identity = { consumer: null, credentialId: null, groups: ['partners'], anonymous: false }) }), { status: 200, headers: { consumer: undefined, authenticated: 'partners' } });
    assert.equal(outcome(instance, { set: (ctx) => (ctx.identity = { consumer: null, credentialId: null, groups: ['other'], anonymous: false }) }).status, 403);
    // A consumer with a credential: its ACL groups, not the authenticated ones (Kong's default).
    assert.deepEqual(outcome(instance, { set: (ctx) => (ctx.identity = { consumer: alice, credentialId: 'c', groups: ['other'], anonymous: false }) }), { status: 200, headers: { consumer: 'gold', authenticated: undefined } });
    // Nobody at all: 401.
    assert.equal(outcome(instance, {}).status, 401);
  });

  it('always_use_authenticated_groups prefers them over the consumer groups, falling back when there are none', () => {
    const { instance, loaded } = build({ allow: ['partners'], always_use_authenticated_groups: true });
    const alice = loaded.consumers[0]!;
    assert.equal(outcome(instance, { set: (ctx) => (ctx.identity = { consumer: alice, credentialId: 'c', groups: ['partners'], anonymous: false }) }).status, 200);
    assert.equal(outcome(instance, { set: (ctx) => (ctx.identity = { consumer: alice, credentialId: 'c', groups: null, anonymous: false }) }).status, 403, 'gold is not allowed');
  });

  it('the anonymous consumer is judged by the authenticated groups when there are some', () => {
    const { instance, loaded } = build({ deny: ['blocked'] });
    const dave = loaded.consumers[1]!;
    assert.equal(outcome(instance, { set: (ctx) => (ctx.identity = { consumer: dave, credentialId: null, groups: ['blocked'], anonymous: true }) }).status, 403);
    assert.equal(outcome(instance, { set: (ctx) => (ctx.identity = { consumer: dave, credentialId: null, groups: null, anonymous: true }) }).status, 200, 'deny: a consumer without groups passes');
  });
});
