/**
 * Entities of a list by id (or another key), made once per frozen list (a loaded Config's lists
 * never change) and shared by whatever needs them: the runtime's lookups, the credential indexes,
 * the admin API. A list made by appending to a known one layers on that one's index (see
 * list-lineage.ts), so that creating one consumer among 100,000 indexes one consumer.
 */
import { LayeredMap } from './list-lineage.js';

/** What an index answers. */
export interface Lookup<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
}

const indexes = new Map<string, WeakMap<readonly unknown[], LayeredMap<unknown>>>();

/**
 * The entries of `list` by `keyOf` (entries without a key, null, are left out; of two with the same
 * key the first is kept). `name` names the key: one index per list and name.
 */
export function indexBy<T>(list: readonly T[], name: string, keyOf: (entry: T) => string | null): Lookup<T> {
  return indexByKeys(list, name, (entry) => {
    const key = keyOf(entry);
    return key === null ? [] : [key];
  });
}

/** As `indexBy`, for entries known by several keys (a certificate by each of its SNIs). */
export function indexByKeys<T>(list: readonly T[], name: string, keysOf: (entry: T) => readonly string[]): Lookup<T> {
  let cache = indexes.get(name);
  if (cache === undefined) indexes.set(name, (cache = new WeakMap()));
  return LayeredMap.of(cache as WeakMap<readonly T[], LayeredMap<T>>, list, (map, entry) => {
    for (const key of keysOf(entry)) if (!map.has(key)) map.set(key, entry);
  });
}

export function byId<T extends { readonly id: string }>(list: readonly T[]): Lookup<T> {
  return indexBy(list, 'id', (e) => e.id);
}
