/**
 * A store that forgets on exit: for gateways started without a prefix to persist into (tests that
 * call `startGateway` directly) and as the second implementation the ConfigStore contract is
 * tested against.
 */
import type { DeckDocument } from '../config/export.js';
import type { ConfigStore, StoredConfig } from './config-store.js';

export class MemoryConfigStore implements ConfigStore {
  #stored: StoredConfig | null = null;

  load(): Promise<StoredConfig | null> {
    return Promise.resolve(this.#stored === null ? null : structuredClone(this.#stored));
  }

  save(document: DeckDocument, hash: string): Promise<void> {
    this.#stored = { document: structuredClone(document), hash, savedAt: new Date().toISOString() };
    return Promise.resolve();
  }
}
