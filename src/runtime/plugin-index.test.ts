import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumerGroup, PluginEntity, Route } from '../config/types.js';
import type { PluginDefinition, ResolvedPlugin } from '../pipeline/plugin.js';
import { PluginIndex, PRECEDENCE } from './plugin-index.js';

const route = { id: 'r1', service: 's1' } as Route;
const otherRoute = { id: 'r2', service: 's2' } as Route;
type Scope = Partial<Pick<PluginEntity, 'route' | 'service' | 'consumer' | 'consumer_group'>>;

function plugin(id: string, scope: Scope, name = 'rate-limiting'): ResolvedPlugin {
  const entity: PluginEntity = { id, name, instance_name: null, config: {}, enabled: true, protocols: ['http'], tags: [], route: null, service: null, consumer: null, consumer_group: null, ...scope };
  return { entity, definition: { priority: 910 } as PluginDefinition, instance: {}, priority: 910 };
}

const group = (id: string, name: string, consumers: string[]): ConsumerGroup => ({ id, name, tags: [], consumers });
const winner = (index: PluginIndex, consumer: string | null, on: Route = route): string | undefined => {
  const plugins = index.forRoute(on);
  return (consumer === null ? plugins.base : plugins.withConsumer(consumer)).find((p) => p.entity.name === 'rate-limiting')?.entity.id;
};

// Every combination Kong ranks, in Kong's order, for consumer c1 in group g1 on route r1 of service s1.
const RANKED: ReadonlyArray<readonly [string, Scope]> = [
  ['consumer+route+service', { consumer: 'c1', route: 'r1', service: 's1' }],
  ['group+route+service', { consumer_group: 'g1', route: 'r1', service: 's1' }],
  ['consumer+route', { consumer: 'c1', route: 'r1' }],
  ['consumer+service', { consumer: 'c1', service: 's1' }],
  ['group+route', { consumer_group: 'g1', route: 'r1' }],
  ['group+service', { consumer_group: 'g1', service: 's1' }],
  ['route+service', { route: 'r1', service: 's1' }],
  ['consumer', { consumer: 'c1' }],
  ['group', { consumer_group: 'g1' }],
  ['route', { route: 'r1' }],
  ['service', { service: 's1' }],
  ['global', {}],
];

describe('plugin precedence with consumer groups (Kong: consumer > consumer group > route/service > global)', () => {
  it('ranks the twelve combinations in Kong’s documented order', () => {
    assert.equal(PRECEDENCE.length, RANKED.length);
    const groups = [group('g1', 'gold', ['c1'])];
    // Remove the winner each time: the next most specific must take its place, in Kong's order.
    for (let i = 0; i < RANKED.length; i++) {
      const present = RANKED.slice(i).map(([id, scope]) => plugin(id, scope)).reverse();
      assert.equal(winner(new PluginIndex(present, groups), 'c1'), RANKED[i]![0], `with ranks ${i + 1}.. configured`);
    }
  });

  it('a group-scoped instance applies only once the consumer is known, and only to members', () => {
    const index = new PluginIndex([plugin('global', {}), plugin('gold', { consumer_group: 'g1' })], [group('g1', 'gold', ['c1'])]);
    assert.equal(winner(index, null), 'global', 'before authentication: no group is known');
    assert.equal(winner(index, 'c1'), 'gold');
    assert.equal(winner(index, 'c2'), 'global', 'a consumer outside the group');
  });

  it('a consumer in two groups gets the instance of the group whose name sorts first, whatever the file order', () => {
    const groups = [group('g-silver', 'silver', ['c1']), group('g-gold', 'gold', ['c1']), group('g-bronze', 'bronze', ['c2'])];
    const index = new PluginIndex([plugin('silver', { consumer_group: 'g-silver' }), plugin('gold', { consumer_group: 'g-gold' })], groups);
    assert.equal(winner(index, 'c1'), 'gold');
  });

  it('a more specific rank beats the first group by name: a group on the route over another group alone', () => {
    const groups = [group('ga', 'a', ['c1']), group('gb', 'b', ['c1'])];
    const index = new PluginIndex([plugin('a', { consumer_group: 'ga' }), plugin('b-route', { consumer_group: 'gb', route: 'r1' })], groups);
    assert.equal(winner(index, 'c1'), 'b-route');
    assert.equal(winner(index, 'c1', otherRoute), 'a', 'on another route the route-scoped instance does not apply');
  });

  it('the global list (no route matched) leaves group-scoped instances out', () => {
    const index = new PluginIndex([plugin('gold', { consumer_group: 'g1' })], [group('g1', 'gold', ['c1'])]);
    assert.deepEqual(index.globals(), []);
  });

  it('disabled group instances are ignored', () => {
    const disabled = plugin('gold', { consumer_group: 'g1' });
    const index = new PluginIndex([plugin('global', {}), { ...disabled, entity: { ...disabled.entity, enabled: false } }], [group('g1', 'gold', ['c1'])]);
    assert.equal(winner(index, 'c1'), 'global');
  });
});
