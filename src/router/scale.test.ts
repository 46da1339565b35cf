import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../config/types.js';
import { compareEntries, compileRoute } from './compile-route.js';
import { compileRouter, type RouteMatch, type RouterRequest } from './index.js';
import { attributesMatch, regexMatch } from './match-entry.js';
import { normalizePath } from '../util/uri-path.js';
import { makeRequest, makeRoute } from './route-fixture.js';

/** The obvious linear router: every entry in priority order, first full match wins. */
function referenceMatch(routes: readonly Route[], request: RouterRequest): RouteMatch | null {
  const entries = routes.flatMap(compileRoute).sort(compareEntries);
  const path = normalizePath(request.path);
  for (const entry of entries) {
    if (!attributesMatch(entry, request)) continue;
    let matchedPath: string | null = '';
    if (entry.prefixes !== null) matchedPath = entry.prefixes.find((p) => path.startsWith(p)) ?? null;
    else if (entry.regexes !== null) matchedPath = regexMatch(entry.regexes, path);
    if (matchedPath === null) continue;
    if (request.protocol !== 'https' && entry.httpsOnly) return { kind: 'protocol-mismatch', route: entry.route };
    return { kind: 'route', route: entry.route, matchedPath };
  }
  return null;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('router at scale', () => {
  it('finds every one of 10,000 prefix routes', () => {
    const routes = Array.from({ length: 10_000 }, (_, i) => makeRoute({ name: `r${i}`, paths: [`/svc${i}/api`] }));
    const router = compileRouter(routes, { cacheSize: 0 });
    for (let i = 0; i < routes.length; i++) {
      const found = router.match(makeRequest({ path: `/svc${i}/api/items/1` }));
      assert.equal(found?.route, routes[i]);
    }
    assert.equal(router.match(makeRequest({ path: '/svc10000/api' })), null);
  });

  it('finds every one of 10,000 host routes, with nested prefixes inside each host', () => {
    const routes = Array.from({ length: 10_000 }, (_, i) =>
      makeRoute({ name: `h${i}`, hosts: [`tenant${i}.example.com`], paths: i % 2 === 0 ? ['/'] : ['/', '/deep/path'] }),
    );
    const router = compileRouter(routes, { cacheSize: 0 });
    for (let i = 0; i < routes.length; i++) {
      const found = router.match(makeRequest({ host: `tenant${i}.example.com`, path: '/deep/path/x' }));
      assert.equal(found?.route, routes[i]);
      assert.equal(found?.kind === 'route' ? found.matchedPath : null, i % 2 === 0 ? '/' : '/deep/path');
    }
  });

  it('agrees with a linear reference router on random configurations and requests', () => {
    const next = random(20240601);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const maybe = <T>(value: T): T | null => (next() < 0.5 ? value : null);
    const hostPool = ['a.com', 'b.com', 'x.a.com', 'y.x.a.com', 'a.org', '*.a.com', 'a.*', '*a.com'];
    const pathPool = ['/a', '/a/b', '/ab', '/a/b/c', '~/a/\\d+', '~/a|/b', '~/(a|b)/c$', '/b', '~/ab?'];
    const requestPaths = ['/', '/a', '/a/b', '/a/b/c', '/ab', '/a/12', '/b/c', '/a/c', '/b', '/x/../a/b', '/a%2Fb', '/%61b'];
    const outcomes = { route: 0, 'protocol-mismatch': 0, none: 0 };
    for (let round = 0; round < 20; round++) {
      const routes = Array.from({ length: 30 }, () =>
        makeRoute({
          protocols: pick([['http', 'https'], ['https'], ['http']] as const),
          methods: maybe([pick(['GET', 'POST'])]),
          hosts: maybe([pick(hostPool), pick(hostPool)]),
          paths: [pick(pathPool), pick(pathPool)],
          // Odd rounds have no header routes, so the match cache (size 8 below) is in play.
          headers: round % 2 === 0 && next() < 0.2 ? { 'x-v': [pick(['1', '2', '~*^v'])] } : null,
          snis: next() < 0.1 ? [pick(['a.com', '*.a.com'])] : null,
          regex_priority: pick([0, 0, 1, -1, 5]),
          order: Math.floor(next() * 1000),
        }),
      );
      const routers = [compileRouter(routes, { cacheSize: 0 }), compileRouter(routes, { cacheSize: 8 })];
      for (let i = 0; i < 300; i++) {
        const request = makeRequest({
          protocol: pick(['http', 'https'] as const),
          method: pick(['GET', 'POST']),
          host: pick(['a.com', 'b.com', 'x.a.com', 'y.x.a.com', 'a.org', 'ba.com', 'c.net']),
          path: next() < 0.2 ? '/zzz' : pick(requestPaths),
          headers: next() < 0.5 ? { 'x-v': pick(['1', '2', 'V3']) } : {},
          sni: maybe(pick(['a.com', 'z.a.com'])),
        });
        const expected = referenceMatch(routes, request);
        outcomes[expected?.kind ?? 'none'] += 1;
        for (const router of routers) assert.deepEqual(router.match(request), expected, JSON.stringify({ round, request }));
      }
    }
    // The comparison means something only if every kind of outcome occurred often.
    for (const count of Object.values(outcomes)) assert.ok(count > 300, JSON.stringify(outcomes));
  });
});
