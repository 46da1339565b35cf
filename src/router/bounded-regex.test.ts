import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePcre, runsInLinearTime, spellOutAsciiCase } from '../config/pcre.js';
import { execBounded, RegexBudget, RegexBudgetExceeded } from './bounded-regex.js';
import { compileRouter } from './index.js';
import { makeRoute, matchedName } from './route-fixture.js';

function compiled(pattern: string, flags = ''): RegExp {
  const result = compilePcre(pattern, flags);
  if (!result.ok) assert.fail(result.message);
  return result.regex;
}

/** Every ASCII character, plus the non-ASCII ones case folding treats specially. */
const alphabet = [...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)), 'é', 'É', 'ſ', '\u212a', 'İ', 'ı', 'ß', '\u00a0'];

/** Inputs built from `pieces`: each alone, each pair, and each piece between others. */
function inputsFrom(pieces: readonly string[]): string[] {
  const out = new Set<string>(pieces);
  for (const a of pieces) for (const b of pieces) out.add(a + b);
  for (const a of pieces) out.add(`x${a}y`);
  return [...out];
}

describe('route regexes in linear time', () => {
  it('runs the classic catastrophic patterns on the linear engine, with the same results', () => {
    for (const pattern of ['/(a+)+$', '/(a*)*b', '/(a|a)+$', '/(a|aa)+$', '/(\\w+\\s?)*$', '/([a-z]+)*x$', '/.*a.*b.*c.*d$']) {
      const regex = compiled(pattern);
      assert.ok(runsInLinearTime(regex), pattern);
      const started = performance.now();
      assert.equal(regex.exec(`/${'a'.repeat(5000)}!`), null, pattern);
      assert.ok(performance.now() - started < 500, `${pattern} took ${performance.now() - started} ms`);
    }
    assert.equal(compiled('/(a+)+$').exec('/aaa')?.[0], '/aaa');
  });

  it('gives the same match text and captures as the backtracking engine', () => {
    const cases: Array<[string, string[]]> = [
      ['(a|ab)(c|bcd)(d*)', ['abcd', 'abc', 'acd']],
      ['/v(?<version>\\d+)/(users|items)/([0-9a-f]{8})?', ['/v12/users/deadbeef', '/v1/items/', '/v1/itemsx']],
      ['/a+?b*?', ['/aaabbb', '/a']],
      ['/x(y|yz)*z', ['/xyzyzz', '/xz']],
      ['/\\bfoo\\b|/bar$', ['/foo', '/foobar', '/bar', '/bar/']],
    ];
    for (const [pattern, inputs] of cases) {
      const linear = compiled(pattern);
      assert.ok(runsInLinearTime(linear), pattern);
      const backtracking = new RegExp(linear.source, linear.flags.replace('l', ''));
      for (const input of inputs) assert.deepEqual(linear.exec(input), backtracking.exec(input), `${pattern} on ${input}`);
    }
  });

  it('spells out an ASCII case-insensitive pattern so that it matches exactly what `i` matches', () => {
    const patterns = ['abc', '[a-f]+', '[^a-z]', '[Z-a]', '[\\w-]', '[^\\W]', '\\x41\\u0062', 'a.c', 'v\\d$', '(?<name>x)k', '[\\x40-\\x5b]', '[.-]', '\\bK', '(?:s|t)+'];
    for (const pattern of patterns) {
      const spelled = spellOutAsciiCase(pattern);
      assert.ok(spelled !== null, pattern);
      const expected = new RegExp(pattern, 'i');
      const actual = new RegExp(spelled);
      const pieces = inputsFrom(alphabet.filter((ch) => /[a-zA-Z0-9_.\-@[\]^éÉſ\u212aİıß ]/.test(ch)));
      for (const input of pieces) assert.deepEqual(actual.exec(input)?.[0], expected.exec(input)?.[0], `${pattern} → ${spelled} on ${JSON.stringify(input)}`);
    }
  });

  it('leaves patterns it cannot spell out to the backtracking engine', () => {
    for (const pattern of ['é', '(a)\\1', '\\k<x>', '[à-ÿ]', '[\\d-z]', '\\a', '\\xe9', '\\u2028', '[\\u00e0-\\u00ff]', '\\u{41}']) {
      assert.equal(spellOutAsciiCase(pattern), null, pattern);
    }
    assert.equal(runsInLinearTime(compiled('^v\\d$', 'i')), true, 'an ASCII header regex runs in linear time');
    assert.equal(runsInLinearTime(compiled('/(?P<w>\\w+)/(?P=w)$')), false, 'a back-reference backtracks');
    assert.equal(runsInLinearTime(compiled('/(?=a)a')), false, 'lookahead backtracks');
    assert.equal(runsInLinearTime(compiled('/\\p{L}+', '')), false, 'unicode properties backtrack');
  });

  it('stops a backtracking regex when the budget is spent', () => {
    const regex = compiled('/(?=x?)(a+)+$');
    assert.equal(runsInLinearTime(regex), false);
    assert.equal(execBounded(regex, '/aaa', new RegexBudget(100))?.[0], '/aaa');
    const started = performance.now();
    assert.throws(() => execBounded(regex, `/${'a'.repeat(40)}!`, new RegexBudget(50)), RegexBudgetExceeded);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('router and catastrophic backtracking', () => {
  it('answers a backtracking route regex quickly, matching nothing rather than a lower route', () => {
    // A lookahead keeps this pattern off the linear engine: it backtracks and needs the time limit.
    const router = compileRouter([
      makeRoute({ name: 'slow', paths: ['~/files/(?=[a-z])(a+)+$'] }),
      makeRoute({ name: 'fallback', paths: ['/files'] }),
    ]);
    assert.equal(matchedName(router, { path: '/files/aaaa' }), 'slow');
    assert.equal(matchedName(router, { path: '/files/other' }), 'fallback');
    const started = performance.now();
    assert.equal(matchedName(router, { path: `/files/${'a'.repeat(40)}!` }), null);
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  });

  it('bounds header regexes the same way', () => {
    const router = compileRouter([makeRoute({ name: 'h', headers: { 'x-v': ['~*^(?=x)(x+)+y$'] } })]);
    assert.equal(matchedName(router, { headers: { 'x-v': 'XXY' } }), 'h');
    const started = performance.now();
    assert.equal(matchedName(router, { headers: { 'x-v': `${'x'.repeat(40)}!` } }), null);
    assert.ok(performance.now() - started < 1000);
  });

  it('a linear-engine route regex needs no budget at all', () => {
    const router = compileRouter([makeRoute({ name: 'redos', paths: ['~/redos/(a+)+$'] })]);
    const started = performance.now();
    assert.equal(matchedName(router, { path: `/redos/${'a'.repeat(30_000)}!` }), null);
    assert.equal(matchedName(router, { path: `/redos/${'a'.repeat(30_000)}` }), 'redos');
    assert.ok(performance.now() - started < 1000);
  });
});
