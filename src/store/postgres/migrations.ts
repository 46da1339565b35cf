/**
 * The PostgreSQL schema, as versioned migrations in the manner of `kong migrations`: each one's SQL
 * is fixed once released (a later change is a new migration, never an edit), run in order, once,
 * each in a transaction with its record in `portcullis_migrations`.
 */
export interface Migration {
  readonly name: string;
  readonly sql: string;
}

/** One table per entity kind (decK's sections), as Kong keeps them: per-entity writes, not a document rewrite. */
const ENTITY_TABLES = [
  'services',
  'routes',
  'consumers',
  'plugins',
  'ca_certificates',
  'certificates',
  'upstreams',
  'targets',
  'keyauth_credentials',
  'acls',
  'basicauth_credentials',
  'jwt_secrets',
  'consumer_groups',
] as const;

const entityTable = (table: string): string => `
CREATE TABLE ${table} (
  id uuid PRIMARY KEY,
  entity jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);`;

/**
 * 000_base: the entity tables (the entity as the configuration's canonical document has it; the
 * whole configuration is validated before a transaction commits it, so references and uniqueness
 * hold), the configuration's version (one row, the point where writers from every node serialise),
 * the change log nodes catch up from, and the nodes seen.
 */
const BASE = `
${ENTITY_TABLES.map(entityTable).join('\n')}

CREATE TABLE config_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version bigint NOT NULL,
  hash text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE config_changes (
  version bigint PRIMARY KEY,
  hash text NOT NULL,
  node_id text,
  changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cluster_nodes (
  id text PRIMARY KEY,
  hostname text NOT NULL,
  config_hash text,
  last_seen timestamptz NOT NULL DEFAULT now()
);
`;

export const MIGRATIONS: readonly Migration[] = [{ name: '000_base', sql: BASE }];

/** Table of the migrations run so far (Kong's is `schema_meta`). */
export const MIGRATIONS_TABLE = 'portcullis_migrations';
