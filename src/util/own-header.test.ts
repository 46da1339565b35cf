import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownHeader } from './own-header.js';

describe('ownHeader', () => {
  it('reads only what the request sent, never Object.prototype', () => {
    const headers = { 'x-client-cert': 'pem', 'set-cookie': ['a', 'b'] };
    assert.equal(ownHeader(headers, 'x-client-cert'), 'pem');
    assert.deepEqual(ownHeader(headers, 'set-cookie'), ['a', 'b']);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) assert.equal(ownHeader(headers, name), undefined, name);
    assert.equal(ownHeader({ constructor: 'sent' }, 'constructor'), 'sent');
  });
});
