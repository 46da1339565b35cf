/**
 * The configuration in PostgreSQL, one row per entity (a table per kind), for gateways that share
 * one database. A save writes only the entities that changed, in one transaction that first locks
 * the version row: if another node committed since this store last loaded or saved, the save is
 * refused (`ConfigConflictError`) and nothing is written, so no change is ever lost to a concurrent
 * one. Each commit adds a row to the change log and notifies the other nodes (`NOTIFY`).
 */
import pg from 'pg';
import type { DeckDocument } from '../../config/export.js';
import { canonicalJson } from '../../config/hash.js';
import { SECTIONS, type Section } from '../entity-keys.js';
import { ConfigConflictError, StoreUnavailableError, type ConfigStore, type EntityChanges, type StoredChanges, type StoredConfig, type StoredEntity } from '../config-store.js';

export { ConfigConflictError };
import { CHANGE_ENTITIES_TABLE, ENTITY_TABLES } from './migrations.js';
import { inTransaction } from './pg-pool.js';

const CHANGE_LOCK = "SELECT pg_advisory_lock(hashtext('portcullis:config-change'))";
const CHANGE_UNLOCK = "SELECT pg_advisory_unlock(hashtext('portcullis:config-change'))";

/** The channel nodes LISTEN on; the payload is the new version. */
export const CONFIG_CHANNEL = 'portcullis_config';

/**
 * Where a node keeps the last configuration it read from or wrote to the database (the prefix's file
 * store), so that it can start while the database is down.
 */
export interface LocalCopy {
  readonly store: ConfigStore;
  /** A copy that could not be written: logged, the change itself stands. */
  readonly failed: (error: unknown) => void;
}

/** What one save wrote. */
export interface SaveStats {
  readonly version: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
}

interface Entity {
  readonly id: string;
  readonly [field: string]: unknown;
}

/**
 * The canonical JSON (keys sorted: jsonb does not keep key order) of each known entity per section,
 * by id: what the database holds as of `version`.
 */
type Known = Map<Section, Map<string, string>>;

/** What one commit writes in one section. */
interface SectionWrite {
  readonly section: Section;
  readonly upserts: readonly Entity[];
  readonly deletes: readonly string[];
  /** How many of the upserts are new entities. */
  readonly inserts: number;
}

/**
 * A commit of more entities than this is not logged entity by entity: the nodes following it
 * reload everything, cheaper then than reading a log as large as the tables.
 */
const MAX_LOGGED_ENTITIES = 10_000;

function sectionEntities(document: DeckDocument, section: Section): Entity[] {
  const list = document[section];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`the document's ${section} is not a list`);
  return list.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || typeof (entry as Entity).id !== 'string') throw new TypeError(`${section}[${i}] has no id`);
    return entry as Entity;
  });
}

/**
 * A failure to reach the database (refused, timed out, the connection lost; the server shutting down
 * or out of connections: SQLSTATE classes 08, 57, 53) as StoreUnavailableError; any other error, a
 * statement the server refused, is left as it is.
 */
function unavailable(error: unknown, where: string): Error {
  if (error instanceof ConfigConflictError) return error;
  if (error instanceof pg.DatabaseError && !/^(08|57|53)/.test(error.code ?? '')) return error;
  if (error instanceof Error && !isConnectionFailure(error)) return error;
  return new StoreUnavailableError(`PostgreSQL (${where}) cannot be reached: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** Not a statement the server refused: the connection itself failed (pg's own errors, socket errors, timeouts). */
function isConnectionFailure(error: Error): boolean {
  return !(error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError);
}

export class PostgresConfigStore implements ConfigStore {
  readonly #pool: pg.Pool;
  readonly #nodeId: string;
  #version = 0;
  /** Whether the database has the per-entity change log; null: not asked yet. */
  #changeLog: boolean | null = null;
  #known: Known = new Map(SECTIONS.map((s) => [s, new Map<string, string>()]));

  readonly #where: string;
  readonly #localCopy: LocalCopy | null;

  constructor(pool: pg.Pool, nodeId: string, where = 'the configuration database', localCopy: LocalCopy | null = null) {
    const missing = SECTIONS.filter((section) => !(ENTITY_TABLES as readonly string[]).includes(section));
    if (missing.length > 0) throw new Error(`no PostgreSQL table for ${missing.join(', ')}: a migration is missing`);
    this.#pool = pool;
    this.#nodeId = nodeId;
    this.#where = where;
    this.#localCopy = localCopy;
  }

  /** Keeps the local copy on what this node last read or wrote; a failure there never fails the change. */
  async #keepCopy(document: DeckDocument, hash: string): Promise<void> {
    if (this.#localCopy === null) return;
    await this.#localCopy.store.save(document, hash).catch((error: unknown) => this.#localCopy?.failed(error));
  }

  /** The version this store last loaded or saved (0: none). */
  get version(): number {
    return this.#version;
  }

  load(): Promise<(StoredConfig & { readonly version: number }) | null> {
    return this.#load().catch((error: unknown) => Promise.reject(unavailable(error, this.#where)));
  }

  async #load(): Promise<(StoredConfig & { readonly version: number }) | null> {
    const client = await this.#pool.connect();
    try {
      // One snapshot for the version row and every table: a commit in between cannot be half seen.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const state = await client.query<{ version: string; hash: string; format_version: string; changed_at: Date }>('SELECT version, hash, format_version, changed_at FROM config_state');
      const row = state.rows[0];
      if (row === undefined) throw new Error('config_state has no row: the database was not bootstrapped by portcullis migrations');
      if (row.version === '0') {
        await client.query('COMMIT');
        return null;
      }
      const document: Record<string, unknown> = { _format_version: row.format_version };
      const known: Known = new Map();
      for (const section of SECTIONS) {
        const rows = await client.query<{ entity: Entity }>(`SELECT entity FROM ${section} ORDER BY seq`);
        document[section] = rows.rows.map((r) => r.entity);
        known.set(section, new Map(rows.rows.map((r) => [r.entity.id, canonicalJson(r.entity)])));
      }
      await client.query('COMMIT');
      this.#version = Number(row.version);
      this.#known = known;
      await this.#keepCopy(document, row.hash);
      return { document, hash: row.hash, savedAt: row.changed_at.toISOString(), version: this.#version };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async save(document: DeckDocument, hash: string): Promise<void> {
    await this.saveWithStats(document, hash);
  }

  /**
   * Runs `change` holding a session advisory lock that every node's changes take, after reading the
   * version: `behind` says another node committed since this store last loaded or saved. The lock
   * dies with its connection, so a node that dies mid-change holds nobody up.
   */
  async exclusive<T>(change: (behind: boolean) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    let behind: boolean;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw unavailable(error, this.#where);
    }
    try {
      await client.query(CHANGE_LOCK);
      const { rows } = await client.query<{ version: string }>('SELECT version FROM config_state');
      behind = Number(rows[0]?.version ?? 0) !== this.#version;
    } catch (error) {
      client.release(true);
      throw unavailable(error, this.#where);
    }
    try {
      return await change(behind);
    } finally {
      await client.query(CHANGE_UNLOCK).then(
        () => client.release(),
        () => client.release(true),
      );
    }
  }

  /** `save`, saying what it wrote. */
  saveWithStats(document: DeckDocument, hash: string): Promise<SaveStats> {
    return this.#save(document, hash).catch((error: unknown) => Promise.reject(unavailable(error, this.#where)));
  }

  async #save(document: DeckDocument, hash: string): Promise<SaveStats> {
    const next: Known = new Map();
    const writes = SECTIONS.map((section): SectionWrite => {
      const entities = sectionEntities(document, section);
      const known = this.#known.get(section) ?? new Map<string, string>();
      const json = new Map(entities.map((e) => [e.id, canonicalJson(e)]));
      next.set(section, json);
      return {
        section,
        upserts: entities.filter((e) => known.get(e.id) !== json.get(e.id)),
        deletes: [...known.keys()].filter((id) => !json.has(id)),
        inserts: entities.filter((e) => !known.has(e.id)).length,
      };
    });
    const stats = await this.#commit(writes, hash, typeof document['_format_version'] === 'string' ? document['_format_version'] : '3.0');
    this.#known = next;
    await this.#keepCopy(document, hash);
    return stats;
  }

  /**
   * Writes only `changes`, as `save` of the document they make would: the same rows, the same
   * version, change log and notification; no other entity is read, compared or written.
   */
  saveChanges(changes: EntityChanges, hash: string, document: () => DeckDocument): Promise<void> {
    return this.#saveChanges(changes, hash, document).catch((error: unknown) => Promise.reject(unavailable(error, this.#where)));
  }

  async #saveChanges(changes: EntityChanges, hash: string, document: () => DeckDocument): Promise<void> {
    const writes = SECTIONS.flatMap((section): SectionWrite[] => {
      const known = this.#known.get(section) ?? new Map<string, string>();
      const upserts = changes.upserts.filter((c) => c.section === section).map((c) => c.entity);
      const deletes = changes.deletes.filter((c) => c.section === section && known.has(c.id)).map((c) => c.id);
      return upserts.length === 0 && deletes.length === 0 ? [] : [{ section, upserts, deletes, inserts: upserts.filter((e) => !known.has(e.id)).length }];
    });
    // A format version is one of the whole document's: a change of entities keeps the stored one.
    await this.#commit(writes, hash, null);
    this.#remember(changes);
    await this.#keepChanges(changes, hash, document);
  }

  /** Makes `#known` what the database holds after `changes`. */
  #remember(changes: EntityChanges): void {
    for (const { section, id } of changes.deletes) this.#known.get(section)?.delete(id);
    for (const { section, entity } of changes.upserts) {
      let known = this.#known.get(section);
      if (known === undefined) this.#known.set(section, (known = new Map<string, string>()));
      known.set(entity.id, canonicalJson(entity));
    }
  }

  /**
   * The local copy after a change of a few entities: appended to, not rewritten, where it can be.
   * Without `document` (a change read from the database, not made here) a copy that cannot append
   * stays as it was until the next whole load or save.
   */
  async #keepChanges(changes: EntityChanges, hash: string, document?: () => DeckDocument): Promise<void> {
    const copy = this.#localCopy;
    if (copy === null) return;
    const noDocument = (): DeckDocument => {
      throw new Error('the local copy cannot take a change without the whole document');
    };
    if (copy.store.saveChanges !== undefined) await copy.store.saveChanges(changes, hash, document ?? noDocument).catch((error: unknown) => copy.failed(error));
    else if (document !== undefined) await copy.store.save(document(), hash).catch((error: unknown) => copy.failed(error));
  }

  /** Whether the database has the per-entity change log (migration 001); asked once. */
  async #hasChangeLog(client: pg.ClientBase): Promise<boolean> {
    if (this.#changeLog === null) {
      const { rows } = await client.query<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [CHANGE_ENTITIES_TABLE]);
      this.#changeLog = rows[0]?.table != null;
    }
    return this.#changeLog;
  }

  async #commit(writes: readonly SectionWrite[], hash: string, formatVersion: string | null): Promise<SaveStats> {
    const stats = await inTransaction(this.#pool, async (client) => {
      const state = await client.query<{ version: string }>('SELECT version FROM config_state FOR UPDATE');
      if (state.rows[0] === undefined) throw new Error('config_state has no row: the database was not bootstrapped by portcullis migrations');
      const current = Number(state.rows[0].version);
      if (current !== this.#version) throw new ConfigConflictError(`the configuration changed on another node (version ${current}, this node has ${this.#version})`);
      let inserted = 0;
      let updated = 0;
      let deleted = 0;
      for (const { section, upserts, deletes, inserts } of writes) {
        if (deletes.length > 0) await client.query(`DELETE FROM ${section} WHERE id = ANY($1::uuid[])`, [deletes]);
        // New entities get their creation order from the sequence, in document order (unnest keeps it).
        if (upserts.length > 0) {
          await client.query(
            `INSERT INTO ${section} (id, entity) SELECT id, entity FROM unnest($1::uuid[], $2::jsonb[]) WITH ORDINALITY AS t(id, entity, n) ORDER BY n
             ON CONFLICT (id) DO UPDATE SET entity = EXCLUDED.entity, updated_at = now()`,
            [upserts.map((e) => e.id), upserts.map((e) => JSON.stringify(e))],
          );
        }
        inserted += inserts;
        updated += upserts.length - inserts;
        deleted += deletes.length;
      }
      const version = current + 1;
      await client.query(
        formatVersion === null ? 'UPDATE config_state SET version = $1, hash = $2, changed_at = now()' : 'UPDATE config_state SET version = $1, hash = $2, format_version = $3, changed_at = now()',
        formatVersion === null ? [version, hash] : [version, hash, formatVersion],
      );
      await this.#logChange(client, version, hash, writes);
      await client.query('SELECT pg_notify($1, $2)', [CONFIG_CHANNEL, String(version)]);
      return { version, inserted, updated, deleted };
    });
    this.#version = stats.version;
    return stats;
  }

  /** The version's row in the change log, with the entities it wrote where the database keeps them. */
  async #logChange(client: pg.ClientBase, version: number, hash: string, writes: readonly SectionWrite[]): Promise<void> {
    if (!(await this.#hasChangeLog(client))) {
      await client.query('INSERT INTO config_changes (version, hash, node_id) VALUES ($1, $2, $3)', [version, hash, this.#nodeId]);
      return;
    }
    const sections: string[] = [];
    const ids: string[] = [];
    const deleted: boolean[] = [];
    for (const { section, upserts, deletes } of writes) {
      for (const e of upserts) {
        sections.push(section);
        ids.push(e.id);
        deleted.push(false);
      }
      for (const id of deletes) {
        sections.push(section);
        ids.push(id);
        deleted.push(true);
      }
    }
    const logged = ids.length <= MAX_LOGGED_ENTITIES;
    await client.query('INSERT INTO config_changes (version, hash, node_id, entities) VALUES ($1, $2, $3, $4)', [version, hash, this.#nodeId, logged ? ids.length : null]);
    if (logged && ids.length > 0) {
      await client.query(`INSERT INTO ${CHANGE_ENTITIES_TABLE} (version, section, id, deleted) SELECT $1, * FROM unnest($2::text[], $3::uuid[], $4::boolean[])`, [version, sections, ids, deleted]);
    }
  }

  /** See `ConfigStore.loadChanges`. */
  loadChanges(): Promise<StoredChanges | null> {
    return this.#loadChanges().catch((error: unknown) => Promise.reject(unavailable(error, this.#where)));
  }

  async #loadChanges(): Promise<StoredChanges | null> {
    const client = await this.#pool.connect();
    try {
      // One snapshot for the version, the log and the rows, as `load`.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const found = await this.#readChanges(client);
      await client.query('COMMIT');
      if (found === null) return null;
      this.#version = found.version;
      this.#remember(found.changes);
      // The local copy keeps up as after a load; it needs the whole document only where it cannot append.
      if (found.changes.upserts.length > 0 || found.changes.deletes.length > 0) await this.#keepChanges(found.changes, found.hash);
      return { changes: found.changes, hash: found.hash };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async #readChanges(client: pg.ClientBase): Promise<(StoredChanges & { version: number }) | null> {
    const state = await client.query<{ version: string; hash: string }>('SELECT version, hash FROM config_state');
    const row = state.rows[0];
    if (row === undefined) return null;
    const version = Number(row.version);
    const from = this.#version;
    // Behind the database only, never ahead of it (a restored backup), and with the log to read.
    if (from === 0 || version < from || !(await this.#hasChangeLog(client))) return null;
    const logged = await client.query<{ entities: number | null }>('SELECT entities FROM config_changes WHERE version > $1 AND version <= $2', [from, version]);
    if (logged.rows.length !== version - from || logged.rows.some((r) => r.entities === null)) return null;
    const log = await client.query<{ section: string; id: string; deleted: boolean }>(
      `SELECT section, id, deleted FROM ${CHANGE_ENTITIES_TABLE} WHERE version > $1 AND version <= $2 ORDER BY version`,
      [from, version],
    );
    // Each entity's last change is the one that counts.
    const last = new Map<string, { section: Section; id: string; deleted: boolean }>();
    for (const r of log.rows) {
      if (!(SECTIONS as readonly string[]).includes(r.section)) return null;
      last.set(`${r.section}:${r.id}`, { section: r.section as Section, id: r.id, deleted: r.deleted });
    }
    const deletes = [...last.values()].filter((c) => c.deleted).map(({ section, id }) => ({ section, id }));
    const upserts: StoredEntity[] = [];
    for (const section of SECTIONS) {
      const ids = [...last.values()].filter((c) => c.section === section && !c.deleted).map((c) => c.id);
      if (ids.length === 0) continue;
      const rows = await client.query<{ entity: Entity }>(`SELECT entity FROM ${section} WHERE id = ANY($1::uuid[]) ORDER BY seq`, [ids]);
      if (rows.rows.length !== ids.length) return null;
      upserts.push(...rows.rows.map((r) => ({ section, entity: r.entity })));
    }
    return { version, hash: row.hash, changes: { upserts, deletes } };
  }
}
