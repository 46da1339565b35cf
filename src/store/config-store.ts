/**
 * Where the gateway's current configuration is kept between runs. The file store is the only
 * implementation today; the interface is what a database-backed store (PostgreSQL with change
 * notification) would implement later, so nothing else may depend on files.
 */
import type { DeckDocument } from '../config/export.js';
import type { Section } from './entity-keys.js';

/** A configuration as stored: the canonical decK document and the hash of the Config it loads to. */
export interface StoredConfig {
  /** Flat decK document, every entity with its id, references by id (see `exportConfig`). */
  readonly document: DeckDocument;
  /** `configHash` of the Config the document loads to. */
  readonly hash: string;
  /** When it was saved (ISO 8601). */
  readonly savedAt: string;
}

/** One entity as the canonical document has it (its id, references by id), with its section. */
export interface StoredEntity {
  readonly section: Section;
  readonly entity: { readonly id: string } & Readonly<Record<string, unknown>>;
}

/** What a change wrote: entities created or replaced, and entities deleted (by id). */
export interface EntityChanges {
  readonly upserts: readonly StoredEntity[];
  readonly deletes: ReadonlyArray<{ readonly section: Section; readonly id: string }>;
}

/** Changes another node committed since this store last loaded or saved (see `ConfigStore.loadChanges`). */
export interface StoredChanges {
  readonly changes: EntityChanges;
  /** `configHash` of the configuration they lead to. */
  readonly hash: string;
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
  /**
   * Writes only `changes` (a store of one row per entity): the same as `save(document(), hash)`
   * where `document()` is the stored document with `changes` made, without writing or diffing the
   * rest. `document` is there for what needs the whole document all the same.
   */
  saveChanges?(changes: EntityChanges, hash: string, document: () => DeckDocument): Promise<void>;
  /**
   * The entity changes committed elsewhere since this store last loaded or saved; null when the
   * store cannot say (no change log, a gap in it, a change too large to log, a database restored
   * to an older version): `load` the whole configuration then.
   */
  loadChanges?(): Promise<StoredChanges | null>;
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
