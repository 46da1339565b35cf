/**
 * The API keys of a configuration, found in constant time with respect to the key: the map is
 * keyed by the SHA-256 of the key (what a lookup's timing depends on says nothing usable about a
 * key), and the stored key is then compared with `timingSafeEqual`. Built when a configuration is
 * loaded (not on its first request) and shared by every key-auth instance of it.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { byId } from '../../config/by-id.js';
import { LayeredMap } from '../../config/list-lineage.js';
import type { Config, Consumer, KeyAuthCredential } from '../../config/types.js';

export interface KeyMatch {
  readonly credential: KeyAuthCredential;
  readonly consumer: Consumer;
}

interface Entry {
  readonly credential: KeyAuthCredential;
  readonly key: Buffer;
  readonly digest: string;
}

const indexes = new WeakMap<Config, KeyIndex>();
/** Each credential's key and its digest, kept with the (frozen) credential: a reload hashes only new keys. */
const entries = new WeakMap<KeyAuthCredential, Entry>();

function digest(key: string | Buffer): string {
  return hash('sha256', key, 'base64');
}

function entryOf(credential: KeyAuthCredential): Entry {
  let entry = entries.get(credential);
  if (entry === undefined) {
    const key = Buffer.from(credential.key);
    entry = { credential, key, digest: digest(key) };
    entries.set(credential, entry);
  }
  return entry;
}

/** The keys of each (frozen) credential list: a change of consumers only keeps its list, and so its keys. */
const keyMaps = new WeakMap<readonly KeyAuthCredential[], LayeredMap<Entry>>();

/** Keys by digest; a list made by appending to a known one layers its new keys on that one's. */
function build(credentials: readonly KeyAuthCredential[]): LayeredMap<Entry> {
  return LayeredMap.of(keyMaps, credentials, (map, credential) => {
    const entry = entryOf(credential);
    map.set(entry.digest, entry);
  });
}

export interface KeyIndex {
  /** The credential and consumer of `key`, or null. */
  find(key: string): KeyMatch | null;
}

/** The API keys of `config`: built by the first key-auth instance of it (at load), shared by the others. */
export function keyIndex(config: Config): KeyIndex {
  let index = indexes.get(config);
  if (index === undefined) {
    const keys = build(config.keyauth_credentials);
    const consumers = byId(config.consumers);
    index = {
      find(key) {
        const presented = Buffer.from(key);
        const entry = keys.get(digest(presented));
        if (entry === undefined || entry.key.length !== presented.length || !timingSafeEqual(entry.key, presented)) return null;
        const consumer: Consumer | undefined = consumers.get(entry.credential.consumer);
        return consumer === undefined ? null : { credential: entry.credential, consumer };
      },
    };
    indexes.set(config, index);
  }
  return index;
}
