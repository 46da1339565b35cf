import type { ConsumerGroup, Route } from '../config/types.js';
import { routePlugins, type ResolvedPlugin, type RoutePlugins } from '../pipeline/plugin.js';

type Scope = { route: string | null; service: string | null; consumer: string | null; consumer_group: string | null };

/** Which of the four scopes a rank needs set (the others must be unset). */
type Combination = { readonly consumer: boolean; readonly group: boolean; readonly route: boolean; readonly service: boolean };

const combination = (consumer: boolean, group: boolean, route: boolean, service: boolean): Combination => ({ consumer, group, route, service });

/**
 * Kong's precedence, most specific first; only the first instance of a plugin name whose scope
 * applies runs. https://developer.konghq.com/gateway/entities/plugin/#plugin-precedence
 */
export const PRECEDENCE: readonly Combination[] = [
  combination(true, false, true, true), //   1 consumer + route + service
  combination(false, true, true, true), //   2 consumer group + route + service
  combination(true, false, true, false), //  3 consumer + route
  combination(true, false, false, true), //  4 consumer + service
  combination(false, true, true, false), //  5 consumer group + route
  combination(false, true, false, true), //  6 consumer group + service
  combination(false, false, true, true), //  7 route + service
  combination(true, false, false, false), // 8 consumer
  combination(false, true, false, false), // 9 consumer group
  combination(false, false, true, false), // 10 route
  combination(false, false, false, true), // 11 service
  combination(false, false, false, false), // 12 global
];

function matches(rank: Combination, s: Scope): boolean {
  return (s.consumer !== null) === rank.consumer && (s.consumer_group !== null) === rank.group && (s.route !== null) === rank.route && (s.service !== null) === rank.service;
}

function byPriority(a: ResolvedPlugin, b: ResolvedPlugin): number {
  return b.priority - a.priority || (a.entity.name < b.entity.name ? -1 : a.entity.name > b.entity.name ? 1 : 0);
}

/** Group ids per consumer, the groups ordered by name (Kong: of two groups' instances, the group whose name sorts first wins). */
function groupsByConsumer(groups: readonly ConsumerGroup[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const sorted = [...groups].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const group of sorted) {
    for (const consumer of group.consumers) {
      const list = out.get(consumer) ?? [];
      list.push(group.id);
      out.set(consumer, list);
    }
  }
  return out;
}

const NO_GROUPS: readonly string[] = [];

/**
 * Indexes every enabled plugin instance by scope and answers, for a route (and later a consumer and
 * its consumer groups), which instance of each plugin name applies: the most specific one, as Kong does.
 */
export class PluginIndex {
  readonly #byName = new Map<string, ResolvedPlugin[]>();
  readonly #hasConsumerScoped: boolean;
  readonly #groupsOf: ReadonlyMap<string, readonly string[]>;

  constructor(resolved: readonly ResolvedPlugin[], groups: readonly ConsumerGroup[] = []) {
    for (const plugin of resolved) {
      if (!plugin.entity.enabled) continue;
      const list = this.#byName.get(plugin.entity.name) ?? [];
      list.push(plugin);
      this.#byName.set(plugin.entity.name, list);
    }
    this.#hasConsumerScoped = resolved.some((p) => p.entity.enabled && (p.entity.consumer !== null || p.entity.consumer_group !== null));
    this.#groupsOf = groupsByConsumer(groups);
  }

  /** The plugins for a route; computed per route once per configuration. */
  forRoute(route: Route): RoutePlugins {
    const base = this.#select(route, null);
    if (!this.#hasConsumerScoped) return routePlugins(base, () => base);
    const perConsumer = new Map<string, readonly ResolvedPlugin[]>();
    return routePlugins(base, (consumerId) => {
      let list = perConsumer.get(consumerId);
      if (list === undefined) {
        list = this.#select(route, consumerId);
        perConsumer.set(consumerId, list);
      }
      return list;
    });
  }

  /** Global plugins only: what runs when no route matched (Kong runs global plugins then too). */
  globals(): readonly ResolvedPlugin[] {
    const out: ResolvedPlugin[] = [];
    for (const candidates of this.#byName.values()) {
      const global = candidates.find((p) => p.entity.route === null && p.entity.service === null && p.entity.consumer === null && p.entity.consumer_group === null);
      if (global !== undefined) out.push(global);
    }
    return out.sort(byPriority);
  }

  #select(route: Route, consumerId: string | null): readonly ResolvedPlugin[] {
    const groups = consumerId === null ? NO_GROUPS : (this.#groupsOf.get(consumerId) ?? NO_GROUPS);
    const out: ResolvedPlugin[] = [];
    for (const candidates of this.#byName.values()) {
      const applicable = candidates.filter(
        (p) =>
          (p.entity.route === null || p.entity.route === route.id) &&
          (p.entity.service === null || p.entity.service === route.service) &&
          (p.entity.consumer === null || p.entity.consumer === consumerId) &&
          (p.entity.consumer_group === null || groups.includes(p.entity.consumer_group)),
      );
      const winner = pickWinner(applicable, groups);
      if (winner !== undefined) out.push(winner);
    }
    return out.sort(byPriority);
  }
}

/** The most specific instance; at a consumer-group rank, the one of the consumer's first group by name. */
function pickWinner(applicable: readonly ResolvedPlugin[], groups: readonly string[]): ResolvedPlugin | undefined {
  if (applicable.length === 0) return undefined;
  for (const rank of PRECEDENCE) {
    const atRank = applicable.filter((p) => matches(rank, p.entity));
    if (atRank.length === 0) continue;
    if (!rank.group) return atRank[0];
    for (const group of groups) {
      const winner = atRank.find((p) => p.entity.consumer_group === group);
      if (winner !== undefined) return winner;
    }
  }
  return undefined;
}
