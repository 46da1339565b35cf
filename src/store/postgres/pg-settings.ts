import type { FlagSpec, FlagValues } from '../../cli/flags.js';

/** Where the configuration database is, with Kong's setting names (`pg_host` → `--pg-host`, `PORTCULLIS_PG_HOST`). */
export interface PostgresSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | null;
  readonly database: string;
  readonly ssl: boolean;
  readonly sslVerify: boolean;
  /** Deadline of connecting and of each query, in ms (Kong's pg_timeout). */
  readonly timeoutMs: number;
  /** Schema the tables live in; null: the user's search_path (normally public). */
  readonly schema: string | null;
}

export const PG_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'pg-host': { type: 'string', description: 'PostgreSQL host.', defaultText: '127.0.0.1', env: true },
  'pg-port': { type: 'string', description: 'PostgreSQL port.', defaultText: '5432', env: true },
  'pg-user': { type: 'string', description: 'PostgreSQL user.', defaultText: 'portcullis', env: true },
  'pg-password': { type: 'string', description: 'PostgreSQL password (prefer PORTCULLIS_PG_PASSWORD: a flag shows in ps).', env: true },
  'pg-database': { type: 'string', description: 'PostgreSQL database.', defaultText: 'portcullis', env: true },
  'pg-ssl': { type: 'string', description: 'Connect over TLS: on or off.', defaultText: 'off', env: true },
  'pg-ssl-verify': { type: 'string', description: "Verify the server's certificate (system CAs and --trusted-certificate): on or off.", defaultText: 'off', env: true },
  'pg-timeout': { type: 'string', description: 'Deadline of connecting and of each query, in ms.', defaultText: '5000', env: true },
  'pg-schema': { type: 'string', description: "Schema of Portcullis's tables; unset: the user's search_path.", env: true },
};

function onOff(value: string | boolean | string[] | undefined, flag: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'on' || value === true) return true;
  if (value === 'off') return false;
  throw new TypeError(`--${flag} must be on or off, not '${String(value)}'`);
}

function integer(value: string | boolean | string[] | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new TypeError(`--${flag} must be an integer from 1 to ${max}, not '${String(value)}'`);
  return n;
}

const text = (value: string | boolean | string[] | undefined): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The settings from parsed `PG_FLAGS` values; a bad value throws a TypeError naming its flag. */
export function postgresSettings(values: FlagValues): PostgresSettings {
  const schema = text(values['pg-schema']) ?? null;
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError(`--pg-schema must be a plain lower-case identifier, not '${schema}'`);
  return {
    host: text(values['pg-host']) ?? '127.0.0.1',
    port: integer(values['pg-port'], 'pg-port', 5432, 65535),
    user: text(values['pg-user']) ?? 'portcullis',
    password: text(values['pg-password']) ?? null,
    database: text(values['pg-database']) ?? 'portcullis',
    ssl: onOff(values['pg-ssl'], 'pg-ssl', false),
    sslVerify: onOff(values['pg-ssl-verify'], 'pg-ssl-verify', false),
    timeoutMs: integer(values['pg-timeout'], 'pg-timeout', 5000, 2_147_483_646),
    schema,
  };
}
