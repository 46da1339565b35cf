import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouter } from './index.js';
import { makeRoute, matchedName } from './route-fixture.js';

// Each test lists the expected winner LAST in the input, so input order never explains the result.
describe('router priority (Kong traditional_compatible)', () => {
  it('a route with more attribute kinds wins: hosts + methods over hosts', () => {
    const router = compileRouter([
      makeRoute({ name: 'hosts', hosts: ['example.com'] }),
      makeRoute({ name: 'hosts+methods', hosts: ['example.com'], methods: ['POST'] }),
    ]);
    assert.equal(matchedName(router, { method: 'POST' }), 'hosts+methods');
    assert.equal(matchedName(router, { method: 'GET' }), 'hosts');
  });

  it('match weight beats path length: methods + short path over a longer path alone', () => {
    const router = compileRouter([
      makeRoute({ name: 'long', paths: ['/api/v1/users'] }),
      makeRoute({ name: 'weighted', paths: ['/'], methods: ['GET'] }),
    ]);
    assert.equal(matchedName(router, { path: '/api/v1/users' }), 'weighted');
  });

  it('match weight beats regex_priority', () => {
    const router = compileRouter([
      makeRoute({ name: 'regex', paths: ['~/api'], regex_priority: 100 }),
      makeRoute({ name: 'weighted', paths: ['/api'], headers: { x: ['1'] } }),
    ]);
    assert.equal(matchedName(router, { path: '/api', headers: { x: '1' } }), 'weighted');
  });

  it('at equal weight, plain hosts beat wildcard hosts', () => {
    const router = compileRouter([
      makeRoute({ name: 'wild', hosts: ['*.example.com'], paths: ['/long/path'] }),
      makeRoute({ name: 'plain', hosts: ['api.example.com'], paths: ['/'] }),
    ]);
    assert.equal(matchedName(router, { host: 'api.example.com', path: '/long/path' }), 'plain');
  });

  it('a route mixing plain and wildcard hosts ranks as a wildcard route', () => {
    const router = compileRouter([
      makeRoute({ name: 'mixed', hosts: ['api.example.com', '*.example.com'], paths: ['/long/path'] }),
      makeRoute({ name: 'plain', hosts: ['api.example.com'], paths: ['/'] }),
    ]);
    assert.equal(matchedName(router, { host: 'api.example.com', path: '/long/path' }), 'plain');
  });

  it('at equal weight, a plain-host route beats a route without hosts (Kong sets the bit only when hosts exist)', () => {
    const router = compileRouter([
      makeRoute({ name: 'path', paths: ['/api'] }),
      makeRoute({ name: 'host', hosts: ['example.com'] }),
    ]);
    assert.equal(matchedName(router, { path: '/api' }), 'host');
  });

  it('at equal weight and host kind, more headers win', () => {
    const router = compileRouter([
      makeRoute({ name: 'one', headers: { a: ['1'] }, paths: ['/longer/path'] }),
      makeRoute({ name: 'two', headers: { a: ['1'], b: ['2'] }, paths: ['/'] }),
    ]);
    assert.equal(matchedName(router, { path: '/longer/path', headers: { a: '1', b: '2' } }), 'two');
  });

  it('regex paths are tried before prefix paths of any length', () => {
    const router = compileRouter([
      makeRoute({ name: 'prefix', paths: ['/api/account'] }),
      makeRoute({ name: 'regex', paths: ['~/api/.*'] }),
    ]);
    assert.equal(matchedName(router, { path: '/api/account/all' }), 'regex');
  });

  it('among regex paths, higher regex_priority wins', () => {
    const router = compileRouter([
      makeRoute({ name: 'low', paths: ['~/status/\\d+'], regex_priority: 0 }),
      makeRoute({ name: 'high', paths: ['~/status/\\d+/x'], regex_priority: 6 }),
    ]);
    assert.equal(matchedName(router, { path: '/status/1/x' }), 'high');
  });

  it('negative regex_priority ranks below the default', () => {
    const router = compileRouter([
      makeRoute({ name: 'negative', paths: ['~/s'], regex_priority: -1 }),
      makeRoute({ name: 'default', paths: ['~/s'] }),
    ]);
    assert.equal(matchedName(router, { path: '/s' }), 'default');
  });

  it('regex_priority does not reorder prefix paths', () => {
    const router = compileRouter([
      makeRoute({ name: 'short', paths: ['/'], regex_priority: 10 }),
      makeRoute({ name: 'long', paths: ['/v1'] }),
    ]);
    assert.equal(matchedName(router, { path: '/v1/x' }), 'long');
  });

  it('the Kong docs example evaluates /version/\\d+/status/\\d+, /status/\\d+, /version/any/, then /version', () => {
    const router = compileRouter([
      makeRoute({ name: 'status', paths: ['~/status/\\d+'], regex_priority: 0 }),
      makeRoute({ name: 'version-status', paths: ['~/version/\\d+/status/\\d+'], regex_priority: 6 }),
      makeRoute({ name: 'version', paths: ['/version'] }),
      makeRoute({ name: 'version-any', paths: ['~/version/any/'] }),
    ]);
    assert.equal(matchedName(router, { path: '/version/1/status/2' }), 'version-status');
    assert.equal(matchedName(router, { path: '/status/2' }), 'status');
    assert.equal(matchedName(router, { path: '/version/any/x' }), 'version-any');
    assert.equal(matchedName(router, { path: '/version/none' }), 'version');
  });

  it('among prefix paths, the longest wins', () => {
    const router = compileRouter([
      makeRoute({ name: 'service', paths: ['/service'] }),
      makeRoute({ name: 'resource', paths: ['/service/resource'] }),
    ]);
    assert.equal(matchedName(router, { path: '/service/resource/1' }), 'resource');
    assert.equal(matchedName(router, { path: '/service/other' }), 'service');
  });

  it('a route with paths of several lengths competes with each length separately', () => {
    // Kong splits it (split_routes_and_services_by_path): its short path must not borrow the long one's rank.
    const router = compileRouter([
      makeRoute({ name: 'split', paths: ['/a', '/cccccc'] }),
      makeRoute({ name: 'middle', paths: ['/a/bb'] }),
    ]);
    assert.equal(matchedName(router, { path: '/a/bb/123' }), 'middle');
    assert.equal(matchedName(router, { path: '/cccccc/1' }), 'split');
  });

  it('a route with regex and prefix paths ranks its regexes as regex and its prefixes as prefix', () => {
    const router = compileRouter([
      makeRoute({ name: 'both', paths: ['~/r/\\d+', '/p'] }),
      makeRoute({ name: 'longer-prefix', paths: ['/p/longer'] }),
    ]);
    assert.equal(matchedName(router, { path: '/p/longer' }), 'longer-prefix');
    assert.equal(matchedName(router, { path: '/r/1' }), 'both');
  });

  it('when everything else is equal, the lower order (earlier in the file) wins', () => {
    const router = compileRouter([
      makeRoute({ name: 'second', paths: ['/same'], order: 2 }),
      makeRoute({ name: 'first', paths: ['/same'], order: 1 }),
    ]);
    assert.equal(matchedName(router, { path: '/same' }), 'first');
  });

  it('a higher-priority candidate from another index bucket still wins (wildcard host vs exact host)', () => {
    const router = compileRouter([
      makeRoute({ name: 'exact', hosts: ['a.example.com'] }),
      makeRoute({ name: 'wild+path', hosts: ['*.example.com'], paths: ['/x'] }),
    ]);
    assert.equal(matchedName(router, { host: 'a.example.com', path: '/x' }), 'wild+path');
    assert.equal(matchedName(router, { host: 'a.example.com', path: '/y' }), 'exact');
  });
});
