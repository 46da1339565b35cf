import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Route } from '../config/types.js';
import { compileRouter, upstreamPath } from './index.js';
import { makeRequest, makeRoute } from './route-fixture.js';

/** Routes the request like the gateway does, then joins the upstream path. */
function upstream(servicePath: string | null, route: Route, requestPath: string): string {
  const found = compileRouter([route]).match(makeRequest({ path: requestPath }));
  assert.ok(found?.kind === 'route', `${requestPath} should match`);
  return upstreamPath({ servicePath, route, matchedPath: found.matchedPath, requestPath });
}

// developer.konghq.com /gateway/entities/route/ "path_handling" table (service path /s).
const table: Array<[routePath: string, stripPath: boolean, handling: 'v0' | 'v1', request: string, expected: string]> = [
  ['/fv0', false, 'v0', '/fv0/req', '/s/fv0/req'],
  ['/fv0', false, 'v0', '/fv0', '/s/fv0'],
  ['/fv1', false, 'v1', '/fv1/req', '/sfv1/req'],
  ['/fv1', false, 'v1', '/fv1', '/sfv1'],
  ['/tv0', true, 'v0', '/tv0/req', '/s/req'],
  ['/tv0', true, 'v0', '/tv0', '/s'],
  ['/tv1', true, 'v1', '/tv1/req', '/s/req'],
  ['/tv1', true, 'v1', '/tv1', '/s'],
  ['/fv0/', false, 'v0', '/fv0/req', '/s/fv0/req'],
  ['/fv0/', false, 'v0', '/fv0/', '/s/fv0/'], // the docs print /s/fv01/, a typo: Kong's code gives /s/fv0/
  ['/fv1/', false, 'v1', '/fv1/req', '/sfv1/req'],
  ['/fv1/', false, 'v1', '/fv1/', '/sfv1/'],
  ['/tv0/', true, 'v0', '/tv0/req', '/s/req'],
  ['/tv0/', true, 'v0', '/tv0/', '/s/'],
  ['/tv1/', true, 'v1', '/tv1/req', '/sreq'],
  ['/tv1/', true, 'v1', '/tv1/', '/s'],
];

describe('upstream path: the Kong documentation table (service path /s)', () => {
  for (const [routePath, strip, handling, request, expected] of table) {
    it(`${handling} strip_path=${strip} route ${routePath} request ${request} → ${expected}`, () => {
      const route = makeRoute({ paths: [routePath], strip_path: strip, path_handling: handling });
      assert.equal(upstream('/s', route, request), expected);
    });
  }
});

describe('upstream path: v0 without a service path', () => {
  it('strip_path removes the prefix and keeps the rest', () => {
    assert.equal(upstream(null, makeRoute({ paths: ['/foo'] }), '/foo/bar'), '/bar');
  });

  it('strip_path on the exact prefix gives /', () => {
    assert.equal(upstream(null, makeRoute({ paths: ['/foo'] }), '/foo'), '/');
  });

  it('without strip_path the request path goes through unchanged', () => {
    assert.equal(upstream(null, makeRoute({ paths: ['/foo'], strip_path: false }), '/foo/bar'), '/foo/bar');
  });

  it('a route without paths keeps the whole request path even with strip_path', () => {
    assert.equal(upstream(null, makeRoute({ hosts: ['example.com'] }), '/x/y'), '/x/y');
  });
});

describe('upstream path: v0 with a service path ending in a slash', () => {
  it('joins without a double slash', () => {
    assert.equal(upstream('/s/', makeRoute({ paths: ['/foo'] }), '/foo/bar'), '/s/bar');
  });

  it('drops the service trailing slash when the request has none', () => {
    assert.equal(upstream('/s/', makeRoute({ paths: ['/foo'] }), '/foo'), '/s');
  });

  it('keeps the trailing slash when the request has one', () => {
    assert.equal(upstream('/s/', makeRoute({ paths: ['/foo'] }), '/foo/'), '/s/');
  });

  it('without strip_path appends the request path after the service path', () => {
    assert.equal(upstream('/s/', makeRoute({ paths: ['/foo'], strip_path: false }), '/foo/bar'), '/s/foo/bar');
  });

  it('a route without paths appends the request path', () => {
    assert.equal(upstream('/s/', makeRoute({ hosts: ['example.com'] }), '/x'), '/s/x');
  });
});

describe('upstream path: v1 without a service path', () => {
  it('strip_path keeps the remainder after the prefix', () => {
    assert.equal(upstream(null, makeRoute({ paths: ['/foo'], path_handling: 'v1' }), '/foo/bar'), '/bar');
  });

  it('without strip_path the request path goes through unchanged', () => {
    assert.equal(upstream(null, makeRoute({ paths: ['/foo'], strip_path: false, path_handling: 'v1' }), '/foo/bar'), '/foo/bar');
  });
});

describe('upstream path: regex routes, normalisation and escaping', () => {
  it('strip_path removes the whole regex match (Kong docs example)', () => {
    const route = makeRoute({ paths: ['~/version/\\d+/service'] });
    assert.equal(upstream(null, route, '/version/1/service/path/to/resource'), '/path/to/resource');
  });

  it('a postfix made only of dots is dropped (sanitize_uri_postfix)', () => {
    assert.equal(upstream('/s', makeRoute({ paths: ['/foo'] }), '/foo..'), '/s');
  });

  it('the upstream receives the normalised path, never the traversal', () => {
    assert.equal(upstream('/s', makeRoute({ paths: ['/foo'] }), '/foo/x/../y'), '/s/y');
    assert.equal(upstream(null, makeRoute({ paths: ['/'], strip_path: false }), '/foo/%2e%2e/admin'), '/admin');
  });

  it('characters decoded for routing are escaped again for the upstream', () => {
    assert.equal(upstream('/s', makeRoute({ paths: ['/foo'] }), '/foo/a%20b%2Fc'), '/s/a%20b%2Fc');
  });
});
