/**
 * Kong's prometheus plugin (priority 13, log phase): counts each request of its routes into Kong's
 * series (src/metrics/kong-metrics.ts), served at the admin `GET /metrics` beside Portcullis's own.
 * A request that matched no route is never counted (it runs no plugin), as in Kong.
 */
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { prometheusSchema, type PrometheusConfig } from './schema.js';

export const prometheus: PluginDefinition<PrometheusConfig> = {
  schema: prometheusSchema,
  priority: 13,
  create(config, _entity, env) {
    const metrics = env.node.kongMetrics;
    const release = metrics.attach({ upstreamHealth: config.upstream_health_metrics });
    const { per_consumer: perConsumer, status_code_metrics: statuses, latency_metrics: latencies, bandwidth_metrics: bandwidth } = config;
    // Nothing per request to count: the instance only makes Kong's series (and health gauge) appear.
    if (!statuses && !latencies && !bandwidth) return { close: release };
    return {
      close: release,
      log(ctx, entry) {
        const series = metrics.seriesFor(ctx.route, ctx.service);
        const username = perConsumer ? (ctx.identity?.consumer?.username ?? null) : null;
        const consumer = username === null ? '' : metrics.consumerLabel(username);
        if (statuses) series.countStatus(entry.response.status, entry.source === 'service', consumer);
        if (latencies) {
          const l = entry.latencies;
          if (l.request >= 0) series.request.observe(l.request);
          if (l.proxy >= 0) series.upstream.observe(l.proxy);
          if (l.kong >= 0) series.kong.observe(l.kong);
        }
        if (bandwidth) series.addBandwidth(consumer, entry.requestSize, entry.responseSize);
      },
    };
  },
};
