/**
 * The one way a configuration changes while the gateway runs: admin entity requests, `POST /config`
 * and the `--declarative-config` loaded at start all end here. A change is
 *
 *   1. an edit of the current document (canonical decK, references by id),
 *   2. validated as a whole new configuration (`loadConfigObject`): if anything is wrong, nothing
 *      changes and every error comes back with its path,
 *   3. saved durably (the store's atomic replace),
 *   4. compiled and made live (`apply`); in-flight requests finish on the old runtime.
 *
 * Saving before applying makes "acknowledged" mean "durable and live". If the save fails nothing
 * changed, neither on disk nor in memory. If compiling fails (validation passed, so this is rare),
 * the previous document is saved back and the change is refused. Changes run one at a time.
 *
 * With a store shared by several nodes (PostgreSQL), a change runs under the store's exclusive lock
 * on the configuration the database has (adopted first when another node committed since), and
 * `refresh()` makes another node's commit live here.
 */
import { configHash, loadConfigObject } from '../config/index.js';
import { exportConfig, type ExportOptions, type DeckDocument } from '../config/export.js';
import type { Config, ConfigError } from '../config/types.js';
import type { PluginSchema } from '../pipeline/plugin.js';
import { ConfigConflictError, type ConfigStore, type EntityChanges } from './config-store.js';
import { applyStoredChanges, createLeafEntity, isLeafSection } from './incremental-change.js';
import { SerialQueue } from './serial-queue.js';

/**
 * The canonical document: references by id (renaming never breaks what points at an entity), and
 * targets top level (the admin API edits each section's list in place).
 */
const CANONICAL: ExportOptions = { references: 'id', children: 'flat' };

export interface ConfigManagerOptions {
  readonly store: ConfigStore;
  /** Plugin schemas for validation. */
  readonly plugins: ReadonlyMap<string, PluginSchema>;
  /** The live configuration. */
  readonly current: () => Config;
  /**
   * Compiles and swaps in a configuration; throws (keeping the old one) when it cannot. May be
   * async: with --workers it resolves once every worker serves the new configuration.
   */
  readonly apply: (config: Config) => void | Promise<void>;
  /**
   * A store shared with other nodes (PostgreSQL): a save refused because another node committed
   * first is redone on the configuration reloaded from the store, up to this many times.
   */
  readonly conflictRetries?: number;
}

/** Redo an edit at most this often when other nodes keep committing first. */
const DEFAULT_CONFLICT_RETRIES = 5;

export type ChangeResult<T> =
  | { readonly ok: true; readonly config: Config; readonly changed: boolean; readonly value: T }
  | { readonly ok: false; readonly errors: readonly ConfigError[]; readonly document: DeckDocument };

/** An edit: changes `document` in place (or returns a replacement) and returns a value for the caller. */
export type Edit<T> = (document: DeckDocument, current: Config) => { value: T; replacement?: unknown };

/** Thrown when saving back the previous document after a failed compile also failed. */
export class ConfigApplyError extends Error {
  override readonly name = 'ConfigApplyError';
}

export class ConfigManager {
  readonly #options: ConfigManagerOptions;
  readonly #queue = new SerialQueue();

  constructor(options: ConfigManagerOptions) {
    this.#options = options;
  }

  /** The canonical document of the live configuration (references by id, keys included). */
  document(): DeckDocument {
    return exportConfig(this.#options.current(), CANONICAL);
  }

  /**
   * Applies `edit` to the current document and, if the result is valid, saves and activates it.
   * Errors thrown by `edit` propagate unchanged (nothing is changed then).
   */
  change<T>(edit: Edit<T>): Promise<ChangeResult<T>> {
    return this.#exclusively(() => this.#change(edit));
  }

  /**
   * The creation of one entity (`body`, its fields as the admin API took them, with its id) that
   * `edit` makes on the document. A consumer or a credential is checked on its own and only it is
   * written (see incremental-change.ts); anything that needs the whole document to decide, or
   * another kind, is `change(edit)`.
   */
  create(section: string, body: Record<string, unknown> & { readonly id: string }, edit: Edit<string>): Promise<ChangeResult<string>> {
    return this.#exclusively(async () => {
      if (isLeafSection(section)) {
        const current = this.#options.current();
        const created = createLeafEntity(current, section, body, this.#options.plugins);
        if (created !== null) {
          try {
            await this.#commitChanges(created.config, created.changes, current);
            return { ok: true, config: created.config, changed: true, value: created.id };
          } catch (error) {
            // Another node committed first after all: the whole-document path redoes it on theirs.
            if (!(error instanceof ConfigConflictError)) throw error;
            await this.#adoptStored();
          }
        }
      }
      return this.#change(edit);
    });
  }

  /** `task` after the changes queued before it, under the store's lock, on the store's latest configuration. */
  #exclusively<T>(task: () => Promise<T>): Promise<T> {
    const store = this.#options.store;
    return this.#queue.run(() =>
      store.exclusive === undefined
        ? task()
        : store.exclusive(async (behind) => {
            // Another node committed since: edit its configuration, not this node's older one.
            if (behind) await this.#adoptStored();
            return task();
          }),
    );
  }

  async #change<T>(edit: Edit<T>): Promise<ChangeResult<T>> {
    for (let attempt = 0; ; attempt++) {
      const current = this.#options.current();
      const document = exportConfig(current, CANONICAL);
      const { value, replacement } = edit(document, current);
      const candidate = replacement ?? document;
      const loaded = loadConfigObject(candidate, { plugins: this.#options.plugins, entityAtATime: replacement === undefined });
      if (!loaded.ok) return { ok: false, errors: loaded.errors, document: candidate as DeckDocument };
      const hash = configHash(loaded.config);
      if (hash === configHash(current)) return { ok: true, config: current, changed: false, value };
      try {
        await this.#commit(loaded.config, hash, current);
      } catch (error) {
        // Another node committed first: take its configuration, then redo this edit on top of it.
        if (!(error instanceof ConfigConflictError) || attempt >= (this.#options.conflictRetries ?? DEFAULT_CONFLICT_RETRIES)) throw error;
        await this.#adoptStored();
        continue;
      }
      return { ok: true, config: loaded.config, changed: true, value };
    }
  }

  /**
   * Makes the store's configuration live when it differs from the current one (another node of a
   * shared database changed it), after the changes already queued. Nothing is saved.
   */
  refresh(): Promise<boolean> {
    return this.#queue.run(() => this.#adoptStored());
  }

  async #adoptStored(): Promise<boolean> {
    // Only what changed, where the store can say and the changes can be made on their own; the
    // result must be the very configuration the writer hashed, or the whole one is loaded.
    const changed = await this.#options.store.loadChanges?.();
    if (changed != null) {
      const current = this.#options.current();
      if (changed.hash === configHash(current)) return false;
      const next = applyStoredChanges(current, changed.changes, this.#options.plugins);
      if (next !== null && configHash(next) === changed.hash) {
        await this.#options.apply(next);
        return true;
      }
    }
    const stored = await this.#options.store.load();
    if (stored === null || stored.hash === configHash(this.#options.current())) return false;
    // Saved state was accepted when it was made, possibly entity by entity.
    const loaded = loadConfigObject(stored.document, { plugins: this.#options.plugins, entityAtATime: true });
    if (!loaded.ok) throw new Error(`the stored configuration does not load: ${loaded.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    await this.#options.apply(loaded.config);
    return true;
  }

  /** What would be wrong with `document` as the configuration; nothing is changed. */
  problems(document: unknown): readonly ConfigError[] {
    const loaded = loadConfigObject(document, { plugins: this.#options.plugins, entityAtATime: true });
    return loaded.ok ? [] : loaded.errors;
  }

  /** Replaces the whole configuration (POST /config, --declarative-config). */
  replace(document: unknown): Promise<ChangeResult<null>> {
    return this.change(() => ({ value: null, replacement: document }));
  }

  /** Saves the live configuration as it is (the `--declarative-config` loaded at start). */
  saveCurrent(): Promise<void> {
    return this.#queue.run(async () => {
      const current = this.#options.current();
      await this.#options.store.save(exportConfig(current, CANONICAL), configHash(current));
    });
  }

  /** `#commit` of a change of a few entities: only they are written where the store can. */
  async #commitChanges(config: Config, changes: EntityChanges, previous: Config): Promise<void> {
    const store = this.#options.store;
    if (store.saveChanges === undefined) return this.#commit(config, configHash(config), previous);
    await store.saveChanges(changes, configHash(config), () => exportConfig(config, CANONICAL));
    try {
      await this.#options.apply(config);
    } catch (error) {
      // As #commit: the previous configuration saved back (the created entities deleted again).
      const undo: EntityChanges = { upserts: [], deletes: changes.upserts.map(({ section, entity }) => ({ section, id: entity.id })) };
      try {
        await store.saveChanges(undo, configHash(previous), () => exportConfig(previous, CANONICAL));
      } catch (restoreError) {
        throw new ConfigApplyError(
          `the configuration could not be compiled (${String(error)}) and the previous one could not be saved back (${String(restoreError)})`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async #commit(config: Config, hash: string, previous: Config): Promise<void> {
    await this.#options.store.save(exportConfig(config, CANONICAL), hash);
    try {
      await this.#options.apply(config);
    } catch (error) {
      try {
        await this.#options.store.save(exportConfig(previous, { references: 'id' }), configHash(previous));
      } catch (restoreError) {
        throw new ConfigApplyError(
          `the configuration could not be compiled (${String(error)}) and the previous one could not be saved back (${String(restoreError)})`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}
