import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MatchCache } from './match-cache.js';

describe('match cache', () => {
  it('remembers values, including null for a miss', () => {
    const cache = new MatchCache<string | null>(2);
    cache.set('a', 'A');
    cache.set('none', null);
    assert.equal(cache.get('a'), 'A');
    assert.equal(cache.get('none'), null);
    assert.equal(cache.get('unknown'), undefined);
  });

  it('holds at most two generations, forgetting the oldest keys', () => {
    const cache = new MatchCache<number>(2);
    for (let i = 0; i < 6; i++) cache.set(`k${i}`, i);
    assert.equal(cache.get('k0'), undefined);
    assert.equal(cache.get('k1'), undefined);
    assert.equal(cache.get('k5'), 5);
  });

  it('keeps a key that is read while it ages', () => {
    const cache = new MatchCache<number>(2);
    cache.set('hot', 1);
    cache.set('b', 2);
    cache.set('c', 3); // hot and b are now the old generation
    assert.equal(cache.get('hot'), 1); // promoted
    cache.set('d', 4);
    cache.set('e', 5);
    assert.equal(cache.get('hot'), 1);
    assert.equal(cache.get('b'), undefined);
  });
});
