import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouter } from './index.js';
import { makeRoute, matchedName } from './route-fixture.js';

describe('path traversal and routing', () => {
  const router = compileRouter([makeRoute({ name: 'anything', paths: ['/anything'] }), makeRoute({ name: 'admin', paths: ['/admin'] })]);

  it('/anything/../admin is routed as /admin, never to the /anything route', () => {
    assert.equal(matchedName(router, { path: '/anything/../admin' }), 'admin');
  });

  it('an encoded traversal is normalised the same way', () => {
    assert.equal(matchedName(router, { path: '/anything/%2e%2E/admin' }), 'admin');
    assert.equal(matchedName(router, { path: '/anything/%2e%2E/secret' }), null);
  });

  it('an encoded prefix still matches its route', () => {
    assert.equal(matchedName(router, { path: '/%61nything/x' }), 'anything');
  });

  it('duplicate slashes do not hide a route', () => {
    assert.equal(matchedName(router, { path: '//admin//users' }), 'admin');
  });

  it('regex paths see the normalised path', () => {
    const regex = compileRouter([makeRoute({ name: 'r', paths: ['~/files/[a-z]+$'] })]);
    assert.equal(matchedName(regex, { path: '/files/x/../abc' }), 'r');
  });
});
