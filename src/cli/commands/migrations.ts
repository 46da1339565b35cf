/**
 * `portcullis migrations bootstrap|up|list`: the PostgreSQL schema, as `kong migrations`. Safe to run
 * from several nodes at once (the runs serialise on an advisory lock). `list` exits as Kong's: 0 up
 * to date, 3 when the database needs bootstrapping, 5 when new migrations are available.
 */
import { formatHelp, parseFlags, type FlagSpec } from '../flags.js';
import { bootstrap, NeedsBootstrapError, schemaState, up } from '../../store/postgres/migrate.js';
import { postgresPool } from '../../store/postgres/pg-pool.js';
import { PG_FLAGS, postgresSettings, type PostgresSettings } from '../../store/postgres/pg-settings.js';

const USAGE = 'portcullis migrations bootstrap|up|list [--pg-* options]';

// `--database postgres` is accepted, so that a node's own flags (or PORTCULLIS_* environment) run its migrations.
const FLAGS: Record<string, FlagSpec> = { database: { type: 'string', description: 'postgres (the only database with migrations)', defaultText: 'postgres', env: false }, ...PG_FLAGS };

const where = (s: PostgresSettings): string => `database '${s.database}' at ${s.host}:${s.port}`;

export async function migrationsCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, env);
  const action = positionals[0];
  if (values['help'] === true || positionals.length !== 1 || !['bootstrap', 'up', 'list'].includes(action ?? '')) {
    console.log(formatHelp(USAGE, 'Manages the PostgreSQL schema of --database postgres.', FLAGS));
    return values['help'] === true ? 0 : 2;
  }
  if (values['database'] !== undefined && values['database'] !== 'postgres') {
    console.error(`portcullis migrations: --database ${String(values['database'])} has no migrations (only postgres has)`);
    return 2;
  }
  const settings = postgresSettings(values);
  const pool = postgresPool(settings, { max: 1 });
  try {
    if (action === 'bootstrap') {
      const result = await bootstrap(pool, settings);
      if (result.alreadyBootstrapped) console.log(`Database already bootstrapped (${where(settings)})`);
      else console.log(`Bootstrapped ${where(settings)}: ${result.executed.length} migrations executed (${result.executed.join(', ')})\nDatabase is up-to-date`);
      return 0;
    }
    if (action === 'up') {
      const result = await up(pool);
      console.log(result.executed.length === 0 ? 'Database is already up-to-date' : `${result.executed.length} migrations executed (${result.executed.join(', ')})\nDatabase is up-to-date`);
      return 0;
    }
    const state = await schemaState(pool);
    if (state.needsBootstrap) {
      console.log(`The ${where(settings)} needs bootstrapping: run 'portcullis migrations bootstrap'`);
      return 3;
    }
    console.log(`Executed migrations:\n${state.executed.map((n) => `  ${n}`).join('\n')}`);
    if (state.pending.length > 0) {
      console.log(`\nNew migrations available:\n${state.pending.map((n) => `  ${n}`).join('\n')}\n\nRun 'portcullis migrations up' to proceed`);
      return 5;
    }
    return 0;
  } catch (error) {
    if (error instanceof NeedsBootstrapError) {
      console.error(`portcullis migrations: ${error.message}`);
      return 3;
    }
    console.error(`portcullis migrations: ${where(settings)}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await pool.end();
  }
}
