import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/index.js';
import type { Upstream } from '../config/types.js';
import type { RequestContext } from '../pipeline/context.js';
import { cookieValue, hashValueOf, setHashCookie } from './hash-value.js';

const loaded = loadConfig(
  `_format_version: "3.0"
services: [{ name: s, host: u.internal, routes: [{ name: r, paths: ["~/items/(?<item>\\\\d+)$", "/plain"] }] }]
upstreams:
  - { name: header, hash_on: header, hash_on_header: X-User, hash_fallback: query_arg, hash_fallback_query_arg: user }
  - { name: consumer, hash_on: consumer, hash_fallback: ip }
  - { name: path, hash_on: path }
  - { name: capture, hash_on: uri_capture, hash_on_uri_capture: item, hash_fallback: path }
  - { name: cookie, hash_on: cookie, hash_on_cookie: sticky }
`,
  { env: {}, plugins: new Map() },
);
assert.ok(loaded.ok);
const config = loaded.config;
const upstream = (name: string): Upstream => config.upstreams.find((u) => u.name === name)!;

function ctx(request: { path?: string; query?: string; headers?: Record<string, string> }, identity: RequestContext['identity'] = null): RequestContext {
  return {
    route: config.routes[0]!,
    identity,
    request: { path: request.path ?? '/plain', query: request.query ?? '', headers: request.headers ?? {} },
  } as unknown as RequestContext;
}

describe("the value consistent hashing hashes (Kong's get_value_to_hash)", () => {
  it('takes hash_on, else hash_fallback', () => {
    assert.equal(hashValueOf(upstream('header'), ctx({ headers: { 'x-user': 'alice' } }), '10.0.0.1').value, 'alice');
    assert.equal(hashValueOf(upstream('header'), ctx({ query: 'user=bob&user=carol' }), '10.0.0.1').value, 'bob,carol');
    assert.equal(hashValueOf(upstream('header'), ctx({ headers: { 'x-user': ' ' } }), '10.0.0.1').value, null, 'a blank header counts as absent, as does a missing argument');
  });

  it('hashes the consumer, else the credential, else the fallback', () => {
    const consumer = { id: 'c-1', username: 'u', custom_id: null, tags: [] };
    assert.equal(hashValueOf(upstream('consumer'), ctx({}, { consumer, credentialId: 'cred', groups: null, anonymous: false }), '10.0.0.1').value, 'c-1');
    assert.equal(hashValueOf(upstream('consumer'), ctx({}, { consumer: null, credentialId: 'cred', groups: null, anonymous: false }), '10.0.0.1').value, 'cred');
    assert.equal(hashValueOf(upstream('consumer'), ctx({}), '10.0.0.9').value, '10.0.0.9');
  });

  it("hashes the path, or a named capture of the route's regex path", () => {
    assert.equal(hashValueOf(upstream('path'), ctx({ path: '/plain/x' }), '').value, '/plain/x');
    assert.equal(hashValueOf(upstream('capture'), ctx({ path: '/items/42' }), '').value, '42');
    assert.equal(hashValueOf(upstream('capture'), ctx({ path: '/items/42' }), '').value, '42', 'the compiled path is reused');
    assert.equal(hashValueOf(upstream('capture'), ctx({ path: '/plain' }), '').value, '/plain', 'no capture: the fallback');
  });

  it("hashes the cookie, or makes one with Kong's attributes (never a fallback)", () => {
    assert.equal(hashValueOf(upstream('cookie'), ctx({ headers: { cookie: 'a=1; sticky=s-1' } }), '').value, 's-1');
    const made = hashValueOf(upstream('cookie'), ctx({}), '');
    assert.match(made.setCookie ?? '', /^sticky=([0-9a-f-]{36}); Path=\/; Same-Site=Lax; HttpOnly$/);
    assert.equal(made.setCookie?.slice(7, 43), made.value);
    assert.equal(cookieValue('a=1;sticky = x ', 'sticky'), 'x');
    assert.equal(cookieValue(undefined, 'sticky'), null);
  });

  it("replaces the upstream's Set-Cookie of the same name, else adds one (Kong's set_cookie)", () => {
    const one: Record<string, string | string[]> = { 'set-cookie': 'other=1' };
    setHashCookie(one, 'sticky=a; Path=/');
    assert.deepEqual(one['set-cookie'], ['other=1', 'sticky=a; Path=/']);
    const same: Record<string, string | string[]> = { 'set-cookie': ['sticky=old', 'x=1'] };
    setHashCookie(same, 'sticky=new; Path=/');
    assert.deepEqual(same['set-cookie'], ['sticky=new; Path=/', 'x=1']);
    const none: Record<string, string | string[]> = {};
    setHashCookie(none, 'sticky=b');
    assert.equal(none['set-cookie'], 'sticky=b');
  });
});
