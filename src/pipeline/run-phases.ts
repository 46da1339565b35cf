import type { RequestContext } from './context.js';
import type { LogEntry } from './log-entry.js';
import type { ResolvedPlugin, ResponseHead, RoutePlugins } from './plugin.js';

/**
 * Kong's request lifecycle for the plugins of one route:
 *   rewrite (every applicable plugin) → access (priority order; once an auth plugin identifies a
 *   consumer, consumer-scoped instances take over for the plugins still to run) → [upstream] →
 *   header_filter → log.
 * A phase refuses by throwing a GatewayError; the caller turns it into the response. `ran` receives
 * each plugin as its access phase starts, so even after a refusal the caller knows which plugins
 * take part in header_filter and log.
 */
export function runRequestPhases(ctx: RequestContext, plugins: RoutePlugins, ran: ResolvedPlugin[]): Promise<void> | undefined {
  // A route without plugins (and without global ones) costs no async frame at all.
  if (plugins.base.length === 0) return undefined;
  return runPhases(ctx, plugins, ran);
}

/**
 * Whether a plugin runs for the request's protocol. On a ws/wss route a plugin for http/https runs
 * too: its default protocols (grpc, grpcs, http, https) do not name ws, and an authentication
 * plugin that silently skipped a WebSocket route would open it (fail closed).
 */
export function pluginApplies(plugin: ResolvedPlugin, protocol: RequestContext['request']['protocol']): boolean {
  const protocols = plugin.entity.protocols;
  if (protocols.includes(protocol)) return true;
  return (protocol === 'ws' && protocols.includes('http')) || (protocol === 'wss' && protocols.includes('https'));
}

async function runPhases(ctx: RequestContext, plugins: RoutePlugins, ran: ResolvedPlugin[]): Promise<void> {
  const protocol = ctx.request.protocol;
  for (const plugin of plugins.base) {
    if (plugin.instance.rewrite !== undefined && pluginApplies(plugin, protocol)) {
      // A synchronous phase (most are) costs no microtask turn; only a promise is awaited.
      const pending = plugin.instance.rewrite(ctx);
      if (pending !== undefined) await pending;
    }
  }

  let list = plugins.base;
  let consumerId: string | null = null;
  // Names already visited, needed only once a consumer switches the list (the base list names
  // each plugin once): made then, from what was visited so far.
  let done: Set<string> | null = null;
  for (let i = 0; i < list.length; i++) {
    const plugin = list[i];
    if (plugin === undefined) continue;
    if (done !== null) {
      if (done.has(plugin.entity.name)) continue;
      done.add(plugin.entity.name);
    }
    if (!pluginApplies(plugin, protocol)) continue;
    ran.push(plugin);
    if (plugin.instance.access !== undefined) {
      const pending = plugin.instance.access(ctx);
      if (pending !== undefined) await pending;
    }
    const identified = ctx.identity?.consumer?.id ?? null;
    if (identified !== null && identified !== consumerId) {
      consumerId = identified;
      if (done === null) {
        done = new Set();
        for (let j = 0; j <= i; j++) done.add(list[j]!.entity.name);
      }
      // Continue with the consumer-aware list from the current priority downwards.
      const priorityNow = plugin.priority;
      list = plugins.withConsumer(identified).filter((p) => p.priority <= priorityNow);
      i = -1;
    }
  }
}

/** header_filter in priority order; synchronous, it only edits the response head. */
export function runHeaderFilter(ctx: RequestContext, plugins: readonly ResolvedPlugin[], head: ResponseHead): void {
  for (const plugin of plugins) plugin.instance.headerFilter?.(ctx, head);
}

/** Whether any of `plugins` has a log phase (the proxy measures and builds a LogEntry only then). */
export function anyLogs(plugins: readonly ResolvedPlugin[]): boolean {
  for (const plugin of plugins) if (plugin.instance.log !== undefined) return true;
  return false;
}

/**
 * The plugins whose log phase runs after a refusal: those that ran, then the ones the refusal cut
 * short that have a log phase. Kong's collecting iterator goes on collecting the plugins once a
 * response was decided (it only stops running their access handlers), so a 401 from key-auth is
 * still logged by http-log and counted by prometheus.
 */
export function logParticipants(ctx: RequestContext, plugins: RoutePlugins, ran: readonly ResolvedPlugin[]): readonly ResolvedPlugin[] {
  const consumerId = ctx.identity?.consumer?.id ?? null;
  const list = consumerId === null ? plugins.base : plugins.withConsumer(consumerId);
  let all: ResolvedPlugin[] | null = null;
  for (const plugin of list) {
    if (plugin.instance.log === undefined || !pluginApplies(plugin, ctx.request.protocol)) continue;
    if (ran.some((p) => p.entity.name === plugin.entity.name)) continue;
    (all ??= [...ran]).push(plugin);
  }
  return all ?? ran;
}

/** log phase: never throws, a failing log handler must not affect anything else. */
export function runLog(
  ctx: RequestContext,
  plugins: readonly ResolvedPlugin[],
  entry: LogEntry,
  onError: (plugin: string, error: unknown) => void,
): void {
  for (const plugin of plugins) {
    if (plugin.instance.log === undefined) continue;
    try {
      plugin.instance.log(ctx, entry);
    } catch (error) {
      onError(plugin.entity.name, error);
    }
  }
}

