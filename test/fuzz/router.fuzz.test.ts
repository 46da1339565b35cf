// Property-based tests of the router (src/router) and the PCRE translation (src/config/pcre.ts).
// Arbitrary route sets (exact and wildcard hosts, hosts with ports, prefix and regex paths, methods,
// headers, SNIs, protocols) and arbitrary requests (percent-encodings, dot segments, ports):
// - matching never throws, and gives the same answer twice (the match cache);
// - a match satisfies the route's own conditions, checked here independently of the router;
// - the answer is the one a plain scan of every route entry in priority order gives (the router's
//   host buckets, prefix maps and lazy merge change nothing but speed);
// - a route whose hosts the request cannot have changes nothing for it.
// And compilePcre never throws, and what it accepts the router compiles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkRoutePath } from '../../src/config/checks/route.js';
import { compilePcre } from '../../src/config/pcre.js';
import type { Route, RouteProtocol } from '../../src/config/types.js';
import { compareEntries, compileRoute, type RouteEntry } from '../../src/router/compile-route.js';
import { compileRouter, normalizePath, RouteCompileError, type RouteMatch, type RouterRequest } from '../../src/router/index.js';
import { makeRoute as baseRoute } from '../../src/router/route-fixture.js';

const RUNS = 500;

// ---------------------------------------------------------------------------------------------
// Routes, as a validated Config holds them (hosts and header names lower-cased, paths valid).

const prefixPath = fc.constantFrom('/', '/a', '/a/b', '/api', '/api/v1', '/api/v1/', '/a%2Fb', '/files/', '/x.y', '/caf\u00e9', '/A', '/items');
/** Regex paths from pieces that always compile; checked with checkRoutePath anyway. */
const regexAtom = fc.constantFrom('a', 'api', 'items', 'v1', '\\d+', '[^/]+', '[a-z]*', '.*', '(a|b)', '[0-9]{1,3}', '(?<id>[a-z]+)', '(?P<v>\\d)', 'x?', '\\.', '%2F', '\\w+');
const regexPath = fc
  .tuple(fc.constantFrom('', '(?i)'), fc.array(regexAtom, { minLength: 1, maxLength: 4 }), fc.constantFrom('', '$', '/?$', '\\z', '|/b'))
  .map(([flag, atoms, end]) => `~${flag}/${atoms.join('/')}${end}`)
  .filter((p) => checkRoutePath(p) === null);
const hostPool = ['example.com', 'a.example.com', '*.example.com', 'example.*', 'api.example.com:8443', 'b.example.org', 'localhost', '10.0.0.1', '*.a.example.com', 'example.com:80', 'api.*', '[::1]'];
const methodPool = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'];
const headerRules = fc.constantFrom<Record<string, string[]>>(
  { 'x-version': ['1', '~*^v2$'] },
  { 'x-tenant': ['a'] },
  { x_under: ['Y'] },
  { 'x-version': ['~*\\d'], 'x-tenant': ['a', 'b'] },
);

const routeFields = fc
  .record({
    protocols: fc.constantFrom<RouteProtocol[]>(['http', 'https'], ['https'], ['http']),
    methods: fc.option(fc.subarray(methodPool, { minLength: 1 }), { nil: null }),
    hosts: fc.option(fc.subarray(hostPool, { minLength: 1 }), { nil: null }),
    paths: fc.option(fc.uniqueArray(fc.oneof(prefixPath, regexPath), { minLength: 1, maxLength: 3 }), { nil: null }),
    headers: fc.option(headerRules, { nil: null }),
    snis: fc.option(fc.subarray(['example.com', '*.example.com', 'a.example.com'], { minLength: 1 }), { nil: null }),
    regex_priority: fc.integer({ min: -2, max: 2 }),
  })
  // As the config requires: some attribute to match on, SNIs only where https is possible.
  .filter((r) => r.methods !== null || r.hosts !== null || r.paths !== null || r.headers !== null)
  .map((r) => (r.protocols.includes('https') ? r : { ...r, snis: null }));

/** The shared route fixture, with the id and order each property needs to be deterministic. */
function makeRoute(fields: Partial<Route>, order: number, id = `route-${order}`): Route {
  return baseRoute({ id, name: id, order, ...fields });
}

const routes = fc.array(routeFields, { minLength: 1, maxLength: 8 }).map((list) => list.map((fields, i) => makeRoute(fields, i)));

// ---------------------------------------------------------------------------------------------
// Requests: hosts that hit exact, wildcard and port rules; paths with encodings and dot segments.

const hostName = fc.constantFrom('example.com', 'a.example.com', 'b.a.example.com', 'api.example.com', 'example.org', 'b.example.org', 'localhost', '10.0.0.1', 'other.test', 'example.', '[::1]', 'api.');
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'api', 'v1', 'items', '123', 'files', 'x.y', 'A', 'admin', 'caf\u00e9', 'users', 'ab', '') },
  { weight: 2, arbitrary: fc.constantFrom('..', '.', '%2E%2E', '%2e', '.%2E', '%2F', '%2f', '%41', '%61pi', '%C3%A9', '%c3', '%zz', '%', '%25', '%2', 'a%20b', '%7E') },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);
const requestPath = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.array(segment, { maxLength: 5 }), fc.boolean()).map(([segs, slash]) => `/${segs.join('/')}${slash ? '/' : ''}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '/', '//', '/..', '/../a', 'a', '*', '/a/../../api') },
);
const requestHeaders = fc.record(
  { 'x-version': fc.constantFrom('1', 'V2', 'v2', 'v3', ''), 'x-tenant': fc.constantFrom('a', 'A', 'c'), 'x-under': fc.constantFrom('y', 'Y', 'n'), 'x-other': fc.constant('z') },
  { requiredKeys: [] },
);
const request: fc.Arbitrary<RouterRequest> = fc
  .record({
    protocol: fc.constantFrom('http' as const, 'https' as const),
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'get', 'PATCH'),
    host: hostName,
    port: fc.option(fc.constantFrom(80, 443, 8443, 8000), { nil: undefined }),
    path: requestPath,
    headers: requestHeaders,
    sni: fc.option(fc.constantFrom('example.com', 'a.example.com', 'x.example.com', 'Example.COM', 'example.com.'), { nil: null }),
  })
  .map((r) => {
    const out: RouterRequest = { protocol: r.protocol, method: r.method, host: r.host, path: r.path, headers: r.headers, sni: r.protocol === 'https' ? r.sni : null };
    if (r.port !== undefined) out.port = r.port;
    return out;
  });

/** Requests built to fit one of the routes (most random requests fit none), then varied a little. */
function requestsFor(list: readonly Route[]): fc.Arbitrary<RouterRequest> {
  return fc
    .record({
      route: fc.constantFrom(...list),
      base: request,
      pick: fc.nat(),
      suffix: fc.array(segment, { maxLength: 3 }),
      sub: fc.constantFrom('x', 'b.a', 'api'),
      tld: fc.constantFrom('com', 'org', 'example.com'),
      keepProtocol: fc.boolean(),
    })
    .map(({ route, base, pick, suffix, sub, tld, keepProtocol }) => {
      const req: RouterRequest = { ...base, headers: { ...base.headers } };
      const choose = <T>(items: readonly T[]): T => items[pick % items.length]!;
      if (route.methods !== null) req.method = choose(route.methods);
      if (route.hosts !== null) {
        const host = choose(route.hosts);
        const withPort = /^([^:]*):(\d+)$/.exec(host);
        const name = withPort?.[1] ?? host;
        if (withPort?.[2] !== undefined) req.port = Number(withPort[2]);
        req.host = name.startsWith('*') ? `${sub}${name.slice(1)}` : name.endsWith('*') ? `${name.slice(0, -1)}${tld}` : name;
      }
      const prefixes = (route.paths ?? []).filter((p) => !p.startsWith('~'));
      if (prefixes.length > 0) req.path = `${choose(prefixes)}${suffix.join('/')}`;
      for (const [name, values] of Object.entries(route.headers ?? {})) {
        const plain = values.filter((v) => !v.startsWith('~*'));
        if (plain.length > 0) req.headers[name.replaceAll('_', '-')] = choose(plain);
      }
      if (!keepProtocol) req.protocol = route.protocols.includes('http') ? 'http' : 'https';
      if (req.protocol === 'https' && route.snis !== null) {
        const sni = choose(route.snis);
        req.sni = sni.startsWith('*') ? `${sub}${sni.slice(1)}` : sni;
      }
      return req;
    });
}

/** A route set and requests for it: random ones and ones built to fit its routes. */
const routesAndRequests = routes.chain((list) => fc.tuple(fc.constant(list), fc.array(fc.oneof(request, requestsFor(list)), { minLength: 1, maxLength: 8 })));

// ---------------------------------------------------------------------------------------------
// An independent reading of Kong's conditions, and a plain scan in priority order.

function hostMatches(pattern: string, host: string, port: number | undefined): boolean {
  const withPort = /^([^:]*):(\d+)$/.exec(pattern);
  const name = withPort?.[1] ?? pattern;
  if (withPort?.[2] !== undefined && Number(withPort[2]) !== port) return false;
  if (name.startsWith('*')) return host.endsWith(name.slice(1));
  if (name.endsWith('*')) return host.startsWith(name.slice(0, -1));
  return host === name;
}

function sniMatches(pattern: string, sni: string): boolean {
  const name = sni.toLowerCase();
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return name.endsWith(pattern.slice(1));
  return name === pattern;
}

function pcre(pattern: string, flags: string): RegExp {
  const compiled = compilePcre(pattern, flags);
  if (!compiled.ok) throw new Error(`test generated an invalid regex ${pattern}`);
  return compiled.regex;
}

/** Every condition but the path and the protocol, read from the Route itself. */
function otherConditionsHold(route: Route, req: RouterRequest): boolean {
  if (route.methods !== null && !route.methods.includes(req.method)) return false;
  if (route.hosts !== null && !route.hosts.some((h) => hostMatches(h, req.host, req.port))) return false;
  if (route.snis !== null && req.protocol === 'https' && (req.sni === null || !route.snis.some((s) => sniMatches(s, req.sni!)))) return false;
  for (const [name, values] of Object.entries(route.headers ?? {})) {
    const value = req.headers[name.replaceAll('_', '-')];
    if (typeof value !== 'string') return false;
    const ok = values.some((v) => (v.startsWith('~*') ? pcre(v.slice(2), 'i').test(value) : v.toLowerCase() === value.toLowerCase()));
    if (!ok) return false;
  }
  return true;
}

/** The text a route path matches at the start of `path`, or null. */
function pathMatch(routePath: string, path: string): string | null {
  if (!routePath.startsWith('~')) return path.startsWith(routePath) ? routePath : null;
  const regex = pcre(routePath.slice(1), '');
  return new RegExp(`^(?:${regex.source})`, regex.flags).exec(path)?.[0] ?? null;
}

type Outcome = { kind: string; route: string; matchedPath?: string } | null;

function describeMatch(found: RouteMatch | null): Outcome {
  if (found === null) return null;
  return found.kind === 'route' ? { kind: found.kind, route: found.route.id, matchedPath: found.matchedPath } : { kind: found.kind, route: found.route.id };
}

/** What the router must answer: the first entry, in priority order, whose conditions all hold. */
function scan(entries: readonly RouteEntry[], req: RouterRequest): Outcome {
  const path = normalizePath(req.path);
  for (const entry of entries) {
    if (!otherConditionsHold(entry.route, req)) continue;
    let matched: string | null = '';
    if (entry.prefixes !== null) matched = entry.prefixes.find((p) => path.startsWith(p)) ?? null;
    else if (entry.regexes !== null) {
      matched = null;
      for (const regex of entry.regexes) {
        const m = regex.exec(path);
        if (m !== null) {
          matched = m[0];
          break;
        }
      }
    }
    if (matched === null) continue;
    const httpsOnly = entry.route.protocols.includes('https') && !entry.route.protocols.includes('http');
    if (req.protocol !== 'https' && httpsOnly) return { kind: 'protocol-mismatch', route: entry.route.id };
    return { kind: 'route', route: entry.route.id, matchedPath: matched };
  }
  return null;
}

function sortedEntries(list: readonly Route[]): RouteEntry[] {
  return list.flatMap(compileRoute).sort(compareEntries);
}

describe('fuzz: router', () => {
  it('never throws, answers the same twice, and a match satisfies the route\'s own conditions', () => {
    fc.assert(
      fc.property(routesAndRequests, ([list, requests]) => {
        const router = compileRouter(list);
        for (const req of requests) {
          const found = router.match(req);
          assert.deepEqual(describeMatch(router.match(req)), describeMatch(found), 'the same request, the same answer');
          if (found === null) continue;
          const route = found.route;
          assert.ok(otherConditionsHold(route, req), `route ${route.id} matched without its methods/hosts/SNIs/headers`);
          const path = normalizePath(req.path);
          if (found.kind === 'route') {
            assert.ok(!(req.protocol === 'http' && !route.protocols.includes('http')), 'an https-only route served over http');
            if (route.paths === null) assert.equal(found.matchedPath, '');
            else {
              assert.ok(path.startsWith(found.matchedPath), `matched path ${found.matchedPath} is not a prefix of ${path}`);
              assert.ok(route.paths.some((p) => pathMatch(p, path) === found.matchedPath), `no path of ${route.id} matches ${path} as ${found.matchedPath}`);
            }
          } else {
            assert.ok(req.protocol === 'http' && route.protocols.includes('https') && !route.protocols.includes('http'));
            assert.ok(route.paths === null || route.paths.some((p) => pathMatch(p, path) !== null));
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('answers what a plain scan of the entries in priority order answers', () => {
    fc.assert(
      fc.property(routesAndRequests, fc.constantFrom(0, 5000), ([list, requests], cacheSize) => {
        const router = compileRouter(list, { cacheSize });
        const entries = sortedEntries(list);
        for (const req of requests) assert.deepEqual(describeMatch(router.match(req)), scan(entries, req), JSON.stringify(req));
      }),
      { numRuns: RUNS },
    );
  });

  it('a route for hosts the request cannot have changes nothing for it', () => {
    const unrelatedHosts = fc.subarray(['unrelated.invalid', '*.unrelated.invalid', 'unrelated.*', 'unrelated.invalid:8443', 'never.test'], { minLength: 1 });
    fc.assert(
      fc.property(routesAndRequests, routeFields, unrelatedHosts, fc.integer({ min: -1, max: 20 }), ([list, requests], fields, hosts, order) => {
        const before = compileRouter(list);
        const after = compileRouter([...list, makeRoute({ ...fields, hosts }, order, 'unrelated')]);
        for (const req of requests) assert.deepEqual(describeMatch(after.match(req)), describeMatch(before.match(req)), JSON.stringify(req));
      }),
      { numRuns: RUNS },
    );
  });

  it('normalises any path without throwing, idempotently, to a path without dot segments', () => {
    fc.assert(
      fc.property(fc.oneof(requestPath, fc.string(), fc.string({ unit: 'binary' })), (path) => {
        const once = normalizePath(path);
        assert.equal(normalizePath(once), once);
        if (once.startsWith('/')) assert.ok(!/\/\.\.?(\/|$)/.test(once) && !once.includes('//'), `${JSON.stringify(path)} → ${JSON.stringify(once)}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('compiles any route set whose paths pass the config check, and refuses others only with RouteCompileError', () => {
    const anyPath = fc.oneof(prefixPath, regexPath, fc.string({ maxLength: 8 }).map((s) => `/${s}`), fc.string({ maxLength: 8 }).map((s) => `~/${s}`), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(anyPath, { minLength: 1, maxLength: 4 }), fc.array(fc.string({ maxLength: 6 }).map((s) => `~*${s}`), { maxLength: 2 }), (paths, headerValues) => {
        const route = makeRoute({ paths, headers: headerValues.length > 0 ? { 'x-h': headerValues } : null }, 0);
        const valid = paths.every((p) => checkRoutePath(p) === null) && headerValues.every((v) => compilePcre(v.slice(2), 'i').ok);
        try {
          compileRouter([route]);
          assert.ok(valid, `compiled a route the config refuses: ${JSON.stringify(paths)} ${JSON.stringify(headerValues)}`);
        } catch (error) {
          if (!(error instanceof RouteCompileError)) throw error;
          assert.ok(!valid, `refused a route the config accepts: ${error.message}`);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('fuzz: compilePcre', () => {
  const piece = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        '(', ')', '(?', '(?:', '(?P<n>', '(?P=n)', "(?'n'", '(?<n>', '\\k<n>', '(?#c)', '(?#', '\\Q', '\\E', '\\A', '\\z', '\\Z', '\\x{', '}', '\\x{41}',
        '\\x{110000}', '\\x{zz}', '\\p{L}', '\\P{Lu}', '\\p', '[', ']', '[^', '[]', '[^]', '{', '{2}', '{2,}', '{,3}', '+', '*', '?', '++', '*+', '?+', '{2}+',
        '(?>', '(?|', '(?R)', '(?1)', '(?-1)', '(?&n)', '(?P>n)', '(?i)', '(?im)', '(?x)', '(?s)', '(?-i)', '\\', '|', '^', '$', '.', 'a', '\\d', '\\1', '\\0',
        '(?<=', '(?<!', '(?=', '(?!', '-', '\\-', '/', '\\/', '\\c', '\\u{41}', '\\u0041', '\\b', '\\B', '\\G', '\\K', '\\R', '\\h', '\\X', '\\N', '[[:alpha:]]', '[a-', 'z]',
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
  );
  const pattern = fc.oneof(fc.array(piece, { maxLength: 10 }).map((p) => p.join('')), fc.string(), fc.string({ unit: 'binary' }));

  it('never throws: a RegExp, or a refusal with a message', () => {
    fc.assert(
      fc.property(pattern, fc.constantFrom('', 'i'), (p, flags) => {
        const result = compilePcre(p, flags);
        if (result.ok) {
          assert.ok(result.regex instanceof RegExp);
        } else {
          assert.equal(typeof result.message, 'string');
          assert.ok(result.message.length > 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('case-insensitive (~* header) regexes match exactly what the pattern with the i flag matches', () => {
    // compilePcre may rewrite a pattern (e.g. to run it on V8's linear-time engine); the meaning must stay.
    const subject = fc.string({
      unit: fc.oneof(fc.constantFrom('a', 'A', 'b', 'B', 'z', 'Z', 'k', 'K', 's', 'S', '0', '1', '/', '-', '_', ' ', '\n', '\u017f', '\u212a', '\u00e9', '\u00c9', '['), fc.string({ minLength: 1, maxLength: 1 })),
      maxLength: 8,
    });
    fc.assert(
      fc.property(pattern, fc.array(subject, { minLength: 1, maxLength: 5 }), (p, subjects) => {
        const plain = compilePcre(p);
        const folded = compilePcre(p, 'i');
        if (!plain.ok || !folded.ok) return;
        // The reference: the translated source, run by the ordinary engine with `i`.
        const reference = new RegExp(plain.regex.source, [...new Set(plain.regex.flags.replace('l', '') + 'i')].join(''));
        for (const s of subjects) {
          assert.deepEqual(folded.regex.exec(s)?.[0], reference.exec(s)?.[0], `/${p}/i on ${JSON.stringify(s)}: ${folded.regex} vs ${reference}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('what it accepts as a route regex path, the router compiles and runs on any path', () => {
    fc.assert(
      fc.property(pattern, fc.array(requestPath, { maxLength: 4 }), (p, paths) => {
        const routePath = `~/${p}`;
        if (checkRoutePath(routePath) !== null) return;
        const router = compileRouter([makeRoute({ paths: [routePath] }, 0)]);
        for (const path of paths) router.match({ protocol: 'http', method: 'GET', host: 'example.com', path, headers: {}, sni: null });
      }),
      { numRuns: 1000 },
    );
  });
});
