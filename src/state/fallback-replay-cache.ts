/**
 * The replay cache of a node on a shared Redis, with `--replay-cache-fallback`: `closed` lets a
 * Redis failure reach the DPoP check, which refuses the proof (401, `dpop_replay_unavailable`);
 * `local` checks the proof in the node's own cache instead and warns. The node-local cache then
 * catches replays to this node only: a proof replayed to another node in that time passes there,
 * which is what choosing `local` accepts for availability.
 */
import type { Logger } from '../util/logger.js';
import { logThrottle } from '../util/log-throttle.js';
import type { ClaimResult, ReplayCache } from './replay-cache.js';

const LOG_INTERVAL_MS = 10_000;

export class FallbackReplayCache implements ReplayCache {
  readonly #shared: ReplayCache;
  readonly #local: ReplayCache;
  readonly #logger: Logger;
  readonly #logDue = logThrottle(LOG_INTERVAL_MS);

  constructor(shared: ReplayCache, local: ReplayCache, logger: Logger) {
    this.#shared = shared;
    this.#local = local;
    this.#logger = logger;
  }

  async claim(key: string, createdAtMs: number, expiresAtMs: number): Promise<ClaimResult> {
    try {
      return await this.#shared.claim(key, createdAtMs, expiresAtMs);
    } catch (error) {
      if (this.#logDue()) {
        this.#logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'DPoP replay cache: Redis cannot answer; checking proofs in this node\'s own cache (replays to other nodes are not seen meanwhile)');
      }
      return this.#local.claim(key, createdAtMs, expiresAtMs);
    }
  }
}
