import type { RequestContext } from '../../pipeline/context.js';
import { GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginDefinition, PluginEnvironment } from '../../pipeline/plugin.js';
import type { CounterWindow, RateCounters } from '../../state/rate-counters.js';
import { logThrottle } from '../../util/log-throttle.js';
import { identifierOf } from './identifier.js';
import { judge } from './limit-headers.js';
import { redisCounters } from './redis-counters.js';
import { rateLimitingSchema, type RateLimitingConfig } from './schema.js';
import { counterKey, counterKeyPrefix, PERIODS, PERIOD_SECONDS, windowOf, type Period } from './windows.js';

/** How often a counter store that keeps failing is logged (every request would flood the log). */
const FAILURE_LOG_INTERVAL_MS = 10_000;

/** Said once per process: every later instance would say it again on each configuration change. */
let warnedClusterWithoutRedis = false;

/**
 * Policy `cluster`: Kong counts in its database, shared by every node; Portcullis counts in the
 * node's shared Redis (`--redis-url`), which every node of a cluster names. Without one there is
 * nothing the nodes share, so the node's own counters count (exact on one node) and it says so.
 */
function clusterCounters(env: PluginEnvironment): RateCounters {
  if (env.node.clusterRateCounters !== null) return env.node.clusterRateCounters;
  if (!warnedClusterWithoutRedis) {
    warnedClusterWithoutRedis = true;
    env.logger.warn("rate-limiting policy 'cluster' without --redis-url: counting in this node's own counters, so each node allows the limit (set --redis-url on every node to share them)");
  }
  return env.node.rateCounters;
}

/**
 * Kong's rate-limiting (priority 910, access phase): fixed UTC windows per configured period,
 * counted by consumer, credential, IP, service, header or path, in the node's counters (`local`)
 * or in Redis (`redis`), with Kong's headers, 429 and `fault_tolerant`.
 */
export const rateLimiting: PluginDefinition<RateLimitingConfig> = {
  schema: rateLimitingSchema,
  priority: 910,
  create(config, entity, env) {
    const periods: Array<{ period: Period; limit: number }> = PERIODS.flatMap((period) => {
      const limit = config[period];
      return limit === null ? [] : [{ period, limit }];
    });
    // The instance's own scope names the counters, not the matched route (Kong's key).
    const keyPrefix = counterKeyPrefix({ route: entity.route, service: entity.service });
    // The node's counters outlive this instance (a reload keeps them); only a Redis client is this instance's to release.
    const redis = config.policy === 'redis' ? redisCounters(config, env) : null;
    const store: RateCounters = redis ?? (config.policy === 'cluster' ? clusterCounters(env) : env.node.rateCounters);
    const failureLogDue = logThrottle(FAILURE_LOG_INTERVAL_MS);

    const storeFailed = (ctx: RequestContext, error: unknown): void => {
      if (failureLogDue()) {
        env.logger.error({ request_id: ctx.id, policy: config.policy, err: error instanceof Error ? error.message : String(error), fault_tolerant: config.fault_tolerant }, 'rate-limiting could not reach its counters');
      }
      if (!config.fault_tolerant) {
        throw new GatewayError({ status: 500, code: 'rate_limit_store_unavailable', message: 'An unexpected error occurred', cause: error });
      }
    };

    return {
      async access(ctx) {
        const now = Date.now();
        const identifier = identifierOf(ctx, config);
        const windows: CounterWindow[] = periods.map(({ period, limit }) => {
          const window = windowOf(period, now);
          return { key: counterKey(keyPrefix, identifier, period, window.startMs), limit, endsAtMs: window.endMs, ttlSeconds: PERIOD_SECONDS[period] };
        });
        let used: readonly number[];
        try {
          used = await store.take(windows);
        } catch (error) {
          // fault_tolerant: the request goes on, unlimited and without headers (Kong).
          return storeFailed(ctx, error);
        }
        const verdict = judge(
          periods.map((p, i) => ({ ...p, used: used[i] ?? 0 })),
          now,
          config.hide_client_headers,
        );
        if (verdict.stopped) throw new GatewayError({ status: config.error_code, code: 'rate_limited', message: config.error_message, headers: verdict.headers });
        Object.assign(ctx.responseHeaders, verdict.headers);
      },
      async close() {
        await redis?.close();
      },
    };
  },
};
