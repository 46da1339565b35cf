import { rootCertificates } from 'node:tls';
import pg from 'pg';
import type { PostgresSettings } from './pg-settings.js';

/**
 * A node-postgres pool for `settings`: every connect and query bounded by `timeoutMs` (a database
 * that stops answering never holds a caller past it), TLS as the settings say, the tables' schema
 * on the search_path.
 */
export function postgresPool(settings: PostgresSettings, options: { readonly max?: number; readonly trustedCaPems?: readonly string[] } = {}): pg.Pool {
  const ca = options.trustedCaPems === undefined || options.trustedCaPems.length === 0 ? undefined : [...rootCertificates, ...options.trustedCaPems];
  const pool = new pg.Pool({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password ?? undefined,
    database: settings.database,
    ssl: settings.ssl ? { rejectUnauthorized: settings.sslVerify, ...(ca === undefined ? {} : { ca }) } : false,
    connectionTimeoutMillis: settings.timeoutMs,
    query_timeout: settings.timeoutMs,
    ...(settings.schema === null ? {} : { options: `-c search_path=${settings.schema}` }),
    max: options.max ?? 4,
    application_name: 'portcullis',
  });
  // An idle connection the server dropped emits 'error' on the pool; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
