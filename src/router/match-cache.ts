/**
 * A bounded cache of match results, approximately least-recently-used: two generations of at most
 * `limit` keys each; a hit in the old generation is promoted, and when the young generation is full
 * it becomes the old one. Cheaper than a strict LRU (no re-insertion on every hit), and like Kong's
 * router cache (`kong/router/atc.lua`, `lrucache` of DEFAULT_MATCH_LRUCACHE_SIZE = 5000) it also
 * remembers misses.
 */
export class MatchCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly limit: number) {}

  get(key: string): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}
