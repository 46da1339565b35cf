/**
 * Keeps a node on the configuration other nodes commit: a LISTEN connection hears each commit at
 * once, and a poll of the version row every `pollMs` (Kong's db_update_frequency) catches what the
 * LISTEN connection missed while it was down (it reconnects with backoff). Either way the node
 * reloads only when the database's version differs from what its store last read or wrote.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { logThrottle } from '../../util/log-throttle.js';
import { CONFIG_CHANNEL, type PostgresConfigStore } from './postgres-config-store.js';
import type { PostgresSettings } from './pg-settings.js';

export interface ChangeFollowerOptions {
  readonly settings: PostgresSettings;
  readonly pool: pg.Pool;
  readonly store: PostgresConfigStore;
  /** Loads and applies the stored configuration (the config manager's refresh). */
  readonly refresh: () => Promise<unknown>;
  /** After each check, this node's report in `cluster_nodes` (its id and the hash it serves). */
  readonly report?: () => Promise<void>;
  readonly logger: Logger;
  readonly pollMs: number;
  /** Told how long each version check took, and whether the database answered (the node's metrics). */
  readonly observer?: { call(seconds: number, ok: boolean): void };
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

export class ChangeFollower {
  readonly #options: ChangeFollowerOptions;
  readonly #shouldLog = logThrottle(10_000);
  #listener: pg.Client | null = null;
  #poll: NodeJS.Timeout | null = null;
  #reconnect: NodeJS.Timeout | null = null;
  #reconnectDelay = RECONNECT_MIN_MS;
  #checking: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #reachable = true;
  #everReached = false;
  #lastChangeSeenAt: number | null = null;

  constructor(options: ChangeFollowerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.#listen();
    this.#poll = setInterval(() => void this.check(), this.#options.pollMs);
    this.#poll.unref();
  }

  /** Whether the database answered the last version check (and the LISTEN connection has not died since). */
  get reachable(): boolean {
    return this.#reachable;
  }

  /** Whether a version check ever answered (a node started from its local copy has not, until then). */
  get everReached(): boolean {
    return this.#everReached;
  }

  /** When a check last found the database on a version this node was not on (ms since the epoch); null: not yet. */
  get lastChangeSeenAt(): number | null {
    return this.#lastChangeSeenAt;
  }

  /** Reloads when the database is ahead; calls made while one runs are folded into one more run. */
  check(): Promise<void> {
    if (this.#checking !== null) {
      this.#again = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      do {
        this.#again = false;
        try {
          const rows = await this.#readVersion();
          this.#reachable = true;
          this.#everReached = true;
          const version = Number(rows[0]?.version ?? 0);
          // Not only ahead: a database restored from a backup is behind, and it is still the truth.
          if (version !== this.#options.store.version) {
            this.#lastChangeSeenAt = Date.now();
            await this.#options.refresh();
          }
          await this.#options.report?.();
        } catch (error) {
          this.#reachable = false;
          if (this.#shouldLog()) this.#options.logger.warn({ err: error }, 'could not read the configuration version from PostgreSQL; serving the last configuration');
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#checking = null;
    });
    return this.#checking;
  }

  /** The version row, timed for the node's metrics. */
  async #readVersion(): Promise<Array<{ version: string }>> {
    const asked = performance.now();
    let ok = false;
    try {
      const { rows } = await this.#options.pool.query<{ version: string }>('SELECT version FROM config_state');
      ok = true;
      return rows;
    } finally {
      this.#options.observer?.call((performance.now() - asked) / 1000, ok);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#poll !== null) clearInterval(this.#poll);
    if (this.#reconnect !== null) clearTimeout(this.#reconnect);
    await this.#checking;
    await this.#listener?.end().catch(() => undefined);
  }

  async #listen(): Promise<void> {
    const s = this.#options.settings;
    const client = new pg.Client({
      host: s.host,
      port: s.port,
      user: s.user,
      password: s.password ?? undefined,
      database: s.database,
      ssl: s.ssl ? { rejectUnauthorized: s.sslVerify } : false,
      connectionTimeoutMillis: s.timeoutMs,
      application_name: 'portcullis-listen',
      // TCP keepalive: a silently dead connection is noticed, and replaced, instead of waiting forever.
      keepAlive: true,
    });
    client.on('notification', () => void this.check());
    // A client's 'error' and 'end' (both come when a connection dies) concern that client only: a
    // stale one's must not take down the connection that replaced it.
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      if (this.#listener === null || this.#listener === client) this.#listenFailed(error);
      void client.end().catch(() => undefined);
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('the LISTEN connection closed')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CONFIG_CHANNEL}`);
    } catch (error) {
      fail(error);
      return;
    }
    if (failed) return;
    this.#listener = client;
    this.#reconnectDelay = RECONNECT_MIN_MS;
    // Whatever was committed while this connection was being made.
    void this.check();
  }

  #listenFailed(error: unknown): void {
    if (this.#stopped || this.#reconnect !== null) return;
    this.#reachable = false;
    const old = this.#listener;
    this.#listener = null;
    void old?.end().catch(() => undefined);
    if (this.#shouldLog()) this.#options.logger.warn({ err: error }, 'the PostgreSQL change notifications stopped; reconnecting (polling meanwhile)');
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
    this.#reconnect = setTimeout(() => {
      this.#reconnect = null;
      void this.#listen();
    }, delay);
    this.#reconnect.unref();
  }
}
