import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapePath, normalizePath } from './uri-path.js';

describe('path normalisation (Kong kong/tools/uri.lua normalize)', () => {
  const cases: Array<[string, string]> = [
    ['/', '/'],
    ['', ''],
    ['/foo%3a', '/foo%3A'], // reserved triplets are upper-cased, not decoded
    ['/a%2fb', '/a%2Fb'],
    ['/fo%6F', '/foo'], // unreserved triplets are decoded
    ['/%7Euser', '/~user'],
    ['/a%20b', '/a b'], // "other" characters are decoded too (re-escaped upstream)
    ['/caf%C3%A9', '/café'],
    ['/bad%C3', '/bad%C3'], // not UTF-8: kept encoded
    ['/bad%c3x', '/bad%C3x'],
    ['/100%', '/100%'], // a lone % is left alone
    ['/foo/./bar/../baz', '/foo/baz'],
    ['/foo//bar', '/foo/bar'],
    ['//foo///bar', '/foo/bar'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/..', '/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a/%2e%2e/b', '/b'], // encoded dots are dots
    ['/a/%2E./b', '/b'],
    ['/a/..%2fb', '/a/..%2Fb'], // an encoded slash is not a separator
    ['/file.json', '/file.json'],
    ['/a/.hidden', '/a/.hidden'],
    ['/a/...', '/a/...'],
  ];
  for (const [input, expected] of cases) {
    it(`normalises ${JSON.stringify(input)} to ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePath(input), expected);
    });
  }

  it('is idempotent', () => {
    for (const [input] of cases) assert.equal(normalizePath(normalizePath(input)), normalizePath(input));
  });
});

describe('escaping the upstream path (Kong escape)', () => {
  it('leaves safe characters and percent triplets alone', () => {
    assert.equal(escapePath("/a-b_c.d~e/!$&'()*+,;=:@%2F"), "/a-b_c.d~e/!$&'()*+,;=:@%2F");
  });

  it('percent-encodes spaces, quotes and non-ASCII as UTF-8', () => {
    assert.equal(escapePath('/a b"c'), '/a%20b%22c');
    assert.equal(escapePath('/café'), '/caf%C3%A9');
  });

  it('round-trips a normalised path to what Kong sends upstream', () => {
    assert.equal(escapePath(normalizePath('/caf%c3%a9/%7e/a%20b')), '/caf%C3%A9/~/a%20b');
  });
});
