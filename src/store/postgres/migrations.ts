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
export const ENTITY_TABLES = [
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

// \`seq\` keeps creation order (Kong orders ties by created_at): a configuration loads in the order its
// entities were created, the same on every node.
const entityTable = (table: string): string => `
CREATE TABLE ${table} (
  id uuid PRIMARY KEY,
  seq bigint NOT NULL DEFAULT nextval('entity_seq'),
  entity jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ${table}_seq ON ${table} (seq);`;

/**
 * 000_base: the entity tables (the entity as the configuration's canonical document has it; the
 * whole configuration is validated before a transaction commits it, so references and uniqueness
 * hold), the configuration's version (one row, the point where writers from every node serialise),
 * the change log nodes catch up from, and the nodes seen.
 */
const BASE = `
CREATE SEQUENCE entity_seq;
${ENTITY_TABLES.map(entityTable).join('\n')}

CREATE TABLE config_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version bigint NOT NULL,
  hash text NOT NULL,
  format_version text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);
-- Version 0 is "nothing saved yet"; the row exists from the start, so that the first saves from two
-- nodes at once serialise on it like every later one.
INSERT INTO config_state (version, hash, format_version) VALUES (0, '', '3.0');

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

/**
 * 001_change_entities: which entities each version wrote, so that a node following the others
 * reads those rows only instead of every table. `config_changes.entities` counts them; NULL (a
 * writer from before this migration, a change too large to log) means "reload everything".
 */
const CHANGE_ENTITIES = `
ALTER TABLE config_changes ADD COLUMN entities integer;
CREATE TABLE config_change_entities (
  version bigint NOT NULL REFERENCES config_changes (version) ON DELETE CASCADE,
  section text NOT NULL,
  id uuid NOT NULL,
  deleted boolean NOT NULL,
  PRIMARY KEY (version, section, id)
);
`;

export const MIGRATIONS: readonly Migration[] = [
  { name: '000_base', sql: BASE },
  { name: '001_change_entities', sql: CHANGE_ENTITIES },
];

/** The table of 001_change_entities: a store on a database without it works as before it (whole reloads). */
export const CHANGE_ENTITIES_TABLE = 'config_change_entities';

/** Table of the migrations run so far (Kong's is `schema_meta`). */
export const MIGRATIONS_TABLE = 'portcullis_migrations';
