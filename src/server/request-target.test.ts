import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestTarget } from './request-target.js';

describe('parseRequestTarget', () => {
  it('splits path and query and strips the port from Host', () => {
    assert.deepEqual(parseRequestTarget('/a/b?x=1&y', 'Example.COM:8443', 8000), {
      host: 'example.com',
      port: 8443,
      authority: 'Example.COM:8443',
      path: '/a/b',
      query: 'x=1&y',
    });
  });

  it("uses the listener's port when Host has none", () => {
    assert.equal(parseRequestTarget('/', 'example.com', 8000).port, 8000);
  });

  it('lets an absolute-form target override Host', () => {
    const t = parseRequestTarget('http://other.test:81/p?q', 'example.com', 8000);
    assert.deepEqual(t, { host: 'other.test', port: 81, authority: 'other.test:81', path: '/p', query: 'q' });
  });

  it('reads bracketed IPv6 hosts', () => {
    assert.deepEqual(parseRequestTarget('/', '[::1]:9000', 8000), { host: '::1', port: 9000, authority: '[::1]:9000', path: '/', query: '' });
  });

  it('gives an empty host for HTTP/1.0 requests without Host', () => {
    assert.equal(parseRequestTarget('/', undefined, 8000).host, '');
  });
});
