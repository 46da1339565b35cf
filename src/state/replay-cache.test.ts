// MemoryReplayCache, the node's single-use store for DPoP proof jtis: fresh / replayed, expiry, and
// its bound (a floor under which it answers beyond_capacity rather than guess). The clock is the
// constructor's injectable `now`, so no test depends on wall-clock time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_REPLAY_CACHE_ENTRIES, MemoryReplayCache } from './replay-cache.js';

/** A cache on a hand-driven clock. */
function cacheAt(start: number, capacity = 100): { cache: MemoryReplayCache; clock: { now: number } } {
  const clock = { now: start };
  return { cache: new MemoryReplayCache(capacity, () => clock.now), clock };
}

describe('MemoryReplayCache', () => {
  it('accepts a fresh key and calls the same key again a replay, with claim() and claimNow() alike', async () => {
    const { cache } = cacheAt(1_000);
    assert.equal(await cache.claim('k1', 1_000, 5_000), 'fresh');
    assert.equal(await cache.claim('k1', 1_000, 5_000), 'replayed');
    assert.equal(cache.claimNow('k1', 1_000, 5_000), 'replayed');
    // Another key is unaffected, and a replay is not recorded twice.
    assert.equal(cache.claimNow('k2', 1_000, 5_000), 'fresh');
    assert.equal(cache.size, 2);
  });

  it('a replay is a replay whatever times the second claim states', () => {
    const { cache } = cacheAt(1_000);
    assert.equal(cache.claimNow('k', 1_000, 5_000), 'fresh');
    assert.equal(cache.claimNow('k', 2_000, 9_000), 'replayed');
    assert.equal(cache.claimNow('k', 0, 1), 'replayed');
  });

  it('accepts the key again once its window has ended (expiresAt is exclusive), and then holds it for its new window', () => {
    const { cache, clock } = cacheAt(1_000);
    assert.equal(cache.claimNow('k', 1_000, 5_000), 'fresh');
    clock.now = 4_999;
    assert.equal(cache.claimNow('k', 1_000, 5_000), 'replayed');
    clock.now = 5_000;
    assert.equal(cache.claimNow('k', 5_000, 9_000), 'fresh');
    clock.now = 8_999;
    assert.equal(cache.claimNow('k', 5_000, 9_000), 'replayed', 'the re-claimed key has its new window');
    assert.equal(cache.size, 1);
  });

  it('when full of unexpired marks it drops the oldest and refuses anything created at or before it as beyond_capacity', () => {
    const { cache } = cacheAt(1_000, 3);
    assert.equal(cache.claimNow('a', 100, 10_000), 'fresh');
    assert.equal(cache.claimNow('b', 200, 10_000), 'fresh');
    assert.equal(cache.claimNow('c', 300, 10_000), 'fresh');
    assert.equal(cache.size, 3);
    // The fourth mark fits by pushing `a` out: the store stays at its bound.
    assert.equal(cache.claimNow('d', 400, 10_000), 'fresh');
    assert.equal(cache.size, 3);
    // `a` is no longer held: its replay must not pass as fresh.
    assert.equal(cache.claimNow('a', 100, 10_000), 'beyond_capacity');
    // Neither may any unseen value as old as the dropped one…
    assert.equal(cache.claimNow('new-old', 100, 10_000), 'beyond_capacity');
    assert.equal(cache.claimNow('older', 50, 10_000), 'beyond_capacity');
    // …while what is younger than the floor is still judged exactly.
    assert.equal(cache.claimNow('b', 200, 10_000), 'replayed');
    assert.equal(cache.claimNow('e', 101, 10_000), 'fresh');
    // Refusals record nothing.
    assert.equal(cache.size, 3);
  });

  it('the floor only rises: each unexpired mark dropped under a flood raises it to that mark', () => {
    const { cache } = cacheAt(1_000, 2);
    for (const [key, created] of [['a', 100], ['b', 200], ['c', 300], ['d', 400]] as const) assert.equal(cache.claimNow(key, created, 10_000), 'fresh');
    // a and b were dropped (floor 200); c and d are held.
    assert.equal(cache.claimNow('x', 200, 10_000), 'beyond_capacity');
    assert.equal(cache.claimNow('c', 300, 10_000), 'replayed');
    assert.equal(cache.claimNow('y', 201, 10_000), 'fresh');
  });

  it('reclaims expired marks: once the held marks have expired, new claims fit without raising a floor', () => {
    const { cache, clock } = cacheAt(1_000, 3);
    for (const key of ['a', 'b', 'c']) assert.equal(cache.claimNow(key, 1_000, 2_000), 'fresh');
    clock.now = 2_000;
    // The three expired marks are swept; none of them counts against the bound any more.
    assert.equal(cache.claimNow('d', 2_000, 3_000), 'fresh');
    assert.equal(cache.size, 1);
    for (const key of ['e', 'f']) assert.equal(cache.claimNow(key, 2_000, 3_000), 'fresh');
    assert.equal(cache.size, 3);
    // No unexpired mark was dropped, so no floor: a value as old as the reclaimed ones is judged on its own.
    assert.equal(cache.claimNow('g', 1_000, 4_000), 'fresh');
  });

  it('dropping an expired mark to make room raises no floor', () => {
    const { cache, clock } = cacheAt(1_000, 1);
    assert.equal(cache.claimNow('a', 1_000, 2_000), 'fresh');
    clock.now = 2_500;
    assert.equal(cache.claimNow('b', 2_500, 4_000), 'fresh');
    assert.equal(cache.size, 1);
    // Had `a` raised a floor, this (created before it) would be beyond_capacity.
    assert.equal(cache.claimNow('c', 900, 4_000), 'fresh');
  });

  it(
    'reclaims an expired mark that sits behind a longer-lived one instead of dropping the unexpired one',
    { todo: 'expired marks are swept from the front only: an expired mark behind an unexpired one keeps its place, the unexpired one is dropped and raises the floor (mixed windows, e.g. nonce times or routes with different dpop_proof_lifetime)' },
    () => {
      const { cache, clock } = cacheAt(1_000, 2);
      assert.equal(cache.claimNow('long', 1_000, 100_000), 'fresh');
      assert.equal(cache.claimNow('short', 1_000, 2_000), 'fresh');
      clock.now = 3_000;
      // `short` has expired: there is room for one more without dropping `long`.
      assert.equal(cache.claimNow('new', 3_000, 100_000), 'fresh');
      assert.equal(cache.claimNow('long', 1_000, 100_000), 'replayed');
    },
  );

  it('validates its capacity and defaults to DEFAULT_REPLAY_CACHE_ENTRIES', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => new MemoryReplayCache(capacity), TypeError, String(capacity));
    assert.equal(DEFAULT_REPLAY_CACHE_ENTRIES, 1_000_000);
    const cache = new MemoryReplayCache();
    assert.equal(cache.claimNow('k', Date.now(), Date.now() + 60_000), 'fresh');
    assert.equal(cache.claimNow('k', Date.now(), Date.now() + 60_000), 'replayed');
  });
});
