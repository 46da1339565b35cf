/**
 * Which frozen list a new one was made from (a change that appends one consumer to 100,000), so
 * that what is derived from lists (digests, maps by id, key indexes) can extend the old list's
 * result by the appended entries instead of going over every entry again.
 */
const parents = new WeakMap<readonly unknown[], readonly unknown[]>();

/**
 * Records that `next` was made from `base` (entries replaced, removed or appended). Only one
 * generation is kept: `base` forgets its own parent, or every list a long run of changes made
 * would stay reachable from the current one (100,000 entries each).
 */
export function derivedFrom(next: readonly unknown[], base: readonly unknown[]): void {
  if (next === base) return;
  parents.delete(base);
  parents.set(next, base);
}

/**
 * The list `list` was made from when it is that list with entries appended (the same entries, the
 * very same objects, in the same order, then new ones); null otherwise.
 */
export function appendedTo<T>(list: readonly T[]): readonly T[] | null {
  const base = parents.get(list) as readonly T[] | undefined;
  if (base === undefined || base.length > list.length) return null;
  for (let i = base.length - 1; i >= 0; i--) if (base[i] !== list[i]) return null;
  return base;
}

/**
 * A read-only map made of layers: the entries of a list appended to a known one on top of that
 * one's map, shared rather than copied (copying 100,000 entries for each new consumer is most of a
 * change's cost). Past `MAX_LAYERS` the layers are merged into one map again.
 */
export class LayeredMap<V> {
  readonly #own: ReadonlyMap<string, V>;
  readonly #below: LayeredMap<V> | null;
  readonly #depth: number;

  private constructor(own: ReadonlyMap<string, V>, below: LayeredMap<V> | null) {
    this.#own = own;
    this.#below = below;
    this.#depth = below === null ? 1 : below.#depth + 1;
  }

  get(key: string): V | undefined {
    const value = this.#own.get(key);
    if (value !== undefined || this.#own.has(key)) return value;
    return this.#below?.get(key);
  }

  has(key: string): boolean {
    return this.#own.has(key) || (this.#below?.has(key) ?? false);
  }

  /** Every entry, the upper layers' winning over the lower ones'. */
  #flat(): Map<string, V> {
    const out = this.#below === null ? new Map<string, V>() : this.#below.#flat();
    for (const [k, v] of this.#own) out.set(k, v);
    return out;
  }

  static readonly MAX_LAYERS = 32;

  /**
   * The index of a frozen list, made once (`cache`): entry by entry with `add`, or, for a list
   * appended to one whose index is known, as a layer of the appended entries on top of it.
   */
  static of<T, V>(cache: WeakMap<readonly T[], LayeredMap<V>>, list: readonly T[], add: (map: Map<string, V>, entry: T) => void): LayeredMap<V> {
    const known = cache.get(list);
    if (known !== undefined) return known;
    const frozen = Object.isFrozen(list);
    const base = frozen ? appendedTo(list) : null;
    const below = base === null ? undefined : cache.get(base);
    const own = new Map<string, V>();
    for (let i = below === undefined ? 0 : base!.length; i < list.length; i++) add(own, list[i]!);
    let index: LayeredMap<V>;
    if (below === undefined) index = new LayeredMap(own, null);
    else if (below.#depth < LayeredMap.MAX_LAYERS) index = new LayeredMap(own, below);
    else {
      const flat = below.#flat();
      for (const [k, v] of own) flat.set(k, v);
      index = new LayeredMap(flat, null);
    }
    if (frozen) cache.set(list, index);
    return index;
  }
}
