import type { Route } from '../config/types.js';
import type { ResolvedPlugin, RoutePlugins } from '../pipeline/plugin.js';

type Scope = { route: string | null; service: string | null; consumer: string | null };

// Kong's precedence, most specific first (consumer groups are not supported yet).
// https://developer.konghq.com/gateway/entities/plugin/#precedence
const precedence: ReadonlyArray<(s: Scope) => boolean> = [
  (s) => s.consumer !== null && s.route !== null && s.service !== null,
  (s) => s.consumer !== null && s.route !== null && s.service === null,
  (s) => s.consumer !== null && s.route === null && s.service !== null,
  (s) => s.consumer === null && s.route !== null && s.service !== null,
  (s) => s.consumer !== null && s.route === null && s.service === null,
  (s) => s.consumer === null && s.route !== null && s.service === null,
  (s) => s.consumer === null && s.route === null && s.service !== null,
  (s) => s.consumer === null && s.route === null && s.service === null,
];

function byPriority(a: ResolvedPlugin, b: ResolvedPlugin): number {
  return b.priority - a.priority || (a.entity.name < b.entity.name ? -1 : a.entity.name > b.entity.name ? 1 : 0);
}

/**
 * Indexes every enabled plugin instance by scope and answers, for a route (and later a consumer),
 * which instance of each plugin name applies: the most specific one, as Kong does.
 */
export class PluginIndex {
  readonly #byName = new Map<string, ResolvedPlugin[]>();
  readonly #hasConsumerScoped: boolean;

  constructor(resolved: readonly ResolvedPlugin[]) {
    for (const plugin of resolved) {
      if (!plugin.entity.enabled) continue;
      const list = this.#byName.get(plugin.entity.name) ?? [];
      list.push(plugin);
      this.#byName.set(plugin.entity.name, list);
    }
    this.#hasConsumerScoped = resolved.some((p) => p.entity.enabled && p.entity.consumer !== null);
  }

  /** The plugins for a route; computed per route once per configuration. */
  forRoute(route: Route): RoutePlugins {
    const base = this.#select(route, null);
    if (!this.#hasConsumerScoped) return { base, withConsumer: () => base };
    const perConsumer = new Map<string, readonly ResolvedPlugin[]>();
    return {
      base,
      withConsumer: (consumerId) => {
        let list = perConsumer.get(consumerId);
        if (list === undefined) {
          list = this.#select(route, consumerId);
          perConsumer.set(consumerId, list);
        }
        return list;
      },
    };
  }

  /** Global plugins only: what runs when no route matched (Kong runs global plugins then too). */
  globals(): readonly ResolvedPlugin[] {
    const out: ResolvedPlugin[] = [];
    for (const candidates of this.#byName.values()) {
      const global = candidates.find((p) => p.entity.route === null && p.entity.service === null && p.entity.consumer === null);
      if (global !== undefined) out.push(global);
    }
    return out.sort(byPriority);
  }

  #select(route: Route, consumerId: string | null): readonly ResolvedPlugin[] {
    const out: ResolvedPlugin[] = [];
    for (const candidates of this.#byName.values()) {
      const applicable = candidates.filter(
        (p) =>
          (p.entity.route === null || p.entity.route === route.id) &&
          (p.entity.service === null || p.entity.service === route.service) &&
          (p.entity.consumer === null || p.entity.consumer === consumerId),
      );
      for (const rank of precedence) {
        const winner = applicable.find((p) => rank(p.entity));
        if (winner !== undefined) {
          out.push(winner);
          break;
        }
      }
    }
    return out.sort(byPriority);
  }
}
