/**
 * The DPoP replay cache on the node's shared Redis: a proof's mark is a key set only if it does
 * not exist (`SET … NX PX`), one atomic round trip, so a `jti` is accepted once across every node
 * that shares the Redis. The key expires with the proof's window. Redis keeps marks until they
 * expire — there is no `beyond_capacity` here; run it with a `noeviction` policy (or one that only
 * evicts keys with a TTL and enough memory), or an evicted mark could be replayed.
 */
import type { ClaimResult, ReplayCache } from '../replay-cache.js';
import type { SharedRedis } from './shared-redis.js';

/** Prefix of the marks' keys (the caller's key is already a hash: fixed length, no secret). */
export const REPLAY_KEY_PREFIX = 'portcullis:dpop:';

export class RedisReplayCache implements ReplayCache {
  readonly #redis: SharedRedis;
  readonly #now: () => number;

  constructor(redis: SharedRedis, now: () => number = Date.now) {
    this.#redis = redis;
    this.#now = now;
  }

  async claim(key: string, _createdAtMs: number, expiresAtMs: number): Promise<ClaimResult> {
    // At least a millisecond: PX 0 is an error, and the caller refuses an expired proof anyway.
    const ttlMs = Math.max(1, Math.ceil(expiresAtMs - this.#now()));
    const set = await this.#redis.run((client) => client.set(REPLAY_KEY_PREFIX + key, '1', 'PX', ttlMs, 'NX'));
    return set === 'OK' ? 'fresh' : 'replayed';
  }
}
