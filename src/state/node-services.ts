/**
 * State a node's plugins share beyond one configuration and one process: the replay store and the
 * gateway's own MAC key. Built once per process by whoever starts the gateway (one process, or a
 * worker talking to its primary) and handed to every plugin instance through its environment.
 */
import { randomBytes } from 'node:crypto';
import { MemoryReplayCache, type ReplayCache } from './replay-cache.js';

export interface NodeServices {
  /** Single-use marks (DPoP proof `jti`s), shared by every worker of the node. */
  readonly replayCache: ReplayCache;
  /** The gateway's key for stateless DPoP nonces: the same on every worker and on nodes given the same key file. */
  readonly nonceKey: Uint8Array;
}

/** Services for a gateway in one process: an in-memory replay store, and `nonceKey` or a random key. */
export function localNodeServices(options: { nonceKey?: Uint8Array; replayCacheEntries?: number } = {}): NodeServices {
  return { replayCache: new MemoryReplayCache(options.replayCacheEntries), nonceKey: options.nonceKey ?? randomBytes(32) };
}
