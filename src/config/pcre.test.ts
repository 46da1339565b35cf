import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePcre } from './pcre.js';

function regex(pattern: string, flags = ''): RegExp {
  const result = compilePcre(pattern, flags);
  if (!result.ok) assert.fail(result.message);
  return result.regex;
}

function refusal(pattern: string): string {
  const result = compilePcre(pattern);
  assert.equal(result.ok, false, `expected ${pattern} to be refused`);
  return result.ok ? '' : result.message;
}

describe('compilePcre', () => {
  it('keeps patterns that mean the same in PCRE and JS', () => {
    assert.ok(regex('/items/\\d+$').test('/items/42'));
    assert.ok(regex('/(?<id>[a-z]+)').exec('/abc')?.groups?.id === 'abc');
  });

  it('translates Python/PCRE named groups and back-references', () => {
    const r = regex('/(?P<word>\\w+)/(?P=word)$');
    assert.ok(r.test('/ab/ab'));
    assert.ok(!r.test('/ab/cd'));
    assert.equal(regex("/(?'x'a)").exec('/a')?.groups?.x, 'a');
  });

  it('translates anchors, a leading (?i), comments and \\Q…\\E quoting', () => {
    assert.ok(regex('\\A/a\\z').test('/a'));
    assert.ok(!regex('\\A/a\\z').test('/a/b'));
    assert.ok(regex('(?i)/ADMIN').test('/admin'));
    assert.ok(regex('/a(?#why)b').test('/ab'));
    assert.ok(regex('/\\Q.*\\E').test('/.*'));
    assert.ok(!regex('/\\Q.*\\E$').test('/xx'));
  });

  it('reads a ] right after [ as a literal, as PCRE does', () => {
    assert.ok(regex('[]a]').test(']'));
    assert.ok(regex('[^]a]').test('b'));
  });

  it('refuses, by name, what JS cannot express', () => {
    assert.equal(refusal('/a++'), 'possessive quantifiers (such as a++) are not supported');
    assert.equal(refusal('/a{2}+'), 'possessive quantifiers (such as a++) are not supported');
    assert.equal(refusal('/(?>a)'), 'atomic groups (?>…) are not supported');
    assert.equal(refusal('/(a|(?R))'), 'recursion and subroutine calls are not supported');
    assert.equal(refusal('/a(?i)b'), 'inline flags are only supported at the very start, as (?i)');
  });

  it('keeps lazy quantifiers and reports syntax errors without the V8 prefix', () => {
    assert.equal(regex('/a+?b').source, '\\/a+?b');
    assert.equal(refusal('/(a'), 'Unterminated group');
  });

  it('adds extra flags, e.g. i for ~* header values', () => {
    assert.ok(regex('^v\\d$', 'i').test('V2'));
  });
});
