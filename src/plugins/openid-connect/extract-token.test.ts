import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { extractToken } from './extract-token.js';

describe('extractToken', () => {
  it('reads only the request\'s own headers, never Object.prototype (bearer_token_header_name: constructor)', () => {
    // Found by test/fuzz/token-extraction.fuzz.test.ts: headerName `constructor` read
    // Object.prototype.constructor from Node's req.headers and threw a TypeError (a 500).
    for (const headerName of ['constructor', '__proto__']) {
      const options = { paramTypes: ['header'], headerName, cookieName: null, maxLength: 100 };
      assert.equal(extractToken({}, '', options), null);
      const headers: IncomingHttpHeaders = {};
      Object.defineProperty(headers, headerName, { value: 'Bearer abc.def', enumerable: true });
      assert.equal(extractToken(headers, '', options)?.token, 'abc.def');
    }
  });
});
