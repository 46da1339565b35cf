import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutParameter } from './body-fields.js';

describe('withoutParameter', () => {
  it('removes every occurrence and keeps the other arguments byte for byte, in order', () => {
    assert.equal(withoutParameter('a=%20x+y&access_token=abc&b=%E2%9C%93&access_token=abc&c', 'access_token'), 'a=%20x+y&b=%E2%9C%93&c');
    assert.equal(withoutParameter('access_token=abc', 'access_token'), '');
    assert.equal(withoutParameter('', 'access_token'), '');
  });

  it('compares names after form-decoding, as URLSearchParams reads them', () => {
    assert.equal(withoutParameter('access%5Ftoken=abc&x=1', 'access_token'), 'x=1');
    assert.equal(withoutParameter('access_token_2=abc&access_token', 'access_token'), 'access_token_2=abc');
    assert.equal(withoutParameter('%ZZ=1&access_token=2', 'access_token'), '%ZZ=1', 'a broken escape elsewhere is kept as it is');
  });
});
