/**
 * Where the gateway's current configuration is kept between runs. The file store is the only
 * implementation today; the interface is what a database-backed store (PostgreSQL with change
 * notification) would implement later, so nothing else may depend on files.
 */
import type { DeckDocument } from '../config/export.js';

/** A configuration as stored: the canonical decK document and the hash of the Config it loads to. */
export interface StoredConfig {
  /** Flat decK document, every entity with its id, references by id (see `exportConfig`). */
  readonly document: DeckDocument;
  /** `configHash` of the Config the document loads to. */
  readonly hash: string;
  /** When it was saved (ISO 8601). */
  readonly savedAt: string;
}

export interface ConfigStore {
  /** The last saved configuration, or null when nothing was ever saved. Throws when it is unreadable. */
  load(): Promise<StoredConfig | null>;
  /** Makes `document` the stored configuration: all or nothing, durable when the promise resolves. */
  save(document: DeckDocument, hash: string): Promise<void>;
  /**
   * A store shared by several nodes: runs `change` while no other node runs one (a change reads the
   * configuration, edits it and saves it: without this, two nodes' changes would keep conflicting),
   * telling it whether another node committed since this one last loaded or saved.
   */
  exclusive?<T>(change: (behind: boolean) => Promise<T>): Promise<T>;
}

/** The stored configuration exists but cannot be trusted (truncated, edited, wrong format). */
export class CorruptConfigError extends Error {
  override readonly name = 'CorruptConfigError';
  readonly code = 'ERR_CONFIG_STORE_CORRUPT';
}

/**
 * The save was refused because the configuration changed elsewhere (another node of a shared
 * database) after this node last read it; nothing was written. Reload and redo the change.
 */
export class ConfigConflictError extends Error {
  override readonly name = 'ConfigConflictError';
  readonly code = 'ERR_CONFIG_CONFLICT';
}

/** The store cannot be reached (a database down or partitioned away): nothing was read or written. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'ERR_CONFIG_STORE_UNAVAILABLE';
}
