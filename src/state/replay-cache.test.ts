// MemoryReplayCache, the node's single-use store for DPoP proof jtis: fresh / replayed, expiry, and
// its bound (a floor under which it answers beyond_capacity rather than guess). The clock is the
// constructor's injectable `now`, so no test depends on wall-clock time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_REPLAY_CACHE_ENTRIES, MemoryReplayCache } from './replay-cache.js';
import { SlotHeap } from './slot-heap.js';

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

  it('reclaims an expired mark that sits behind a longer-lived one instead of dropping the unexpired one', () => {
    const { cache, clock } = cacheAt(1_000, 2);
    assert.equal(cache.claimNow('long', 1_000, 100_000), 'fresh');
    assert.equal(cache.claimNow('short', 1_000, 2_000), 'fresh');
    clock.now = 3_000;
    // `short` has expired: there is room for one more without dropping `long`.
    assert.equal(cache.claimNow('new', 3_000, 100_000), 'fresh');
    assert.equal(cache.claimNow('long', 1_000, 100_000), 'replayed');
  });

  it('reclaims every expired mark before dropping an unexpired one, whatever the order they came in, even past the per-claim sweep', () => {
    // Long-lived marks first, then many short ones interleaved: by insertion order the expired
    // ones are never at the front.
    const { cache, clock } = cacheAt(1_000, 40);
    for (let i = 0; i < 20; i++) {
      assert.equal(cache.claimNow(`long-${i}`, 1_000 + i, 100_000), 'fresh');
      assert.equal(cache.claimNow(`short-${i}`, 1_000 + i, 2_000), 'fresh');
    }
    assert.equal(cache.size, 40);
    clock.now = 5_000;
    // 20 new marks fill the slots of the 20 expired ones: no floor, every long one still held.
    for (let i = 0; i < 20; i++) assert.equal(cache.claimNow(`new-${i}`, 5_000, 100_000), 'fresh');
    assert.equal(cache.size, 40);
    for (let i = 0; i < 20; i++) assert.equal(cache.claimNow(`long-${i}`, 1_000 + i, 100_000), 'replayed');
    assert.equal(cache.claimNow('unseen-old', 999, 100_000), 'fresh', 'no floor was raised');
  });

  it('when full of unexpired marks it drops the earliest created, not the earliest inserted, so the floor rises least', () => {
    // With nonces the window starts at the nonce's time: a later proof may carry an earlier time.
    const { cache } = cacheAt(1_000, 3);
    assert.equal(cache.claimNow('late', 900, 10_000), 'fresh');
    assert.equal(cache.claimNow('early', 100, 10_000), 'fresh');
    assert.equal(cache.claimNow('middle', 500, 10_000), 'fresh');
    assert.equal(cache.claimNow('newest', 950, 10_000), 'fresh');
    // `early` was dropped: floor 100, and `late` (inserted first) is still held.
    assert.equal(cache.claimNow('late', 900, 10_000), 'replayed');
    assert.equal(cache.claimNow('early', 100, 10_000), 'beyond_capacity');
    assert.equal(cache.claimNow('unseen', 101, 10_000), 'fresh', 'the floor is the dropped mark’s time, not the newest dropped by insertion');
  });

  it('when full, a new mark created no later than every held one is accepted but not kept, and becomes the floor', () => {
    const { cache } = cacheAt(1_000, 2);
    assert.equal(cache.claimNow('a', 500, 10_000), 'fresh');
    assert.equal(cache.claimNow('b', 600, 10_000), 'fresh');
    assert.equal(cache.claimNow('old', 300, 10_000), 'fresh');
    assert.equal(cache.size, 2);
    // Its replay is refused (it was not kept, its time is the floor); the held ones stay exact.
    assert.equal(cache.claimNow('old', 300, 10_000), 'beyond_capacity');
    assert.equal(cache.claimNow('a', 500, 10_000), 'replayed');
    assert.equal(cache.claimNow('b', 600, 10_000), 'replayed');
    assert.equal(cache.claimNow('c', 301, 10_000), 'fresh');
  });

  it('keeps no mark for a window that has already ended, and refuses times that are not numbers', () => {
    const { cache } = cacheAt(5_000, 2);
    assert.equal(cache.claimNow('ended', 1_000, 5_000), 'fresh');
    assert.equal(cache.size, 0);
    assert.equal(cache.claimNow('nan-created', Number.NaN, 9_000), 'beyond_capacity');
    assert.equal(cache.claimNow('nan-expires', 5_000, Number.NaN), 'beyond_capacity');
    assert.equal(cache.size, 0);
  });

  it('grows past its first allocation and reuses the slots of forgotten marks, never holding more than its capacity', () => {
    const capacity = 5_000;
    const { cache, clock } = cacheAt(0, capacity);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < capacity; i++) assert.equal(cache.claimNow(`r${round}-${i}`, clock.now, clock.now + 1_000), 'fresh');
      assert.equal(cache.size, capacity);
      for (let i = 0; i < capacity; i += 997) assert.equal(cache.claimNow(`r${round}-${i}`, clock.now, clock.now + 1_000), 'replayed');
      clock.now += 1_000;
    }
    // A flood over the bound: the store stays at it, and refuses the oldest.
    for (let i = 0; i < 2 * capacity; i++) cache.claimNow(`flood-${i}`, clock.now + i, clock.now + 1_000_000);
    assert.equal(cache.size, capacity);
    assert.equal(cache.claimNow('flood-0', clock.now, clock.now + 1_000_000), 'beyond_capacity');
    assert.equal(cache.claimNow(`flood-${2 * capacity - 1}`, clock.now + 2 * capacity - 1, clock.now + 1_000_000), 'replayed');
  });

  it('answers as a plain list of marks with the same policy would, never accepts a replay of a mark it could have forgotten, and is exact while there is room (property)', () => {
    interface Op {
      /** A new key, a replay of an earlier claim (same times), or an earlier key with new times. */
      kind: 'new' | 'replay' | 'reclaim';
      pick: number;
      lag: number;
      lifetime: number;
      advance: number;
    }
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('new', 'new', 'replay', 'reclaim'),
      pick: fc.nat(),
      lag: fc.integer({ min: 0, max: 4_000 }),
      lifetime: fc.constantFrom(1_000, 2_000, 3_000, 10_000, 30_000),
      advance: fc.constantFrom(0, 0, 1, 500, 2_000),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
        const { cache, clock } = cacheAt(10_000, capacity);
        // The same policy over a plain array: expired marks never count, the earliest created goes first.
        const policy = { marks: [] as Array<{ key: string; created: number; expires: number }>, floor: Number.NEGATIVE_INFINITY };
        // No bound at all: what the store would answer with infinite room (key → the claim it holds).
        const unbounded = new Map<string, { created: number; expires: number }>();
        const claimed: Array<{ key: string; created: number; expires: number }> = [];
        let overloaded = false;
        for (const [index, { kind, pick, lag, lifetime, advance }] of ops.entries()) {
          clock.now += advance;
          const now = clock.now;
          // Distinct creation times (ties would make the dropped mark arbitrary).
          const created = now - lag + index / 1_000;
          let claim = { key: `k${index}`, created, expires: created + lifetime };
          const earlier = claimed[pick % Math.max(1, claimed.length)];
          if (kind === 'replay' && earlier !== undefined) claim = earlier;
          if (kind === 'reclaim' && earlier !== undefined) claim = { ...claim, key: earlier.key };

          policy.marks = policy.marks.filter((m) => m.expires > now);
          let expected: string;
          const held = policy.marks.find((m) => m.key === claim.key);
          if (held !== undefined) expected = 'replayed';
          else if (claim.created <= policy.floor) expected = 'beyond_capacity';
          else {
            expected = 'fresh';
            if (claim.expires > now) {
              if (policy.marks.length === capacity) {
                const oldest = policy.marks.reduce((a, b) => (b.created < a.created ? b : a));
                policy.floor = Math.max(policy.floor, Math.min(oldest.created, claim.created));
                if (oldest.created < claim.created) policy.marks = [...policy.marks.filter((m) => m !== oldest), claim];
              } else policy.marks.push(claim);
            }
          }

          const first = unbounded.get(claim.key);
          const unboundedAnswer = first !== undefined && first.expires > now ? 'replayed' : 'fresh';
          // A true replay: the same proof again, so the same creation time (the floor relies on it).
          const replay = unboundedAnswer === 'replayed' && first?.created === claim.created;
          if (unboundedAnswer === 'fresh') unbounded.set(claim.key, claim);
          for (const [key, { expires }] of unbounded) if (expires <= now) unbounded.delete(key);
          if (unbounded.size > capacity) overloaded = true;

          const answer = cache.claimNow(claim.key, claim.created, claim.expires);
          const context = `op ${index} ${JSON.stringify(claim)} at ${now}`;
          assert.equal(answer, expected, context);
          if (replay) assert.notEqual(answer, 'fresh', `a replay passed: ${context}`);
          if (!overloaded) assert.equal(answer, unboundedAnswer, `refused with room to spare: ${context}`);
          assert.ok(cache.size <= capacity);
          if (answer === 'fresh' && kind !== 'replay') claimed.push(claim);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('validates its capacity and defaults to DEFAULT_REPLAY_CACHE_ENTRIES', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => new MemoryReplayCache(capacity), TypeError, String(capacity));
    assert.equal(DEFAULT_REPLAY_CACHE_ENTRIES, 1_000_000);
    const cache = new MemoryReplayCache();
    assert.equal(cache.claimNow('k', Date.now(), Date.now() + 60_000), 'fresh');
    assert.equal(cache.claimNow('k', Date.now(), Date.now() + 60_000), 'replayed');
  });
});

describe('SlotHeap (the two orders of the store)', () => {
  it('moves the replacement of a removed slot up when it is lower than the removed one’s parent', () => {
    // Pushed in this order the heap is 5 11 5 19 14 16 7 by position. Removing the 19 puts the
    // last, 7, in its place under the 11: it must rise, or the 11 would come out before it.
    const heap = new SlotHeap(8);
    for (const [slot, priority] of [16, 19, 11, 5, 14, 5, 7].entries()) heap.push(slot, priority);
    heap.remove(1);
    const drained: number[] = [];
    while (heap.size > 0) {
      drained.push(heap.priorityOf(heap.peek()));
      heap.remove(heap.peek());
    }
    assert.deepEqual(drained, [5, 5, 7, 11, 14, 16]);
  });

  it('peeks the lowest priority through any mix of pushes, removals anywhere and growth, as a sorted list would (property)', () => {
    const step = fc.oneof(fc.record({ push: fc.integer({ min: -50, max: 50 }) }), fc.record({ remove: fc.nat() }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        let slots = 2;
        const heap = new SlotHeap(slots);
        const held = new Map<number, number>();
        const free: number[] = [];
        let next = 0;
        for (const s of steps) {
          if ('push' in s) {
            let slot = free.pop();
            if (slot === undefined) {
              slot = next++;
              if (slot === slots) heap.grow((slots *= 2));
            }
            heap.push(slot, s.push);
            held.set(slot, s.push);
          } else if (held.size > 0) {
            const slot = [...held.keys()][s.remove % held.size]!;
            heap.remove(slot);
            held.delete(slot);
            free.push(slot);
          }
          assert.equal(heap.size, held.size);
          if (held.size > 0) {
            assert.equal(heap.priorityOf(heap.peek()), Math.min(...held.values()));
            assert.equal(held.get(heap.peek()), heap.priorityOf(heap.peek()), 'the peeked slot is held, with its own priority');
          }
        }
        // Drained from the top, the slots come out in order.
        const drained: number[] = [];
        while (heap.size > 0) {
          const slot = heap.peek();
          drained.push(heap.priorityOf(slot));
          heap.remove(slot);
        }
        assert.deepEqual(drained, [...held.values()].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});
