/**
 * Route matching with Kong 3.x `traditional_compatible` semantics, from a structure compiled once
 * per configuration. See compile-route.ts (attributes, priority), route-index.ts (what a request
 * evaluates), src/util/uri-path.ts (the path matched) and upstream-path.ts (the path sent upstream).
 */
import type { Route } from '../config/types.js';
import { compareEntries, compileRoute, type RouteEntry } from './compile-route.js';
import { MatchCache } from './match-cache.js';
import { RegexBudget, RegexBudgetExceeded } from './bounded-regex.js';
import { attributesMatch, regexMatch } from './match-entry.js';
import { normalizePath } from '../util/uri-path.js';
import { RouteIndex, type Candidate } from './route-index.js';
import type { RouteMatch, Router, RouterOptions, RouterRequest } from './types.js';

export type { RouteMatch, Router, RouterOptions, RouterRequest } from './types.js';
export { RouteCompileError } from './compile-route.js';
export { normalizePath, escapePath } from '../util/uri-path.js';
export { upstreamPath } from './upstream-path.js';

const DEFAULT_CACHE_SIZE = 5000;
/**
 * Time the backtracking regexes (see bounded-regex.ts) of one request may take together. Ordinary
 * patterns need microseconds; beyond this the request matches no route (404).
 */
const REGEX_BUDGET_MS = 100;
/** Longer keys are not cached: a cache must not become a store of attacker-chosen paths. */
const MAX_CACHED_KEY_LENGTH = 1024;

class CompiledRouter implements Router {
  readonly size: number;
  private readonly index: RouteIndex;
  private readonly cache: MatchCache<RouteMatch | null> | null;

  constructor(routes: readonly Route[], options: RouterOptions) {
    this.size = routes.length;
    const entries: RouteEntry[] = routes.flatMap(compileRoute);
    entries.sort(compareEntries);
    entries.forEach((entry, rank) => (entry.rank = rank));
    this.index = new RouteIndex(entries);
    const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new TypeError('options.cacheSize must be a non-negative integer');
    // Only regex paths make a match cost more than a few map look-ups (bench/router), so only they
    // earn a cache; headers are not in the key, so any header-matching route turns it off.
    const worthCaching = entries.some((e) => e.regexes !== null) && entries.every((e) => e.headers === null);
    this.cache = cacheSize > 0 && worthCaching ? new MatchCache(cacheSize) : null;
  }

  match(request: RouterRequest): RouteMatch | null {
    if (this.cache === null) return this.find(request);
    // "\n" cannot occur in a method, Host header or request target (Node refuses it), so no two
    // requests share a key; only the SNI could hold one, and it sits between fixed fields.
    const key = `${request.protocol}\n${request.method}\n${request.host}\n${request.port ?? ''}\n${request.sni ?? ''}\n${request.path}`;
    if (key.length > MAX_CACHED_KEY_LENGTH) return this.find(request);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const found = this.find(request);
    this.cache.set(key, found);
    return found;
  }

  private find(request: RouterRequest): RouteMatch | null {
    try {
      return this.search(request, new RegexBudget(REGEX_BUDGET_MS));
    } catch (error) {
      // Fail closed: not even a lower-priority route, which the slow regex's route may have been meant to win against.
      if (error instanceof RegexBudgetExceeded) return null;
      throw error;
    }
  }

  private search(request: RouterRequest, budget: RegexBudget): RouteMatch | null {
    const path = normalizePath(request.path);
    const lists = this.index.candidates(request.host, path);
    if (lists.length === 1) {
      for (const candidate of lists[0] ?? []) {
        const found = evaluate(candidate, request, path, budget);
        if (found !== null) return found;
      }
      return null;
    }
    const cursors = new Array<number>(lists.length).fill(0);
    for (;;) {
      // Lazy k-way merge: the candidate with the lowest rank among the list heads goes next.
      let best: Candidate | undefined;
      let bestList = -1;
      for (let i = 0; i < lists.length; i++) {
        const head = lists[i]?.[cursors[i] ?? 0];
        if (head !== undefined && (best === undefined || head.rank < best.rank)) {
          best = head;
          bestList = i;
        }
      }
      if (best === undefined) return null;
      cursors[bestList] = (cursors[bestList] ?? 0) + 1;
      const found = evaluate(best, request, path, budget);
      if (found !== null) return found;
    }
  }
}

function evaluate(candidate: Candidate, request: RouterRequest, path: string, budget: RegexBudget): RouteMatch | null {
  const { entry } = candidate;
  if (candidate.checkAttributes && !attributesMatch(entry, request, candidate.checkHosts, budget)) return null;
  let result = candidate.result;
  if (result === null) {
    const matchedPath = entry.regexes === null ? null : regexMatch(entry.regexes, path, budget);
    if (matchedPath === null) return null;
    result = Object.freeze({ kind: 'route', route: entry.route, matchedPath });
  }
  // Kong picks the best route first and only then looks at the protocol (runloop handler).
  return request.protocol !== 'https' && entry.httpsOnly ? entry.mismatch : result;
}

/**
 * Compiles routes (any order) into a router. Throws `RouteCompileError` for a path or regex Kong's
 * schema would refuse, naming the route and the field.
 */
export function compileRouter(routes: readonly Route[], options: RouterOptions = {}): Router {
  return new CompiledRouter(routes, options);
}
