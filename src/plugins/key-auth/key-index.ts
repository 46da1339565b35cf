/**
 * The API keys of a configuration, found in constant time with respect to the key: the map is
 * keyed by the SHA-256 of the key (what a lookup's timing depends on says nothing usable about a
 * key), and the stored key is then compared with `timingSafeEqual`. Built when a configuration is
 * loaded (not on its first request) and shared by every key-auth instance of it.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { Config, Consumer, KeyAuthCredential } from '../../config/types.js';

export interface KeyMatch {
  readonly credential: KeyAuthCredential;
  readonly consumer: Consumer;
}

interface Entry extends KeyMatch {
  readonly key: Buffer;
}

const indexes = new WeakMap<Config, KeyIndex>();

function digest(key: string | Buffer): string {
  return hash('sha256', key, 'base64');
}

function build(config: Config): Map<string, Entry> {
  const consumers = new Map(config.consumers.map((c) => [c.id, c]));
  const index = new Map<string, Entry>();
  for (const credential of config.keyauth_credentials) {
    const consumer = consumers.get(credential.consumer);
    if (consumer === undefined) continue;
    const key = Buffer.from(credential.key);
    index.set(digest(key), { credential, consumer, key });
  }
  return index;
}

export interface KeyIndex {
  /** The credential and consumer of `key`, or null. */
  find(key: string): KeyMatch | null;
}

/** The API keys of `config`: built by the first key-auth instance of it (at load), shared by the others. */
export function keyIndex(config: Config): KeyIndex {
  let index = indexes.get(config);
  if (index === undefined) {
    const entries = build(config);
    index = {
      find(key) {
        const presented = Buffer.from(key);
        const entry = entries.get(digest(presented));
        if (entry === undefined || entry.key.length !== presented.length || !timingSafeEqual(entry.key, presented)) return null;
        return entry;
      },
    };
    indexes.set(config, index);
  }
  return index;
}
