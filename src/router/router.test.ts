import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouter, RouteCompileError } from './index.js';
import { makeRequest, makeRoute, matchedName } from './route-fixture.js';

describe('router attributes', () => {
  it('a route with paths matches a request whose path starts with one of them', () => {
    const router = compileRouter([makeRoute({ name: 'r', paths: ['/foo', '/bar'] })]);
    assert.equal(matchedName(router, { path: '/bar/baz' }), 'r');
    assert.equal(matchedName(router, { path: '/baz' }), null);
  });

  it('prefix paths are plain string prefixes, not segments, as Kong: /foo matches /foobar', () => {
    const router = compileRouter([makeRoute({ name: 'r', paths: ['/foo'] })]);
    assert.equal(matchedName(router, { path: '/foobar' }), 'r');
    assert.equal(matchedName(router, { path: '/fo' }), null);
  });

  it('matchedPath is the prefix for prefix paths and empty for routes without paths', () => {
    const router = compileRouter([makeRoute({ paths: ['/foo'] }), makeRoute({ hosts: ['other.com'] })]);
    assert.deepEqual(router.match(makeRequest({ path: '/foo/x' })), { kind: 'route', route: router.match(makeRequest({ path: '/foo' }))?.route, matchedPath: '/foo' });
    const hostOnly = router.match(makeRequest({ host: 'other.com', path: '/anything' }));
    assert.equal(hostOnly?.kind === 'route' ? hostOnly.matchedPath : undefined, '');
  });

  it('regex paths are anchored at the start of the path and report the matched text', () => {
    const router = compileRouter([makeRoute({ name: 'r', paths: ['~/users/\\d+'] })]);
    const found = router.match(makeRequest({ path: '/users/42/profile' }));
    assert.equal(found?.kind === 'route' ? found.matchedPath : undefined, '/users/42');
    assert.equal(matchedName(router, { path: '/api/users/42' }), null);
  });

  it('every branch of a top-level regex alternation is anchored', () => {
    const router = compileRouter([makeRoute({ name: 'r', paths: ['~/a|/b'] })]);
    assert.equal(matchedName(router, { path: '/b/x' }), 'r');
    assert.equal(matchedName(router, { path: '/x/b' }), null);
  });

  it('regex paths accept PCRE spellings through the config translation: (?P<name>…), \\z', () => {
    const router = compileRouter([makeRoute({ name: 'named', paths: ['~/v(?P<version>\\d+)/'] }), makeRoute({ name: 'end', paths: ['~/files/\\w+\\z'] })]);
    assert.equal(matchedName(router, { path: '/v2/x' }), 'named');
    assert.equal(matchedName(router, { path: '/files/abc' }), 'end');
    assert.equal(matchedName(router, { path: '/files/abc/x' }), null);
  });

  it('methods must include the request method', () => {
    const router = compileRouter([makeRoute({ name: 'r', methods: ['GET', 'HEAD'] })]);
    assert.equal(matchedName(router, { method: 'HEAD' }), 'r');
    assert.equal(matchedName(router, { method: 'POST' }), null);
  });

  it('hosts must include the request host', () => {
    const router = compileRouter([makeRoute({ name: 'r', hosts: ['a.com', 'b.com'] })]);
    assert.equal(matchedName(router, { host: 'b.com' }), 'r');
    assert.equal(matchedName(router, { host: 'c.com' }), null);
  });

  it('a leading wildcard host matches any deeper subdomain but not the bare domain', () => {
    const router = compileRouter([makeRoute({ name: 'r', hosts: ['*.example.com'] })]);
    assert.equal(matchedName(router, { host: 'a.example.com' }), 'r');
    assert.equal(matchedName(router, { host: 'x.y.example.com' }), 'r');
    assert.equal(matchedName(router, { host: 'example.com' }), null);
    assert.equal(matchedName(router, { host: 'badexample.com' }), null);
  });

  it('a trailing wildcard host matches any top-level part', () => {
    const router = compileRouter([makeRoute({ name: 'r', hosts: ['example.*'] })]);
    assert.equal(matchedName(router, { host: 'example.org' }), 'r');
    assert.equal(matchedName(router, { host: 'example.co.uk' }), 'r');
    assert.equal(matchedName(router, { host: 'myexample.org' }), null);
  });

  it('a host written with a port also needs that port', () => {
    const router = compileRouter([makeRoute({ name: 'r', hosts: ['example.com:8443'] })]);
    assert.equal(matchedName(router, { port: 8443 }), 'r');
    assert.equal(matchedName(router, { port: 8000 }), null);
    assert.equal(matchedName(router), null);
  });

  it('headers: every listed header must be present with one of its values, case-insensitively', () => {
    const router = compileRouter([makeRoute({ name: 'r', headers: { version: ['v1', 'V2'], region: ['north'] } })]);
    assert.equal(matchedName(router, { headers: { version: 'v2', region: 'North' } }), 'r');
    assert.equal(matchedName(router, { headers: { version: 'v3', region: 'north' } }), null);
    assert.equal(matchedName(router, { headers: { version: 'v1' } }), null);
  });

  it('a header value starting with ~* is a case-insensitive regex searched anywhere in the value', () => {
    const router = compileRouter([makeRoute({ name: 'r', headers: { 'x-client': ['~*mobile-\\d+'] } })]);
    assert.equal(matchedName(router, { headers: { 'x-client': 'App MOBILE-12' } }), 'r');
    assert.equal(matchedName(router, { headers: { 'x-client': 'desktop' } }), null);
  });

  it('a header sent several times matches when any of its values matches', () => {
    const router = compileRouter([makeRoute({ name: 'r', headers: { 'set-cookie': ['b=2'] } })]);
    assert.equal(matchedName(router, { headers: { 'set-cookie': ['a=1', 'b=2'] } }), 'r');
  });

  it('a route header named like an Object.prototype member needs a real request header', () => {
    const router = compileRouter([makeRoute({ name: 'r', headers: { constructor: ['x'] } })]);
    assert.equal(matchedName(router, { headers: {} }), null);
    assert.equal(matchedName(router, { headers: { constructor: 'x' } }), 'r');
  });

  it('a header name written with underscores matches the dashed request header, as nginx looks it up', () => {
    const router = compileRouter([makeRoute({ name: 'r', headers: { x_tenant: ['acme'] } })]);
    assert.equal(matchedName(router, { headers: { 'x-tenant': 'acme' } }), 'r');
  });

  it('snis constrain https requests, including wildcards', () => {
    const router = compileRouter([makeRoute({ name: 'r', snis: ['api.example.com', '*.internal.net'] })]);
    assert.equal(matchedName(router, { protocol: 'https', sni: 'api.example.com' }), 'r');
    assert.equal(matchedName(router, { protocol: 'https', sni: 'db.internal.net' }), 'r');
    assert.equal(matchedName(router, { protocol: 'https', sni: 'other.com' }), null);
    assert.equal(matchedName(router, { protocol: 'https', sni: null }), null);
  });

  it('snis are ignored for plain http requests, as Kong', () => {
    const router = compileRouter([makeRoute({ name: 'r', snis: ['api.example.com'] })]);
    assert.equal(matchedName(router, { protocol: 'http' }), 'r');
  });

  it('a route matches only when all of its attributes match', () => {
    const router = compileRouter([makeRoute({ name: 'r', hosts: ['a.com'], paths: ['/x'], methods: ['POST'], headers: { k: ['v'] } })]);
    const ok = { host: 'a.com', path: '/x', method: 'POST', headers: { k: 'v' } };
    assert.equal(matchedName(router, ok), 'r');
    assert.equal(matchedName(router, { ...ok, host: 'b.com' }), null);
    assert.equal(matchedName(router, { ...ok, path: '/y' }), null);
    assert.equal(matchedName(router, { ...ok, method: 'GET' }), null);
    assert.equal(matchedName(router, { ...ok, headers: {} }), null);
  });

  it('no route matching gives null, and an empty router matches nothing', () => {
    assert.equal(compileRouter([]).match(makeRequest()), null);
    assert.equal(compileRouter([]).size, 0);
    assert.equal(matchedName(compileRouter([makeRoute({ paths: ['/a'] })]), { path: '/b' }), null);
  });

  it('size counts routes, not path groups', () => {
    assert.equal(compileRouter([makeRoute({ paths: ['/a', '/bb', '~/c'] }), makeRoute()]).size, 2);
  });
});

describe('router protocols', () => {
  it('an https-only route requested over http is a protocol mismatch', () => {
    const router = compileRouter([makeRoute({ name: 'secure', protocols: ['https'], paths: ['/s'] })]);
    assert.equal(matchedName(router, { path: '/s' }), 'mismatch:secure');
    assert.equal(matchedName(router, { path: '/s', protocol: 'https' }), 'secure');
  });

  it('the mismatch wins over a lower-priority route that would match, as Kong picks the route before checking the protocol', () => {
    const router = compileRouter([
      makeRoute({ name: 'secure', protocols: ['https'], paths: ['/api/admin'] }),
      makeRoute({ name: 'catch-all', paths: ['/'] }),
    ]);
    assert.equal(matchedName(router, { path: '/api/admin/users' }), 'mismatch:secure');
    assert.equal(matchedName(router, { path: '/other' }), 'catch-all');
  });

  it('a higher-priority route that fully matches wins over a protocol mismatch', () => {
    const router = compileRouter([
      makeRoute({ name: 'secure', protocols: ['https'], paths: ['/api'] }),
      makeRoute({ name: 'plain', protocols: ['http'], paths: ['/api/public'] }),
    ]);
    assert.equal(matchedName(router, { path: '/api/public/x' }), 'plain');
  });

  it('an http-only route is served over https, as Kong never checks that direction', () => {
    const router = compileRouter([makeRoute({ name: 'plain', protocols: ['http'] })]);
    assert.equal(matchedName(router, { protocol: 'https' }), 'plain');
  });
});

describe('router compile errors', () => {
  it('refuses a path Kong would refuse, naming the route and the field', () => {
    for (const path of ['foo', '/a//b', '/a/../b', '/fo%6F', '~^/x']) {
      assert.throws(() => compileRouter([makeRoute({ name: 'bad', paths: [path] })]), (error: unknown) => {
        assert.ok(error instanceof RouteCompileError);
        assert.equal(error.code, 'ERR_ROUTE_INVALID');
        assert.match(error.message, /^route bad: paths\[0\]: /);
        return true;
      });
    }
  });

  it('refuses an invalid regex in paths or headers', () => {
    assert.throws(() => compileRouter([makeRoute({ paths: ['~/(unclosed'] })]), RouteCompileError);
    assert.throws(() => compileRouter([makeRoute({ headers: { x: ['~*('] } })]), RouteCompileError);
  });

  it('refuses a negative cache size', () => {
    assert.throws(() => compileRouter([], { cacheSize: -1 }), TypeError);
  });
});
