import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { describe, it } from 'node:test';
import { formatChallenge } from './www-authenticate.js';

describe('formatChallenge', () => {
  it('separates parameters with commas and quotes every value (RFC 7235 §4.1)', () => {
    const header = formatChallenge({
      scheme: 'Bearer',
      params: { realm: 'portcullis', error: 'invalid_token', error_description: 'token expired' },
    });
    assert.equal(header, 'Bearer realm="portcullis", error="invalid_token", error_description="token expired"');
  });

  it('leaves out parameters without a value, so no error is sent when no token was', () => {
    assert.equal(formatChallenge({ scheme: 'Bearer', params: { realm: 'r', error: undefined } }), 'Bearer realm="r"');
  });

  it('escapes quotes and backslashes and drops control characters', () => {
    assert.equal(formatChallenge({ scheme: 'Bearer', params: { realm: 'a"b\\c\r\nd' } }), 'Bearer realm="a\\"b\\\\cd"');
  });

  it('drops characters above U+00FF, which Node refuses in a header (a scope such as 読む)', () => {
    // Found by test/fuzz/www-authenticate.fuzz.test.ts: `{ "+": "\u0100" }` gave a header writeHead throws on.
    const header = formatChallenge({ scheme: 'Bearer', params: { realm: 'r\u0100', scope: 'read \u8aad\u3080 \u{1f600}\ud800 caf\u00e9' } });
    assert.equal(header, 'Bearer realm="r", scope="read   caf\u00e9"');
    assert.doesNotThrow(() => validateHeaderValue('www-authenticate', header));
  });

  it('is the bare scheme when there are no parameters', () => {
    assert.equal(formatChallenge({ scheme: 'Bearer', params: {} }), 'Bearer');
  });
});
