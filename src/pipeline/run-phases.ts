import type { RequestContext } from './context.js';
import { PhaseTimings } from './phase-timings.js';
import type { LogEntry } from './log-entry.js';
import type { ResolvedPlugin, ResponseHead, RoutePlugins } from './plugin.js';

/**
 * Kong's request lifecycle for the plugins of one route:
 *   rewrite (every applicable plugin) → access (priority order; once an auth plugin identifies a
 *   consumer, consumer-scoped instances take over for the plugins still to run) → [upstream] →
 *   header_filter → log.
 * A phase refuses by throwing a GatewayError; the caller turns it into the response. `ran` receives
 * the plugins that take part in header_filter and log: each as its access phase starts and, after a
 * refusal, the rest of the route's plugins too, whose access never runs (Kong's collecting iterator
 * goes on collecting past a kong.response.exit: a logging or metrics plugin of lower priority than
 * the auth plugin that refused still sees the 401).
 */
export function runRequestPhases(ctx: RequestContext, plugins: RoutePlugins, ran: ResolvedPlugin[]): Promise<void> | undefined {
  // A route without plugins (and without global ones) costs no async frame at all.
  if (plugins.base.length === 0) return undefined;
  if (plugins.tracesPhases && ctx.timings === null) ctx.timings = new PhaseTimings();
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
  const timings = ctx.timings;
  for (const plugin of plugins.base) {
    if (plugin.instance.rewrite !== undefined && pluginApplies(plugin, protocol)) {
      const started = timings === null ? 0 : performance.now();
      try {
        // A synchronous phase (most are) costs no microtask turn; only a promise is awaited.
        const pending = plugin.instance.rewrite(ctx);
        if (pending !== undefined) await pending;
      } catch (refusal) {
        timings?.record(plugin.entity.name, 'rewrite', started, true);
        throw refusal;
      }
      timings?.record(plugin.entity.name, 'rewrite', started, false);
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
      const started = timings === null ? 0 : performance.now();
      try {
        const pending = plugin.instance.access(ctx);
        if (pending !== undefined) await pending;
      } catch (refusal) {
        timings?.record(plugin.entity.name, 'access', started, true);
        collectRest(list, i + 1, done, protocol, ran);
        throw refusal;
      }
      timings?.record(plugin.entity.name, 'access', started, false);
    }
    const identified = ctx.identity?.consumer?.id ?? null;
    if (identified !== null && identified !== consumerId) {
      consumerId = identified;
      const forConsumer = plugins.withConsumer(identified);
      // No consumer-scoped instance anywhere (the common case): the list stays as it is, nothing to allocate.
      if (forConsumer === list) continue;
      if (done === null) {
        done = new Set();
        for (let j = 0; j <= i; j++) done.add(list[j]!.entity.name);
      }
      // Continue with the consumer-aware list from the current priority downwards.
      const priorityNow = plugin.priority;
      list = forConsumer.filter((p) => p.priority <= priorityNow);
      i = -1;
    }
  }
}

/** The plugins after a refusal, in `list` from `from` on, that would have run: they join header_filter and log. */
function collectRest(list: readonly ResolvedPlugin[], from: number, done: ReadonlySet<string> | null, protocol: RequestContext['request']['protocol'], ran: ResolvedPlugin[]): void {
  for (let j = from; j < list.length; j++) {
    const rest = list[j]!;
    if (done?.has(rest.entity.name) === true || !pluginApplies(rest, protocol)) continue;
    ran.push(rest);
  }
}

/** header_filter in priority order; synchronous, it only edits the response head. */
export function runHeaderFilter(ctx: RequestContext, plugins: readonly ResolvedPlugin[], head: ResponseHead): void {
  const timings = ctx.timings;
  for (const plugin of plugins) {
    const instance = plugin.instance;
    if (instance.headerFilter === undefined) continue;
    if (timings === null) {
      instance.headerFilter(ctx, head);
      continue;
    }
    const started = performance.now();
    try {
      instance.headerFilter(ctx, head);
    } catch (error) {
      timings.record(plugin.entity.name, 'header_filter', started, true);
      throw error;
    }
    timings.record(plugin.entity.name, 'header_filter', started, false);
  }
}

/** Whether any of `plugins` has a log phase (the proxy measures and builds a LogEntry only then). */
export function anyLogs(plugins: readonly ResolvedPlugin[]): boolean {
  for (const plugin of plugins) if (plugin.instance.log !== undefined) return true;
  return false;
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

