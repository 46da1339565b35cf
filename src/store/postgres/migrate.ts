import type pg from 'pg';
import { MIGRATIONS, MIGRATIONS_TABLE, type Migration } from './migrations.js';
import { inTransaction } from './pg-pool.js';
import type { PostgresSettings } from './pg-settings.js';

export interface SchemaState {
  /** No Portcullis schema yet: `bootstrap` makes it. */
  readonly needsBootstrap: boolean;
  readonly executed: readonly string[];
  /** Known to this version, not run yet: `up` runs them. */
  readonly pending: readonly string[];
}

/**
 * Migrations from two nodes at once are safe: each run holds this transaction-level advisory lock,
 * so the second waits and then finds nothing left to do.
 */
const LOCK = "SELECT pg_advisory_xact_lock(hashtext('portcullis:migrations'))";

async function executedNames(client: pg.ClientBase): Promise<string[] | null> {
  const exists = await client.query<{ table: string | null }>('SELECT to_regclass($1)::text AS table', [MIGRATIONS_TABLE]);
  if (exists.rows[0]?.table == null) return null;
  const rows = await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name`);
  return rows.rows.map((row) => row.name);
}

function stateOf(executed: readonly string[] | null, known: readonly Migration[]): SchemaState {
  if (executed === null) return { needsBootstrap: true, executed: [], pending: known.map((m) => m.name) };
  return { needsBootstrap: false, executed, pending: known.filter((m) => !executed.includes(m.name)).map((m) => m.name) };
}

export async function schemaState(pool: pg.Pool, known: readonly Migration[] = MIGRATIONS): Promise<SchemaState> {
  const client = await pool.connect();
  try {
    return stateOf(await executedNames(client), known);
  } finally {
    client.release();
  }
}

async function run(client: pg.ClientBase, migrations: readonly Migration[]): Promise<string[]> {
  for (const migration of migrations) {
    await client.query(migration.sql);
    await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (name) VALUES ($1)`, [migration.name]);
  }
  return migrations.map((m) => m.name);
}

/** Makes the schema on an empty database and runs every migration; on a bootstrapped one, nothing (`executed` empty). */
export function bootstrap(pool: pg.Pool, settings: PostgresSettings, known: readonly Migration[] = MIGRATIONS): Promise<{ readonly alreadyBootstrapped: boolean; readonly executed: readonly string[] }> {
  return inTransaction(pool, async (client) => {
    await client.query(LOCK);
    if (settings.schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS ${settings.schema}`);
    if ((await executedNames(client)) !== null) return { alreadyBootstrapped: true, executed: [] };
    await client.query(`CREATE TABLE ${MIGRATIONS_TABLE} (name text PRIMARY KEY, executed_at timestamptz NOT NULL DEFAULT now())`);
    return { alreadyBootstrapped: false, executed: await run(client, known) };
  });
}

/** Runs the pending migrations, in order, in one transaction. A database never bootstrapped is an error. */
export function up(pool: pg.Pool, known: readonly Migration[] = MIGRATIONS): Promise<{ readonly executed: readonly string[] }> {
  return inTransaction(pool, async (client) => {
    await client.query(LOCK);
    const state = stateOf(await executedNames(client), known);
    if (state.needsBootstrap) throw new NeedsBootstrapError();
    return { executed: await run(client, known.filter((m) => state.pending.includes(m.name))) };
  });
}

export class NeedsBootstrapError extends Error {
  override readonly name = 'NeedsBootstrapError';
  constructor() {
    super("the database has no Portcullis schema: run 'portcullis migrations bootstrap'");
  }
}
