import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResolvedPlugin } from './plugin.js';
import { credentialCarriersOf, parseQuery, redactHeaders } from './log-record.js';

describe('log record', () => {
  it("parses the query as Kong's get_query: true without =, a list when repeated, decoded", () => {
    const q = parseQuery('a=1&flag&a=2&name=J%C3%B6rg+B&empty=', []);
    assert.deepEqual(q.values, { a: ['1', '2'], flag: true, name: 'Jörg B', empty: '' });
    assert.equal(q.redacted, false);
  });

  it('redacts credential arguments in the table and in the text, whatever their case', () => {
    const q = parseQuery('apikey=s3cret&page=2&APIKEY=other&access_token=t', ['apikey', 'access_token']);
    assert.deepEqual(q.values, { apikey: 'REDACTED', page: '2', APIKEY: 'REDACTED', access_token: 'REDACTED' });
    assert.equal(q.text, 'apikey=REDACTED&page=2&APIKEY=REDACTED&access_token=REDACTED');
    assert.equal(q.redacted, true);
  });

  it('redacts headers by name, keeping the others', () => {
    assert.deepEqual(redactHeaders({ authorization: 'Bearer x', cookie: ['a=1', 'b=2'], 'x-ok': 'yes' }, ['authorization', 'cookie']), {
      authorization: 'REDACTED',
      cookie: 'REDACTED',
      'x-ok': 'yes',
    });
  });

  it("adds the route's plugins' carriers to the ones always redacted", () => {
    const keyAuth = { instance: { credentialCarriers: { headers: ['x-key'], query: ['x-key'] } } } as unknown as ResolvedPlugin;
    const other = { instance: {} } as unknown as ResolvedPlugin;
    const carriers = credentialCarriersOf([other, keyAuth]);
    for (const name of ['authorization', 'proxy-authorization', 'cookie', 'dpop', 'x-key']) assert.ok(carriers.headers.includes(name), name);
    assert.deepEqual(carriers.query, ['access_token', 'x-key']);
  });
});
