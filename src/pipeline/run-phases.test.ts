import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Consumer, PluginEntity, Route } from '../config/types.js';
import { PluginIndex } from '../runtime/plugin-index.js';
import type { RequestContext } from './context.js';
import { GatewayError } from './gateway-error.js';
import type { PluginDefinition, ResolvedPlugin } from './plugin.js';
import { runRequestPhases } from './run-phases.js';

const route = { id: 'r1', service: 's1' } as Route;
const consumer: Consumer = { id: 'c1', username: 'alice', custom_id: null, tags: [] };

function entity(name: string, scope: Partial<Pick<PluginEntity, 'route' | 'service' | 'consumer'>>, id = `${name}-${JSON.stringify(scope)}`): PluginEntity {
  return { id, name, instance_name: null, config: {}, enabled: true, protocols: ['http', 'https'], tags: [], route: null, service: null, consumer: null, consumer_group: null, ...scope };
}

function plugin(e: PluginEntity, priority: number, trace: string[], access?: (ctx: RequestContext) => void): ResolvedPlugin {
  const definition = { priority } as PluginDefinition;
  return {
    entity: e,
    definition,
    priority,
    instance: {
      rewrite: () => void trace.push(`rewrite:${e.id}`),
      access: (ctx) => {
        trace.push(`access:${e.id}`);
        access?.(ctx);
      },
    },
  };
}

function context(scheme: 'http' | 'https' = 'https', protocol: RequestContext['request']['protocol'] = scheme): RequestContext {
  return { request: { scheme, protocol }, identity: null, timings: null } as unknown as RequestContext;
}

describe('plugin resolution and phases', () => {
  it('runs rewrite for every plugin, then access by descending priority', async () => {
    const trace: string[] = [];
    const index = new PluginIndex([plugin(entity('low', {}, 'low'), 10, trace), plugin(entity('high', {}, 'high'), 1000, trace)]);
    await runRequestPhases(context(), index.forRoute(route), []);
    assert.deepEqual(trace, ['rewrite:high', 'rewrite:low', 'access:high', 'access:low']);
  });

  it('picks the most specific instance of a plugin: route over service over global', () => {
    const trace: string[] = [];
    const index = new PluginIndex([
      plugin(entity('p', {}, 'global'), 5, trace),
      plugin(entity('p', { service: 's1' }, 'service'), 5, trace),
      plugin(entity('p', { route: 'r1' }, 'route'), 5, trace),
      plugin(entity('p', { route: 'other' }, 'other-route'), 5, trace),
    ]);
    const resolved = index.forRoute(route).base;
    assert.deepEqual(resolved.map((p) => p.entity.id), ['route']);
    assert.deepEqual(index.forRoute({ id: 'r2', service: 's2' } as Route).base.map((p) => p.entity.id), ['global']);
  });

  it('switches to consumer-scoped instances once an auth plugin identifies the consumer', async () => {
    const trace: string[] = [];
    const index = new PluginIndex([
      plugin(entity('auth', { route: 'r1' }, 'auth'), 1000, trace, (ctx) => {
        ctx.identity = { consumer, credentialId: null, groups: null, anonymous: false };
      }),
      plugin(entity('limit', { route: 'r1' }, 'limit-route'), 900, trace),
      plugin(entity('limit', { consumer: 'c1' }, 'limit-consumer'), 900, trace),
    ]);
    const ran: ResolvedPlugin[] = [];
    await runRequestPhases(context(), index.forRoute(route), ran);
    assert.deepEqual(trace.filter((t) => t.startsWith('access')), ['access:auth', 'access:limit-consumer']);
    assert.deepEqual(ran.map((p) => p.entity.id), ['auth', 'limit-consumer']);
  });

  it('skips a plugin whose protocols exclude the request scheme', async () => {
    const trace: string[] = [];
    const httpsOnly = { ...entity('tls', {}, 'tls'), protocols: ['https' as const] };
    const index = new PluginIndex([plugin(httpsOnly, 10, trace)]);
    await runRequestPhases(context('http'), index.forRoute(route), []);
    assert.deepEqual(trace.filter((t) => t.startsWith('access')), []);
  });

  it("filters by the request's protocol: on a gRPC route grpc/grpcs, not its http scheme", async () => {
    const trace: string[] = [];
    const grpcOnly = { ...entity('g', {}, 'g'), protocols: ['grpc' as const, 'grpcs' as const] };
    const index = new PluginIndex([plugin(grpcOnly, 10, trace)]);
    await runRequestPhases(context('http'), index.forRoute(route), []);
    assert.deepEqual(trace.filter((t) => t.startsWith('access')), []);
    await runRequestPhases(context('http', 'grpc'), index.forRoute(route), []);
    assert.equal(trace.filter((t) => t.startsWith('access')).length, 1);
  });

  it('on a ws/wss route runs plugins for http/https too (their default protocols do not name ws): fail closed', async () => {
    const trace: string[] = [];
    const httpOnly = { ...entity('h', {}, 'h'), protocols: ['http' as const] };
    const index = new PluginIndex([plugin(httpOnly, 10, trace)]);
    await runRequestPhases(context('http', 'ws'), index.forRoute(route), []);
    assert.equal(trace.filter((t) => t.startsWith('access')).length, 1);
    await runRequestPhases(context('https', 'wss'), index.forRoute(route), []);
    assert.equal(trace.filter((t) => t.startsWith('access')).length, 1);
  });

  it('stops at the first refusal; the plugins after it still take part in header_filter and log, as Kong collects them', async () => {
    const trace: string[] = [];
    const index = new PluginIndex([
      plugin(entity('deny', {}, 'deny'), 100, trace, () => {
        throw new GatewayError({ status: 401, code: 'nope', message: 'Unauthorized' });
      }),
      plugin(entity('after', {}, 'after'), 1, trace),
    ]);
    const ran: ResolvedPlugin[] = [];
    await assert.rejects(async () => runRequestPhases(context(), index.forRoute(route), ran), (e: unknown) => e instanceof GatewayError && e.code === 'nope');
    assert.ok(!trace.includes('access:after'));
    assert.deepEqual(ran.map((p) => p.entity.id), ['deny', 'after'], 'the refusing plugin and the ones after it take part in the log phase');
  });

  it('after a refusal, the log phase also runs the plugins cut short that have one (Kong collects them all)', async () => {
    const trace: string[] = [];
    const logger = (id: string, priority: number): ResolvedPlugin => {
      const p = plugin(entity(id, {}, id), priority, trace);
      return { ...p, instance: { ...p.instance, log: () => void trace.push(`log:${id}`) } };
    };
    const index = new PluginIndex([
      plugin(entity('deny', {}, 'deny'), 100, trace, () => {
        throw new GatewayError({ status: 401, code: 'nope', message: 'Unauthorized' });
      }),
      plugin(entity('no-log', {}, 'no-log'), 50, trace),
      logger('logs', 12),
    ]);
    const ran: ResolvedPlugin[] = [];
    const ctx = context();
    await assert.rejects(async () => runRequestPhases(ctx, index.forRoute(route), ran));
    assert.deepEqual(ran.map((p) => p.entity.id), ['deny', 'no-log', 'logs']);
    assert.ok(!trace.includes('access:logs'), 'its access phase did not run');
  });
});
