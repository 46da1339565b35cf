// Where the token may be (bearer_token_param_type) and how hide_credentials removes it: the body
// (form and JSON, buffered only when needed) and the query string.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PluginInstance } from '../../pipeline/plugin.js';
import { buildInstance, fakeContext, FakeIdp, runAccess } from './test-fixtures.js';

const run = runAccess;

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const json = { 'content-type': 'application/json; charset=utf-8' };

describe('openid-connect token locations', () => {
  let idp: FakeIdp;
  let token: string;
  const instances: PluginInstance[] = [];
  const make = (config: Record<string, unknown>, extra?: Parameters<typeof buildInstance>[1]): PluginInstance => {
    const instance = buildInstance({ issuer: idp.issuer, ...config }, extra);
    instances.push(instance);
    return instance;
  };

  before(async () => {
    idp = await FakeIdp.start();
    token = await idp.sign();
  });
  after(async () => {
    for (const instance of instances) await instance.close?.();
    await idp.close();
  });

  describe('in the body', () => {
    it('reads access_token from a form body (Kong default [body, header, query]) and removes it upstream', async () => {
      const plugin = make({});
      const ctx = fakeContext({ method: 'POST', headers: form, body: `a=%20x+y&access_token=${token}&b=%E2%9C%93` });
      assert.equal(await run(plugin, ctx), null);
      assert.equal(ctx.auth?.reason, 'jwt_verified');
      assert.equal(ctx.upstreamBody?.toString(), 'a=%20x+y&b=%E2%9C%93', 'the other fields keep their exact bytes');
      assert.equal(ctx.upstreamHeaders['authorization'], `Bearer ${token}`, 'upstream_access_token_header still carries it');
    });

    it('reads access_token from a JSON body and removes only that member', async () => {
      const plugin = make({});
      const ctx = fakeContext({ method: 'POST', headers: { 'content-type': 'application/vnd.api+json' }, body: JSON.stringify({ access_token: token, data: { n: 1 } }) });
      assert.equal(await run(plugin, ctx), null);
      assert.deepEqual(JSON.parse(ctx.upstreamBody!.toString()), { data: { n: 1 } });
    });

    it('forwards the buffered body unchanged when hide_credentials is false', async () => {
      const plugin = make({ hide_credentials: false });
      const body = `access_token=${token}&x=1`;
      const ctx = fakeContext({ method: 'POST', headers: form, body });
      assert.equal(await run(plugin, ctx), null);
      assert.equal(ctx.upstreamBody?.toString(), body);
    });

    it('never reads the body when the token is elsewhere, the type is not form/JSON, or body is not configured', async () => {
      const header = fakeContext({ method: 'POST', headers: { ...form, authorization: `Bearer ${token}` }, body: 'x=1' });
      assert.equal(await run(make({}), header), null);
      assert.equal(header.bodyReads, 0);
      assert.equal(header.upstreamBody, null, 'the body streams');
      const octets = fakeContext({ method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: `access_token=${token}` });
      assert.equal((await run(make({}), octets))?.code, 'no_token');
      assert.equal(octets.bodyReads, 0);
      const compressed = fakeContext({ method: 'POST', headers: { ...form, 'content-encoding': 'gzip' }, body: `access_token=${token}` });
      assert.equal((await run(make({}), compressed))?.code, 'no_token');
      assert.equal(compressed.bodyReads, 0);
      const headerOnly = fakeContext({ method: 'POST', headers: form, body: `access_token=${token}` });
      assert.equal((await run(make({ bearer_token_param_type: ['header'] }), headerOnly))?.code, 'no_token');
      assert.equal(headerOnly.bodyReads, 0);
    });

    it('treats JSON null, non-objects and broken JSON as no token, and a non-string access_token as malformed', async () => {
      const plugin = make({});
      for (const body of ['null', '[1]', '{"access_token":null}', '{nope', '"text"']) {
        assert.equal((await run(plugin, fakeContext({ method: 'POST', headers: json, body })))?.code, 'no_token', body);
      }
      const number = await run(plugin, fakeContext({ method: 'POST', headers: json, body: '{"access_token":12}' }));
      assert.equal(number?.status, 401);
      assert.equal(number?.code, 'token_malformed');
    });

    it('refuses two different body tokens with 400, and a body too large to buffer with 413', async () => {
      const plugin = make({});
      const two = await run(plugin, fakeContext({ method: 'POST', headers: form, body: `access_token=${token}&access_token=${await idp.sign()}` }));
      assert.equal(two?.status, 400);
      assert.equal(two?.code, 'multiple_tokens');
      const big = await run(plugin, fakeContext({ method: 'POST', headers: form, body: Buffer.alloc(1024 * 1024 + 1, 'a') }));
      assert.equal(big?.status, 413);
      assert.equal(big?.code, 'request_body_too_large');
    });

    it('removes a refused body token even with anonymous', async () => {
      const plugin = make({ anonymous: 'guest', hide_credentials: false }, { consumers: [{ username: 'guest' }] });
      const ctx = fakeContext({ method: 'POST', headers: form, body: 'access_token=not.a.jwt&x=1' });
      assert.equal(await run(plugin, ctx), null);
      assert.equal(ctx.identity?.anonymous, true);
      assert.equal(ctx.upstreamBody?.toString(), 'x=1');
    });
  });

  describe('in the query', () => {
    it('removes access_token from the upstream query with hide_credentials, keeping the other arguments exactly', async () => {
      const ctx = fakeContext({ query: `q=a%20b+c&access_token=${token}&x=%2F` });
      assert.equal(await run(make({}), ctx), null);
      assert.equal(ctx.upstreamQuery, 'q=a%20b+c&x=%2F');
      assert.equal(ctx.request.query, `q=a%20b+c&access_token=${token}&x=%2F`, 'the request itself is never changed');
    });

    it('keeps it without hide_credentials, and removes every copy of a token repeated in header and query', async () => {
      const kept = fakeContext({ query: `access_token=${token}` });
      assert.equal(await run(make({ hide_credentials: false }), kept), null);
      assert.equal(kept.upstreamQuery, `access_token=${token}`);
      const both = fakeContext({ headers: { 'x-access-token': token }, query: `access_token=${token}&y=1` });
      assert.equal(await run(make({ upstream_access_token_header: null }), both), null);
      assert.equal(both.upstreamQuery, 'y=1');
      assert.equal(both.upstreamHeaders['x-access-token'], undefined);
    });
  });
});
