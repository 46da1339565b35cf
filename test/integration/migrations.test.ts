/**
 * `portcullis migrations` against a real PostgreSQL server: list before bootstrap (exit 3), two
 * bootstraps at once (one makes the schema, the other finds it made), the entity tables, `up` with
 * nothing to do, a schema of its own (--pg-schema), new migrations run once even when two nodes run
 * `up` at once (list exit 5 before), and the errors: an unreachable server, a wrong password
 * (never printed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { schemaState, up } from '../../src/store/postgres/migrate.js';
import { postgresPool } from '../../src/store/postgres/pg-pool.js';
import { postgresSettings } from '../../src/store/postgres/pg-settings.js';
import { portcullis } from '../helpers/cli.js';
import { closedPort } from '../helpers/ports.js';
import { startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';

describe('portcullis migrations', () => {
  let pg: PostgresServer;
  let flags: string[];

  before(async () => {
    pg = await startPostgresServer();
    // A node's own flags, --database postgres included.
    flags = pg.flags;
  });
  after(() => pg.stop());

  const tables = async (schema = 'public'): Promise<string[]> =>
    (await pg.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])).rows.map((r) => r.table_name);

  it('says a new database needs bootstrapping (exit 3), as kong migrations list', async () => {
    const list = await portcullis(['migrations', 'list', ...flags]);
    assert.equal(list.code, 3, list.stderr);
    assert.match(list.stdout, /needs bootstrapping: run 'portcullis migrations bootstrap'/);
  });

  it('bootstraps once when two nodes bootstrap at the same time, with a table per entity kind', async () => {
    const runs = await Promise.all([portcullis(['migrations', 'bootstrap', ...flags]), portcullis(['migrations', 'bootstrap', ...flags])]);
    assert.deepEqual(runs.map((r) => r.code), [0, 0], runs.map((r) => r.stderr).join('\n'));
    const outputs = runs.map((r) => r.stdout).sort();
    assert.match(outputs[0] ?? '', /^Bootstrapped database 'portcullis' at 127\.0\.0\.1:\d+: 2 migrations executed \(000_base, 001_change_entities\)/);
    assert.match(outputs[1] ?? '', /^Database already bootstrapped/);
    const made = await tables();
    for (const table of ['services', 'routes', 'consumers', 'plugins', 'upstreams', 'targets', 'keyauth_credentials', 'acls', 'config_state', 'config_changes', 'config_change_entities', 'cluster_nodes', 'portcullis_migrations']) {
      assert.ok(made.includes(table), `table ${table} in ${made.join(', ')}`);
    }
    const list = await portcullis(['migrations', 'list', ...flags]);
    assert.equal(list.code, 0);
    assert.equal(list.stdout.trim(), 'Executed migrations:\n  000_base\n  001_change_entities');
    const again = await portcullis(['migrations', 'up', ...flags]);
    assert.equal(again.code, 0);
    assert.equal(again.stdout.trim(), 'Database is already up-to-date');
  });

  it('keeps its tables in the schema --pg-schema names, made by bootstrap', async () => {
    const inSchema = [...flags, '--pg-schema', 'gateway_config'];
    const run = await portcullis(['migrations', 'bootstrap', ...inSchema]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok((await tables('gateway_config')).includes('services'));
    assert.equal((await portcullis(['migrations', 'list', ...inSchema])).code, 0);
  });

  it('finds new migrations pending and runs each once when two nodes run up at the same time', async () => {
    const settings = postgresSettings({ 'pg-host': pg.host, 'pg-port': String(pg.port), 'pg-user': pg.user, 'pg-password': pg.password, 'pg-database': pg.database });
    const next = [...MIGRATIONS, { name: '999_test_counter', sql: 'CREATE TABLE test_counter (n int); INSERT INTO test_counter VALUES (1);' }];
    const pools = [postgresPool(settings), postgresPool(settings)];
    try {
      assert.deepEqual((await schemaState(pools[0]!, next)).pending, ['999_test_counter']);
      const results = await Promise.all(pools.map((pool) => up(pool, next)));
      assert.deepEqual(results.map((r) => r.executed).sort(), [[], ['999_test_counter']]);
      assert.equal((await pg.query<{ count: string }>('SELECT count(*) FROM test_counter')).rows[0]?.count, '1');
      const list = await portcullis(['migrations', 'list', ...flags]);
      assert.equal(list.code, 0, 'a migration this version does not know is not "pending"');
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuses settings that cannot work, in one line naming the flag', async () => {
    const declarative = await portcullis(['start', '--database', 'postgres', '--declarative-config', 'kong.yaml']);
    assert.equal(declarative.code, 1);
    assert.match(declarative.stderr, /--declarative-config is for --database off; load a file into PostgreSQL with 'portcullis sync FILE'/);
    const unknown = await portcullis(['start', '--database', 'mysql']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /--database: 'mysql' is not off or postgres/);
    const off = await portcullis(['migrations', 'list', '--database', 'off']);
    assert.equal(off.code, 2);
    assert.match(off.stderr, /--database off has no migrations/);
    const schema = await portcullis(['migrations', 'list', '--pg-schema', 'Bad-Name']);
    assert.equal(schema.code, 1);
    assert.match(schema.stderr, /--pg-schema must be a plain lower-case identifier/);
  });

  it('fails in one line, exit 1, when the server cannot be reached or refuses the password (which it never prints)', async () => {
    const unreachable = await portcullis(['migrations', 'list', '--pg-host', '127.0.0.1', '--pg-port', String(await closedPort()), '--pg-timeout', '2000']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^portcullis migrations: database 'portcullis' at 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    const wrong = await portcullis(['migrations', 'list', ...flags.map((f) => (f === pg.password ? 'not-the-password-123' : f))]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /password authentication failed/);
    assert.ok(!wrong.stderr.includes('not-the-password-123') && !wrong.stdout.includes('not-the-password-123'));
  });
});
