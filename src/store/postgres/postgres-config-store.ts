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
import { ConfigConflictError, StoreUnavailableError, type ConfigStore, type StoredConfig } from '../config-store.js';

export { ConfigConflictError };
import { ENTITY_TABLES } from './migrations.js';
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
    const writes = SECTIONS.map((section) => {
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
      const formatVersion = typeof document['_format_version'] === 'string' ? document['_format_version'] : '3.0';
      await client.query('UPDATE config_state SET version = $1, hash = $2, format_version = $3, changed_at = now()', [version, hash, formatVersion]);
      await client.query('INSERT INTO config_changes (version, hash, node_id) VALUES ($1, $2, $3)', [version, hash, this.#nodeId]);
      await client.query('SELECT pg_notify($1, $2)', [CONFIG_CHANNEL, String(version)]);
      return { version, inserted, updated, deleted };
    });
    this.#version = stats.version;
    this.#known = next;
    await this.#keepCopy(document, hash);
    return stats;
  }
}
