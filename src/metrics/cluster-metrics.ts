/**
 * What `/metrics` says of a node's place in its cluster: how old the configuration it serves is,
 * when it last saw a change, and whether its database and its shared Redis answer and how fast.
 * A node whose `portcullis_config_age_seconds` keeps growing while the others' resets is stale;
 * `portcullis_database_reachable 0` says why.
 *
 * These live in the process that holds them (the primary follows the database; every process that
 * talks to Redis reports its own calls), so with --workers the workers' Redis series are summed by
 * the primary's aggregation (reachability as the minimum: one worker cut off is a node cut off).
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { RedisCallObserver } from '../state/redis/shared-redis.js';

// Seconds; a loopback call is well under a millisecond, a deadline is hundreds of them.
const CALL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface DatabaseFacts {
  readonly reachable: () => boolean;
  /** When a check last found a change (ms since the epoch), or null. */
  readonly lastChangeSeenAt: () => number | null;
}

/** The node's configuration age and its database's facts (in the process that follows the database). */
export class DatabaseMetrics {
  readonly #calls: Histogram<'outcome'> | null = null;

  constructor(registry: Registry, options: { readonly loadedAt: () => Date; readonly database: DatabaseFacts | null }) {
    const registers = [registry];
    new Gauge({
      name: 'portcullis_config_age_seconds',
      aggregator: 'min',
      help: 'Seconds since this node loaded the configuration it serves',
      registers,
      collect() {
        this.set((Date.now() - options.loadedAt().getTime()) / 1000);
      },
    });
    const database = options.database;
    if (database === null) return;
    this.#calls = new Histogram({ name: 'portcullis_database_call_duration_seconds', help: "Time of each of the node's checks of the configuration version in the database, by outcome", labelNames: ['outcome'], buckets: CALL_BUCKETS, registers });
    new Gauge({
      name: 'portcullis_database_reachable',
      aggregator: 'min',
      help: '1 when the last check of the database answered, else 0',
      registers,
      collect() {
        this.set(database.reachable() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'portcullis_config_last_change_seen_seconds',
      aggregator: 'min',
      help: 'Seconds since this node last saw the database on a configuration version it was not serving (-1: not yet)',
      registers,
      collect() {
        const at = database.lastChangeSeenAt();
        this.set(at === null ? -1 : (Date.now() - at) / 1000);
      },
    });
  }

  /** For the change follower: each version check. */
  readonly observer = {
    call: (seconds: number, ok: boolean): void => this.#calls?.observe({ outcome: ok ? 'ok' : 'failed' }, seconds),
  };
}

/** The node's shared Redis (`--redis-url`): reachability and the time of each call. */
export class RedisMetrics implements RedisCallObserver {
  readonly #calls: Histogram<'outcome'>;

  constructor(registry: Registry, reachable: () => boolean) {
    const registers = [registry];
    new Gauge({
      name: 'portcullis_redis_reachable',
      aggregator: 'min',
      help: '1 when the shared Redis (--redis-url) is connected and answered the last call, else 0',
      registers,
      collect() {
        this.set(reachable() ? 1 : 0);
      },
    });
    this.#calls = new Histogram({ name: 'portcullis_redis_call_duration_seconds', help: 'Time of each call to the shared Redis (--redis-url), by outcome', labelNames: ['outcome'], buckets: CALL_BUCKETS, registers });
  }

  call(seconds: number, ok: boolean): void {
    this.#calls.observe({ outcome: ok ? 'ok' : 'failed' }, seconds);
  }
}
